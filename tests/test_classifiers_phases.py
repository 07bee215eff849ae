"""The quality stage in a run: tags quality_score/domain, keeps by threshold or top-k%, counts drops."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from classifiers.config import FastTextParams, QualityConfig, TrainConfig
from classifiers.phases import run, tie_hashes, top_percent_cuts
from classifiers.synthetic import make_corpus, truth_labels
from classifiers.train import train_classifier
from curation.config import ConfigError, PipelineConfig, parse_config
from curation.io import fs
from curation.runtime import executor
from curation.runtime.context import RunContext
from curation.schema import get_signal, make_documents


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A fastText quality model and a fastText domain model, trained on known truth."""
    root = tmp_path_factory.mktemp("models")
    docs = make_corpus(500, seed=21)
    fs.write_parquet(truth_labels(docs, "quality"), str(root / "quality.parquet"))
    fs.write_parquet(truth_labels(docs, "domain"), str(root / "domain.parquet"))
    train_classifier(str(root / "quality.parquet"), str(root / "quality"))
    cfg = TrainConfig(target="multiclass", fasttext=FastTextParams(lr=0.5, epoch=25))
    train_classifier(str(root / "domain.parquet"), str(root / "domain"), cfg)
    return str(root / "quality"), str(root / "domain")


def write_parts(folder, n_parts=3, per_part=40):
    docs = make_corpus(n_parts * per_part, seed=22)
    parts = []
    for p in range(n_parts):
        chunk = docs[p * per_part : (p + 1) * per_part]
        table = make_documents(
            {
                "id": [d["id"] for d in chunk],
                "text": [d["text"] for d in chunk],
                "source": ["web" if i % 2 else "forum" for i in range(len(chunk))],
                "lang": ["en"] * len(chunk),
            }
        )
        path = str(folder / f"part-{p:05d}.parquet")
        fs.write_parquet(table, path)
        parts.append(path)
    return parts, {d["id"]: d for d in docs}


def make_ctx(tmp_path, **quality):
    config = PipelineConfig.model_validate({"quality": {"enabled": True, **quality}})
    return RunContext(config, str(tmp_path / "run"))


def read_all(parts):
    return pa.concat_tables([fs.read_parquet(p) for p in parts])


def test_threshold_filters_and_tags(tmp_path, models):
    quality, domain = models
    parts, truth = write_parts(tmp_path)
    ctx = make_ctx(tmp_path, model=quality, domain_model=domain)
    out = run(ctx, parts)

    kept = read_all(out)
    manifest = ctx.manifest()
    score_phase, select_phase = manifest["phases"]
    assert score_phase["name"] == "quality_score" and score_phase["in"] == score_phase["out"] == 120
    assert sum(v for k, v in score_phase["counters"].items() if k.startswith("domain.")) == 120
    assert select_phase["name"] == "quality_select" and select_phase["in"] == 120
    dropped = select_phase["rejected"]["quality.below_threshold"]
    assert select_phase["out"] == kept.num_rows == 120 - dropped
    spam = sum(not d["good"] for d in truth.values())
    assert abs(dropped - spam) <= 6  # the model is good, not perfect

    assert pc.min(kept.column("quality_score")).as_py() >= 0.5
    assert get_signal(kept, "quality_score").to_pylist() == kept.column("quality_score").to_pylist()
    ids, domains = kept.column("id").to_pylist(), kept.column("domain").to_pylist()
    right = sum(truth[i]["domain"] == d for i, d in zip(ids, domains))
    assert right / kept.num_rows >= 0.9
    rejects = [p for phase, p in ctx.reject_files() if phase == "quality_select"]
    assert sum(fs.read_parquet(p).num_rows for p in rejects) == dropped

    # Same input + config: the same bytes; a new threshold reruns only the selection.
    again = make_ctx(tmp_path, model=quality, domain_model=domain)
    assert [fs.read_bytes(p) for p in run(again, parts)] == [fs.read_bytes(p) for p in out]
    assert all(p["resumed_tasks"] == p["tasks"] for p in again.manifest()["phases"])
    stricter = make_ctx(tmp_path, model=quality, domain_model=domain, threshold=0.99)
    run(stricter, parts)
    score_again, select_again = stricter.manifest()["phases"]
    assert score_again["resumed_tasks"] == 3 and select_again["resumed_tasks"] == 0


def test_top_percent_per_group(tmp_path, models):
    quality, _ = models
    parts, _ = write_parts(tmp_path)
    ctx = make_ctx(tmp_path, model=quality, top_percent=10, group_by=["source"])
    kept = read_all(run(ctx, parts))
    assert sorted(kept.column("source").to_pylist()) == ["forum"] * 6 + ["web"] * 6  # ceil(10% of 60) each
    select = next(p for p in ctx.manifest()["phases"] if p["name"] == "quality_select")
    assert select["rejected"] == {"quality.below_top_percent": 108}
    scored = read_all(run(make_ctx(tmp_path, model=quality, threshold=0.0), parts))
    for source in ("forum", "web"):  # the kept documents are the group's best scores
        group = sorted(scored.filter(pc.equal(scored.column("source"), source)).column("quality_score").to_pylist())
        best = kept.filter(pc.equal(kept.column("source"), source)).column("quality_score").to_pylist()
        assert min(best) >= group[-6]


@pytest.mark.parametrize("percent", [1, 10, 37.5, 100])
def test_top_percent_cut_is_exact_with_ties_and_keeps_nothing_per_document(tmp_path, percent):
    """The cut from per-part histograms equals sorting every (score desc, tie hash) of each group,
    with many documents tied on the same score (fastText saturates), across parts."""
    rng = np.random.default_rng(7)
    parts, rows = [], []
    for p in range(4):
        n = 150
        ids = [f"p{p}-{i:04d}" for i in range(n)]
        scores = np.where(rng.random(n) < 0.4, 1.0, rng.choice([0.25, 0.5, 0.75], n) + rng.random(n) * (p % 2) * 1e-3)
        groups = rng.choice(["a", "b", "c"], n)
        table = make_documents({"id": ids, "text": ["t"] * n, "source": groups.tolist(),
                                "quality_score": pa.array(scores, pa.float32())})
        path = str(tmp_path / f"part-{p:05d}.parquet")
        fs.write_parquet(table, path)
        parts.append(path)
        ties = tie_hashes(table, seed=3).tolist()
        rows += list(zip(groups.tolist(), np.float32(scores).astype(float).tolist(), ties))
    ctx = make_ctx(tmp_path, model="unused")
    cuts = top_percent_cuts(ctx, parts, ("source",), percent, seed=3)
    for group in ("a", "b", "c"):
        ranked = sorted(((-s, h) for g, s, h in rows if g == group))
        last = ranked[math.ceil(len(ranked) * percent / 100) - 1]
        score, tie = cuts[f'["{group}"]']
        assert score == -last[0] and (tie == last[1] or (tie == 1.0 and all(r[0] != last[0] for r in ranked[
            ranked.index(last) + 1:])))
        kept = sum(1 for r in ranked if -r[0] > score or (-r[0] == score and r[1] <= tie))
        assert kept == math.ceil(len(ranked) * percent / 100)
    assert all(p["name"] == "quality_cut" for p in ctx.manifest()["phases"])


def test_domain_only_keeps_everything(tmp_path, models):
    _, domain = models
    parts, _ = write_parts(tmp_path, n_parts=1)
    ctx = make_ctx(tmp_path, domain_model=domain)
    kept = read_all(run(ctx, parts))
    assert kept.num_rows == 40 and kept.column("domain").null_count == 0
    assert kept.column("quality_score").null_count == 40


def test_config_needs_a_model():
    assert QualityConfig().enabled is False
    with pytest.raises(ConfigError, match="quality.model, quality.domain_model or quality.reference_model"):
        parse_config({"quality": {"enabled": True}})
    with pytest.raises(ConfigError, match="unknown config key 'quality.treshold'"):
        parse_config({"quality": {"treshold": 3}})


@pytest.mark.slow
def test_same_bytes_on_ray(tmp_path, models, ray_local):
    quality, domain = models
    parts, _ = write_parts(tmp_path, n_parts=4, per_part=20)
    on_ray = run(make_ctx(tmp_path / "ray", model=quality, domain_model=domain), parts)
    executor.configure(use_ray=False, max_in_flight=1, progress=False)
    try:
        local = run(make_ctx(tmp_path / "local", model=quality, domain_model=domain), parts)
    finally:
        executor.configure(use_ray=True, max_in_flight=2, progress=False)
    assert [fs.read_bytes(p) for p in on_ray] == [fs.read_bytes(p) for p in local]

"""The quality stage in a run: tags quality_score/domain, keeps by threshold or top-k%, counts drops."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from classifiers.config import FastTextParams, QualityConfig, TrainConfig
from classifiers.phases import run
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
    select = ctx.manifest()["phases"][1]
    assert select["rejected"] == {"quality.below_top_percent": 108}
    scored = read_all(run(make_ctx(tmp_path, model=quality, threshold=0.0), parts))
    for source in ("forum", "web"):  # the kept documents are the group's best scores
        group = sorted(scored.filter(pc.equal(scored.column("source"), source)).column("quality_score").to_pylist())
        best = kept.filter(pc.equal(kept.column("source"), source)).column("quality_score").to_pylist()
        assert min(best) >= group[-6]


def test_domain_only_keeps_everything(tmp_path, models):
    _, domain = models
    parts, _ = write_parts(tmp_path, n_parts=1)
    ctx = make_ctx(tmp_path, domain_model=domain)
    kept = read_all(run(ctx, parts))
    assert kept.num_rows == 40 and kept.column("domain").null_count == 0
    assert kept.column("quality_score").null_count == 40


def test_config_needs_a_model():
    assert QualityConfig().enabled is False
    with pytest.raises(ConfigError, match="quality.model or quality.domain_model"):
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

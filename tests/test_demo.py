"""The demo path end to end through the CLI: sample crawl -> run -> stats/explain -> notebooks.

Then the same run again with a quality model trained on labels: only the new phases run, and the
classifier report notebook draws its figures from the real run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from classifiers.config import TrainConfig
from classifiers.train import train_classifier
from curation.io import fs
from helpers import BIN
from test_notebooks import assert_figures, execute, write_labels

pytestmark = [pytest.mark.slow, pytest.mark.ray]
CONFIG = Path(__file__).parents[1] / "configs" / "quickstart.yaml"


def curate(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BIN / "curate"), *args], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("demo")
    crawl, run = root / "crawl.warc.gz", root / "run"
    curate("sample-crawl", str(crawl), "--docs", "400", "--seed", "3")
    printed = curate("run", str(CONFIG), "--input", str(crawl), "--output", str(run), "--set", "runtime.progress=false")
    truth = [json.loads(line) for line in (root / "crawl.truth.jsonl").read_text().splitlines()]
    return {"root": root, "run": run, "printed": printed.stdout, "truth": truth}


def test_every_page_is_a_document_or_a_counted_rejection(demo):
    manifest = fs.read_json(str(demo["run"] / "manifest.json"))
    names = [p["name"] for p in manifest["phases"]]
    for phase in ("extract", "filters.decide", "dedup.url", "dedup.exact", "dedup.minhash", "dedup.lines", "pack"):
        assert phase in names
    extract = manifest["phases"][0]
    assert extract["in"] == len(demo["truth"])  # every response record of the crawl
    docs = sum(pq.read_metadata(p).num_rows for p in (demo["run"] / "docs").glob("*.parquet"))
    rejected = sum(sum(p["rejected"].values()) for p in manifest["phases"])
    assert docs + rejected == len(demo["truth"]) and docs > 0
    assert "Funnel" in demo["printed"] and "filters.decide" in demo["printed"]
    shards = fs.read_json(str(demo["run"] / "shards" / "manifest.json"))
    assert shards["seq_len"] == 8192 and shards["counts"]["docs"] == docs


def test_spam_and_adult_pages_are_dropped_good_articles_kept(demo):
    kept = {i for p in (demo["run"] / "docs").glob("*.parquet") for i in pq.read_table(p, columns=["id"])["id"].to_pylist()}
    by_kind: dict[str, list[bool]] = {}
    for page in demo["truth"]:
        by_kind.setdefault(page["kind"], []).append(page["id"] in kept)
    assert not any(by_kind["adult"]) and not any(by_kind["keyword_spam"])
    copies = [page for page in demo["truth"] if page["kind"] == "exact_dup"]
    assert copies and not any(page["id"] in kept and page["dup_of"] in kept for page in copies)
    assert sum(by_kind["article"]) / len(by_kind["article"]) > 0.8


def test_stats_and_explain(demo):
    stats = json.loads(curate("stats", str(demo["run"]), "--json").stdout)
    assert stats["shards"]["total"]["rows"] > 0 and stats["funnel"]
    adult = next(p["id"] for p in demo["truth"] if p["kind"] == "adult")
    report = json.loads(curate("explain", str(demo["run"]), adult).stdout)
    assert report["kept"] is False and report["reason"].startswith("gate.url.")  # dropped before extraction
    assert report["gate"]["name"] == "url" and report["gate"]["when"] == "before extraction"
    missing = subprocess.run([str(BIN / "curate"), "explain", str(demo["run"]), "no-such-id"], capture_output=True,
                             text=True)
    assert missing.returncode == 2 and "no-such-id" in missing.stderr


def test_shard_notebook_on_the_demo_output(demo, monkeypatch):
    execute("shard_stats.ipynb", demo["run"], monkeypatch)
    assert_figures(demo["run"], {"documents_per_row", "document_lengths", "tokens_per_source"})


def test_rerun_with_a_quality_model_runs_only_the_new_phases(demo, monkeypatch):
    model = demo["root"] / "model"
    train_classifier(write_labels(demo["root"] / "labels.parquet", 300, seed=1), str(model), TrainConfig(seed=0))
    curate("run", str(CONFIG), "--input", str(demo["root"] / "crawl.warc.gz"), "--output", str(demo["run"]),
           "--set", "runtime.progress=false", "--set", "quality.enabled=true", "--set", f"quality.model={model}")
    phases = {p["name"]: p for p in fs.read_json(str(demo["run"] / "manifest.json"))["phases"]}
    assert phases["extract"]["resumed_tasks"] == phases["extract"]["tasks"]
    assert phases["filters.signals"]["resumed_tasks"] == phases["filters.signals"]["tasks"]
    assert phases["quality_score"]["resumed_tasks"] == 0
    scores = [s for p in (demo["run"] / "docs").glob("*.parquet")
              for s in pq.read_table(p, columns=["quality_score"])["quality_score"].to_pylist()]
    assert scores and all(s is not None and 0 <= s <= 1 for s in scores)
    execute("classifier_report.ipynb", demo["run"], monkeypatch)
    assert_figures(demo["run"], {"score_distribution"})

"""The demo path end to end through the CLI: sample crawl -> run -> stats/explain -> notebooks.

Then the mission of ``make demo``: the bundled SmolLM2-135M labels a sample of the run for quality
and domain (logprob mode), both classifiers are trained on those labels, and the same run again
with quality selection, domains and the Llama 3 mix runs only the new phases. The quality
classifier trained on the LLM's labels must rank the crawl's known good pages above its spam.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from classifiers.config import FastTextParams, TrainConfig
from classifiers.evaluate import roc_auc
from classifiers.label import label
from classifiers.model import Classifier
from classifiers.prompts import DOMAIN_TAXONOMY, LLAMA3_QUALITY_BINARY
from classifiers.train import train_classifier
from curation.io import fs
from helpers import BIN
from test_notebooks import assert_figures, execute

GOOD = {"article", "code", "math"}  # article pages of high or medium quality, code and maths
SPAM = {"keyword_spam", "link_farm", "product_list", "repetitive", "short_lines"}
# The goal. Measured here with SmolLM2-135M labels (llama3_quality@3, calibrated): 0.9997, against
# 0.61 with @2 (then a strict xfail). The prompt was chosen on crawls of seeds 7 and 11, never this one; the
# same 60-label training gives 0.74 and 0.83 there (0.55 and 0.65 with @2): the figure swings with the crawl
# and the sample, so this test guards the labeller's quality on one fixed crawl, not a general bound.
AUC_FLOOR = 0.8

pytestmark = [pytest.mark.slow, pytest.mark.ray]
CONFIG = Path(__file__).parents[1] / "configs" / "multilingual.yaml"  # as `make demo` (DEMO_CONFIG)


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


def page_files(run: Path) -> list[str]:
    """Every extracted page of the run: curated documents and the rejects of the phases after extraction
    (extraction's own rejects carry no text)."""
    return sorted(str(p) for folder in ("docs", "rejects") for p in (run / folder).glob("*.parquet")
                  if not p.name.startswith("extract"))


@pytest.fixture(scope="module")
def llm_models(demo, bundled_llm) -> dict:
    """``make demo``'s labelling and training on the demo run: the bundled model labels a sample of the
    extracted pages for quality and domain; a soft quality model and a domain model learn from them."""
    root, files = demo["root"], page_files(demo["run"])
    out = {}
    for name, prompt in (("quality", LLAMA3_QUALITY_BINARY), ("domain", DOMAIN_TAXONOMY)):
        labels = str(root / f"{name}-labels.parquet")
        out[f"{name}_summary"] = label(files, labels, prompt=prompt, backend=bundled_llm, samples=60, max_chars=400,
                                       stratify_by=())  # fmt: skip
        target = {"target": "multiclass", "fasttext": FastTextParams(lr=1.0, epoch=50)} if name == "domain" else {}
        out[f"{name}_eval"] = train_classifier(labels, str(root / name), TrainConfig(seed=0, **target))
        out[name] = root / name
    return out


def test_llm_labels_cover_every_sampled_page(llm_models):
    for name in ("quality", "domain"):
        summary = llm_models[f"{name}_summary"]
        assert summary["sampled"] == 60 and summary["ok"] == 60 and summary["unparseable"] == 0  # parse rate 100%


def test_classifier_from_llm_labels_ranks_good_pages_above_spam(demo, llm_models):
    """A test that can fail on quality: AUC of the LLM-labelled classifier, good pages vs spam (with
    llama3_quality@2's labels it reached 0.61)."""
    kinds = {t["id"]: t["kind"] for t in demo["truth"] if t["kind"] in SPAM or (
        t["kind"] in GOOD and t.get("quality", "high") in ("high", "medium"))}
    texts: dict[str, str] = {}
    for path in page_files(demo["run"]):
        table = pq.read_table(path, columns=["id", "text"])
        texts.update((i, t) for i, t in zip(table["id"].to_pylist(), table["text"].to_pylist()) if i in kinds and t)
    ids = sorted(texts)
    truth = [kinds[i] not in SPAM for i in ids]
    assert sum(truth) > 50 and len(truth) - sum(truth) > 10
    scores = Classifier(str(llm_models["quality"])).predict([texts[i] for i in ids]).scores
    auc = roc_auc(truth, scores)
    print(f"AUC good vs spam of the classifier trained on SmolLM2-135M labels: {auc}")
    assert auc >= AUC_FLOOR, auc


def test_rerun_with_quality_domain_and_mix_runs_only_the_new_phases(demo, llm_models, monkeypatch):
    curate("run", str(CONFIG), "--input", str(demo["root"] / "crawl.warc.gz"), "--output", str(demo["run"]),
           "--set", "runtime.progress=false", "--set", "quality.enabled=true",
           "--set", f"quality.model={llm_models['quality']}", "--set", f"quality.domain_model={llm_models['domain']}",
           "--set", "quality.top_percent=60", "--set", "mix.preset=llama3")  # fmt: skip
    phases = {p["name"]: p for p in fs.read_json(str(demo["run"] / "manifest.json"))["phases"]}
    for done in ("extract", "filters.signals", "dedup.minhash"):
        assert phases[done]["resumed_tasks"] == phases[done]["tasks"], done
    assert phases["quality_score"]["resumed_tasks"] == 0 and any(name.startswith("mix.") for name in phases)
    docs = pa.concat_tables([pq.read_table(p, columns=["quality_score", "domain"])
                             for p in (demo["run"] / "docs").glob("*.parquet")])  # fmt: skip
    assert docs.num_rows > 0 and docs["quality_score"].null_count == 0 and docs["domain"].null_count == 0
    assert all(0 <= s <= 1 for s in docs["quality_score"].to_pylist())
    assert (demo["run"] / "stats" / "mix_report.txt").exists()
    execute("classifier_report.ipynb", demo["run"], monkeypatch)
    assert_figures(demo["run"], {"score_distribution"})

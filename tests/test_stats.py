"""Run statistics on a run folder written from the schemas: funnel, distributions, shards, dedup clusters."""

from __future__ import annotations

import json
import random
import shutil

import numpy as np
import pyarrow as pa
import pytest
from rich.console import Console

from curation.io import fs
from curation.schema import SHARD_SCHEMA
from curation.stats import StatsError, compute_run_stats, load_run_stats, print_run_stats, stats_command
from curation.stats.shards import segments
from stats_run import SOURCES, make_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    truth = make_run(root)
    return root, truth, compute_run_stats(str(root))


def test_shard_statistics_match_the_packing(run):
    _, truth, stats = run
    total = stats["shards"]["total"]
    assert total["rows"] == truth["rows"] and total["seq_len"] == truth["seq_len"]
    assert total["tokens"] == truth["rows"] * truth["seq_len"]
    assert total["pad_tokens"] == truth["pad_tokens"]
    assert total["document_tokens"] == sum(truth["tokens"].values())
    assert total["padding_share"] == pytest.approx(truth["pad_tokens"] / total["tokens"], abs=1e-6)
    assert total["documents"] == truth["documents"]
    assert total["split_documents"] == len(truth["split"])
    assert total["documents_per_row"]["count"] == truth["rows"]
    assert sum(total["documents_per_row"]["counts"].values()) == truth["rows"]
    assert total["tokens_per_document"]["max"] == max(truth["tokens"].values())
    assert set(stats["shards"]["splits"]) == {"train", "validation"}
    assert stats["shards"]["splits"]["train"]["rows"] == truth["train_rows"]
    assert stats["shards"]["manifest"]["seq_len"] == truth["seq_len"]


def test_document_distributions_and_tokens_per_source(run):
    _, truth, stats = run
    docs = stats["documents"]
    assert docs["documents"] == truth["documents"]
    assert docs["chars"]["sum"] == sum(truth["chars"].values())
    assert docs["tokens"]["sum"] == sum(truth["tokens"].values())
    assert 0.5 <= docs["quality_score"]["min"] <= docs["quality_score"]["max"] <= 1
    assert sum(docs["quality_score"]["histogram"]["counts"]) == truth["documents"]
    by_source = docs["shares"]["source"]
    assert set(by_source) == set(SOURCES)
    assert sum(e["tokens"] for e in by_source.values()) == sum(truth["tokens"].values())
    assert sum(e["tokens_share"] for e in by_source.values()) == pytest.approx(1, abs=1e-4)
    assert "(none)" in docs["shares"]["lang"]  # documents without a language are counted, not dropped
    assert docs["shard_documents_not_in_docs"] == 0


def test_funnel_and_dedup_clusters(run):
    _, truth, stats = run
    funnel = stats["funnel"]
    assert [p["phase"] for p in funnel["phases"]] == ["extract", "dedup.minhash.clusters", "quality", "pack"]
    assert funnel["documents_in"] == funnel["phases"][0]["in"] == truth["documents_in"]
    assert funnel["documents_out"] == truth["documents"]
    assert funnel["rejected_by_reason"]["quality.threshold"] == truth["rejected_quality"]
    assert funnel["phases"][-1]["tokens_out"] == funnel["tokens_out"] == sum(truth["tokens"].values())
    clusters = stats["dedup"]["dedup.minhash.clusters"]
    assert clusters["clusters"] == 3 and clusters["documents"] == 9 and clusters["duplicates"] == 6
    assert clusters["size_counts"] == {"2": 1, "3": 1, "4": 1}


def test_stats_are_written_and_read_back_until_the_manifest_changes(run, tmp_path):
    root, _, stats = run
    assert {p.name for p in (root / "stats").glob("*.json")} == {f"{s}.json" for s in stats}
    assert load_run_stats(str(root)) == json.loads(json.dumps(stats))
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    (copy / "manifest.json").write_text((copy / "manifest.json").read_text().replace('"tasks": 1', '"tasks": 3'))
    assert load_run_stats(str(copy)) is None  # stale: a re-run rewrote the manifest


def test_stats_command_prints_tables_and_json(run, capsys, tmp_path):
    root, truth, _ = run
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    shutil.rmtree(copy / "stats")
    stats_command(str(copy), as_json=True)  # computes the missing stats/ and stores them
    printed = json.loads(capsys.readouterr().out)
    assert printed["shards"]["total"]["rows"] == truth["rows"]
    assert (copy / "stats" / "shards.json").exists()
    console = Console(record=True, width=160)
    print_run_stats(printed, console)
    text = console.export_text()
    for title in ("Funnel", "Documents", "URLs on", "By source", "Duplicate clusters", "Shards", "quality.threshold"):
        assert title in text


def test_a_shard_folder_alone(run, capsys):
    root, truth, _ = run
    stats_command(str(root / "shards"), as_json=True)
    printed = json.loads(capsys.readouterr().out)
    assert printed["shards"]["total"]["rows"] == truth["rows"] and "documents" not in printed
    assert not (root / "shards" / "stats").exists()


def test_run_without_shards_or_classifier(tmp_path):
    make_run(tmp_path, docs=30, quality=False)
    shutil.rmtree(tmp_path / "shards")
    stats = compute_run_stats(str(tmp_path))
    assert stats["shards"] is None and stats["documents"]["tokens"] is None
    assert stats["documents"]["quality_score"] == {"count": 0}
    assert stats["funnel"]["tokens_out"] is None
    console = Console(record=True, width=160)
    print_run_stats(stats, console)
    assert "no shards" in console.export_text()


def test_not_a_run_folder(tmp_path):
    with pytest.raises(StatsError, match="neither a run folder"):
        stats_command(str(tmp_path / "missing"), as_json=False)


def test_segments_from_cu_seqlens():
    rows = pa.Table.from_pylist([
        {"input_ids": [0] * 8, "cu_seqlens": [0, 3, 8], "doc_ids": ["a", "b"], "seg_offsets": [5, 0]},
        {"input_ids": [0] * 8, "cu_seqlens": [0, 2, 6, 8], "doc_ids": ["b", "c", ""], "seg_offsets": [5, 0, 0]},
    ], schema=SHARD_SCHEMA)
    seg = segments(rows)
    assert seg["length"].tolist() == [3, 5, 2, 4, 2]
    assert seg["row"].tolist() == [0, 0, 1, 1, 1]
    assert seg["doc_id"].to_pylist() == ["a", "b", "b", "c", ""]
    assert seg["offset"].tolist() == [5, 0, 5, 0, 0]
    assert seg["row_tokens"].tolist() == [8, 8]


def test_up_sampled_copies_count_for_their_original_document():
    from curation.stats.documents import tokens_by_base_id

    packed = pa.table({"id": ["a", "a#rep1", "a#rep2", "b"], "tokens": [10, 10, 10, 4]})
    assert sorted(tokens_by_base_id(packed).to_pylist(), key=lambda r: r["id"]) == [
        {"id": "a", "tokens": 30}, {"id": "b", "tokens": 4}]


def test_agrees_with_the_pack_phase_on_real_shards(tmp_path):
    """Shards written by the real pack phase (Llama 3 tokenizer, in-process): the counts match its manifest."""
    from curation.config import parse_config
    from curation.io import fs
    from curation.pack import phases as pack
    from curation.runtime.context import RunContext
    from curation.schema import make_documents
    from stats_run import WORDS

    rng = random.Random(3)
    cfg = parse_config({"pack": {"seq_len": 128, "validation_fraction": 0.2, "rows_per_shard": 4}})
    ctx = RunContext(cfg, str(tmp_path))
    parts = []
    for p in range(2):
        ids = [f"p{p}-{i}" for i in range(30)]
        texts = [" ".join(rng.choices(WORDS, k=rng.randint(5, 300))) for _ in ids]
        path = str(tmp_path / "work" / "in" / f"part-{p:05d}.parquet")
        fs.write_parquet(make_documents({"id": ids, "text": texts, "source": [f"s{p}"] * 30}), path)
        parts.append(path)
    ctx.publish("docs", [(path.rsplit("/", 1)[-1], path) for path in parts])
    counts = pack.run(ctx, parts)["counts"]
    fs.write_json(str(tmp_path / "manifest.json"), ctx.manifest())

    stats = compute_run_stats(str(tmp_path))
    total = stats["shards"]["total"]
    assert total["rows"] == counts["rows"] and total["pad_tokens"] == counts["padding_tokens"]
    assert total["document_tokens"] == counts["tokens"] and total["documents"] == counts["docs"]
    assert total["split_documents"] == counts["split_docs"] and total["segments"] == counts["segments"]
    assert total["documents_per_row"]["mean"] == pytest.approx(counts["docs_per_row"], rel=1e-5)
    assert stats["shards"]["splits"]["validation"]["rows"] == counts["validation_rows"] > 0
    assert stats["documents"]["tokens"]["sum"] == counts["tokens"]
    assert sum(e["tokens"] for e in stats["documents"]["shares"]["source"].values()) == counts["tokens"]


def test_statistics_are_merged_summaries_whatever_the_id_partitions(run, tmp_path, monkeypatch):
    """Per-file summaries are O(distinct values), and the number of id partitions changes no figure."""
    from curation.stats import documents, tokens

    root, truth, stats = run
    summary, _ = documents.file_summary(str(root / "docs" / "part-00000.parquet"))
    assert len(summary["chars"]) <= 2000 and summary["documents"] == truth["documents"] // 2
    flat = pa.table({"text": ["abc"] * 5000, "url": [f"https://H{j % 7}.org/{j}" for j in np.arange(5000) % 1000],
                     "quality_score": [0.25] * 5000})
    fs.write_parquet(flat, str(tmp_path / "part-00000.parquet"))
    big, _ = documents.file_summary(str(tmp_path / "part-00000.parquet"))
    assert big["chars"] == {3.0: 5000} and big["quality_score"] == {0.25: 5000}  # a map of values, not documents
    assert abs(big["urls"].count() - 1000) < 30 and round(big["hosts"].count()) == 7  # HyperLogLog estimates
    monkeypatch.setattr(tokens, "partition_count", lambda paths: 13)  # the shuffle by id over 13 partitions
    again = compute_run_stats(str(root), write=False)
    assert {k: again[k] for k in ("documents", "shards")} == {k: stats[k] for k in ("documents", "shards")}
    assert not list((root / "work" / "stats").rglob("*.arrow"))  # the shuffle files are removed


def test_statistics_as_ray_tasks(run, ray_local):
    root, _, stats = run
    on_ray = compute_run_stats(str(root), write=False)
    assert {k: on_ray[k] for k in ("documents", "shards", "dedup")} == {k: stats[k] for k in ("documents", "shards", "dedup")}


def test_hyperloglog_equals_datasketch(shared_data):
    """``stats.hll`` keeps the registers and estimates of datasketch's HyperLogLog++ (p=14, 64-bit
    xxhash) that earlier runs' figures came from: on the shared crawl's URLs and hosts, empty, in
    linear counting, around its threshold, in the bias-corrected range and above it; merged pickles too."""
    import pickle

    import pyarrow.compute as pc
    import xxhash
    from datasketch import HyperLogLogPlusPlus
    from datasketch.hyperloglog_const import _bias, _raw_estimate, _thresholds

    from curation.stats import hll, hll_bias
    from curation.stats.documents import HOST, sketch

    assert hll_bias.THRESHOLD == _thresholds[hll.P - 4]
    assert np.array_equal(hll_bias.RAW_ESTIMATES, _raw_estimate[hll.P - 4])
    assert np.array_equal(hll_bias.BIASES, _bias[hll.P - 4])

    def theirs(values: list, hashfunc=xxhash.xxh64_intdigest) -> HyperLogLogPlusPlus:
        reference = HyperLogLogPlusPlus(p=hll.P, hashfunc=hashfunc)
        for value in values:
            reference.update(value)
        return reference

    def same(ours: hll.HyperLogLog, reference: HyperLogLogPlusPlus) -> None:
        assert np.array_equal(ours.registers, reference.reg) and ours.count() == reference.count()

    lines = (shared_data / "crawl" / "bench-pages.manifest.jsonl").read_text().splitlines()
    urls = pa.array([json.loads(line)["url"] for line in lines] + [None, ""])
    hosts = pc.utf8_lower(pc.struct_field(pc.extract_regex(urls, HOST), [0]))
    for values in (urls, hosts, urls.slice(0, 0)):
        same(sketch(values), theirs([v.encode() for v in values.to_pylist() if v]))

    rng = np.random.default_rng(0)
    edges = np.array([0, 1, (1 << 14) - 1, 1 << 14, 1 << 63, (1 << 64) - 1, ((1 << 50) - 1) << 14], np.uint64)
    parts = []
    for n in (1, 5, 1000, 11000, 12500, 40000, 90000, 200000):  # linear counting up to ~11,500; 5m = 81,920
        hashes = np.concatenate([rng.integers(0, 1 << 64, n, np.uint64, endpoint=False), edges])
        ours = hll.HyperLogLog()
        ours.add(hashes)
        same(ours, theirs(hashes.tolist(), hashfunc=int))
        parts.append((ours, hashes))
    merged, reference = pickle.loads(pickle.dumps(parts[0][0])), theirs([])
    for ours, hashes in parts:
        merged.merge(pickle.loads(pickle.dumps(ours)))
        reference.merge(theirs(hashes.tolist(), hashfunc=int))
    same(merged, reference)

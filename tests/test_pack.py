"""Tokenize + pack: token conservation, padding accounting, splits, determinism, packing plans."""

from __future__ import annotations

import functools
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from tokenizers import Tokenizer

from curation.common.tokenizer import get_tokenizer, llama3_tokenizer_path
from curation.config import parse_config
from curation.io import fs
from curation.pack import phases
from curation.pack.packing import plan_best_fit, plan_concat
from curation.runtime.context import RunContext
from curation.schema import SHARD_SCHEMA, make_documents

WORDS = "the of data model token rows pack shard mask learning llama attention 3.14 x=y+1 déjà 数据 🙂".split()


def make_texts(n: int, seed: int = 0, max_words: int = 300) -> list[str]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_words, size=n)
    return [" ".join(rng.choice(WORDS, size=k)) for k in lengths]


def write_parts(folder: Path, texts: list[str], parts: int, **columns: list) -> list[str]:
    """Documents ``doc-<i>`` split into ``parts`` part files."""
    paths = []
    for p, chunk in enumerate(np.array_split(np.arange(len(texts)), parts)):
        cols = {"id": [f"doc-{i}" for i in chunk], "text": [texts[i] for i in chunk]}
        cols |= {k: [v[i] for i in chunk] for k, v in columns.items()}
        path = str(folder / "in" / f"part-{p:05d}.parquet")
        fs.write_parquet(make_documents(cols), path)
        paths.append(path)
    return paths


def pack_run(run_dir: Path, parts: list[str], seed: int = 0, **pack: object) -> dict:
    ctx = RunContext(parse_config({"seed": seed, "pack": pack}), str(run_dir))
    return phases.run(ctx, parts)


def read_shards(shard_dir: Path) -> dict[str, pa.Table]:
    return {p.rsplit("/", 1)[-1]: fs.read_parquet(p) for p in fs.listdir(str(shard_dir), ".parquet")}


@functools.cache
def reference_tokenizer() -> Tokenizer:
    return Tokenizer.from_file(llama3_tokenizer_path())


def reference_tokens(text: str) -> list[int]:
    """Independent encoding: the Llama 3 post-processor adds BOS; EOS appended by hand."""
    return reference_tokenizer().encode(text).ids + [128001]


@pytest.mark.parametrize("mode", ["concat", "best_fit"])
def test_every_token_once_in_document_order(tmp_path: Path, mode: str) -> None:
    texts = make_texts(60) + ["", "short"]
    parts = write_parts(tmp_path, texts, parts=3)
    seq_len = 128
    manifest = pack_run(tmp_path / "run", parts, seq_len=seq_len, mode=mode, validation_fraction=0.2, bucket_bytes=4000)
    pad_id = manifest["pad_id"]
    pieces: dict[str, list[tuple[int, np.ndarray]]] = defaultdict(list)
    padding = 0
    split_of: dict[str, str] = {}
    for name, table in read_shards(tmp_path / "run" / "shards").items():
        assert table.schema.equals(SHARD_SCHEMA)
        columns = (table.column(c).to_pylist() for c in ("input_ids", "cu_seqlens", "doc_ids", "seg_offsets"))
        for ids, cu, docs, offsets in zip(*columns):
            assert len(ids) == seq_len and cu[0] == 0 and cu[-1] == seq_len
            assert all(a < b for a, b in zip(cu, cu[1:])) and len(docs) == len(offsets) == len(cu) - 1
            for k, doc in enumerate(docs):
                segment = ids[cu[k] : cu[k + 1]]
                if doc == "":
                    assert k == len(docs) - 1 and set(segment) == {pad_id}
                    padding += len(segment)
                else:
                    pieces[doc].append((offsets[k], segment))
                    assert split_of.setdefault(doc, name.split("-")[0]) == name.split("-")[0]
    assert padding == manifest["counts"]["padding_tokens"]
    kept = {f"doc-{i}": t for i, t in enumerate(texts) if t}
    assert set(pieces) == set(kept)
    for doc, doc_pieces in pieces.items():
        doc_pieces.sort(key=lambda p: p[0])
        starts = np.cumsum([0] + [len(s) for _, s in doc_pieces])[:-1]
        assert [o for o, _ in doc_pieces] == list(starts), f"{doc}: overlapping or missing pieces"
        assert sum((s for _, s in doc_pieces), []) == reference_tokens(kept[doc])
    counts = manifest["counts"]
    assert counts["docs"] == len(kept) and counts["tokens"] + counts["padding_tokens"] == counts["rows"] * seq_len
    assert counts["train_rows"] > 0 and counts["validation_rows"] > 0
    assert sum(s["rows"] for s in manifest["shards"]) == counts["rows"]
    assert manifest["tokenizer"]["sha256"] and manifest["bos_id"] == 128000 and manifest["eos_id"] == 128001


def test_manifest_records_tokenizer_and_delimiting(tmp_path: Path) -> None:
    parts = write_parts(tmp_path, make_texts(10), parts=1)
    manifest = pack_run(tmp_path / "run", parts, seq_len=64, add_bos=False, pad_id=0, validation_fraction=0)
    assert fs.read_json(str(tmp_path / "run" / "shards" / "manifest.json")) == manifest
    assert manifest["add_bos"] is False and manifest["add_eos"] is True and manifest["pad_id"] == 0
    assert manifest["delimiting"].startswith("each document is encoded as text EOS")
    assert manifest["tokenizer"]["name"] == "llama3" and manifest["vocab_size"] >= 128256
    assert [s["file"] for s in manifest["shards"]] == ["train-00000.parquet"]


def test_llama3_tokenizer_offline() -> None:
    tok = get_tokenizer("llama3", add_bos=True, add_eos=True)
    assert tok.encode(["The quick brown fox"])[0].tolist() == [128000, 791, 4062, 14198, 39935, 128001]


def test_same_bytes_whatever_the_partitioning_and_workers(tmp_path: Path, ray_local) -> None:
    texts = make_texts(40, seed=1)
    settings = {"seq_len": 96, "bucket_bytes": 10**9, "rows_per_shard": 7}
    one = pack_run(tmp_path / "a", write_parts(tmp_path / "a", texts, parts=1), **settings)
    from curation.runtime import executor

    executor.configure(use_ray=False, max_in_flight=1, progress=False)
    try:
        many = pack_run(tmp_path / "b", write_parts(tmp_path / "b", texts, parts=4), **settings)
    finally:
        executor.configure(use_ray=True, max_in_flight=2, progress=False)
    again = pack_run(tmp_path / "c", write_parts(tmp_path / "c", texts, parts=4), **settings)

    def files(run: Path) -> dict[str, bytes]:
        return {p.rsplit("/", 1)[-1]: Path(p).read_bytes() for p in fs.listdir(str(run / "shards"), ".parquet")}

    assert one["counts"] == many["counts"] == again["counts"]
    assert files(tmp_path / "b") == files(tmp_path / "c")
    assert len(files(tmp_path / "a")) > 1
    # one part or four: the same documents in the same global order, so the same rows
    assert files(tmp_path / "a") == files(tmp_path / "b")


def test_best_fit_never_splits_documents_that_fit() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 300, size=500).tolist() + [1000, 257]
    rows = plan_best_fit(lengths, 256)
    seen = defaultdict(list)
    for row in rows:
        assert sum(s.length for s in row) <= 256
        for s in row:
            seen[s.doc].append(s)
    assert all(len(seen[d]) == 1 for d, n in enumerate(lengths) if n <= 256)
    assert len(seen[500]) == 4 and len(seen[501]) == 2
    assert sum(lengths) / (len(rows) * 256) > 0.98
    concat = plan_concat(lengths, 256)
    assert len(concat) == -(-sum(lengths) // 256) and all(sum(s.length for s in r) == 256 for r in concat[:-1])

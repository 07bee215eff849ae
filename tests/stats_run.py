"""A small finished run folder written from the schemas (docs, rejects, shards, manifests, dedup clusters).

Used by the statistics and notebook tests while the full pipeline is assembled; the values it
returns are the ground truth those tests check against.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from curation.io import fs
from curation.schema import SHARD_SCHEMA, make_documents

SOURCES = ["cc-main-2024", "wikipedia", "github"]
LANGS = ["en", "fr", "de"]
DOMAINS = ["general", "math", "code"]
WORDS = "the of data model token train curate web page text quality shard value code math".split()


def pack(doc_tokens: dict[str, int], seq_len: int) -> tuple[list[dict[str, list]], int, set[str]]:
    """Concatenate-and-split packing: rows, padding tokens, ids of documents split across rows."""
    rows, pad, split = [], 0, set()
    cu, ids, offs, used = [0], [], [], 0
    for doc_id, n in doc_tokens.items():
        offset = 0
        while offset < n:
            take = min(n - offset, seq_len - used)
            ids.append(doc_id)
            offs.append(offset)
            used += take
            cu.append(used)
            if offset:
                split.add(doc_id)
            offset += take
            if used == seq_len:
                rows.append({"cu_seqlens": cu, "doc_ids": ids, "seg_offsets": offs})
                cu, ids, offs, used = [0], [], [], 0
    if used:
        pad = seq_len - used
        rows.append({"cu_seqlens": [*cu, seq_len], "doc_ids": [*ids, ""], "seg_offsets": [*offs, 0]})
    return rows, pad, split


def write_shards(folder: Path, name: str, rows: list[dict[str, list]], seq_len: int, rng: np.random.Generator) -> None:
    table = pa.Table.from_pylist(
        [{"input_ids": rng.integers(0, 128_256, seq_len).tolist(), **row} for row in rows], schema=SHARD_SCHEMA
    )
    fs.write_parquet(table, str(folder / name))


def make_run(root: Path, docs: int = 80, seq_len: int = 512, quality: bool = True, seed: int = 0) -> dict[str, Any]:
    """Write a run folder under ``root``; return the truth (counts, tokens, padding, split documents)."""
    rng = np.random.default_rng(seed)
    ids = [f"doc-{i:04d}" for i in range(docs)]
    words = np.clip(rng.lognormal(4.5, 0.8, docs).astype(int), 5, 2000)
    texts = [" ".join(rng.choice(WORDS, n)) for n in words]
    good = rng.random(docs) < 0.5
    scores = np.clip(np.where(good, rng.normal(0.75, 0.15, docs), rng.normal(0.3, 0.15, docs)), 0, 1)
    table = make_documents({
        "id": ids, "text": texts, "url": [f"https://example.com/{i}" for i in ids],
        "source": [SOURCES[i % 3] for i in range(docs)], "lang": [LANGS[i % 3] if i % 7 else None for i in range(docs)],
        "domain": [DOMAINS[(i // 3) % 3] for i in range(docs)],
        **({"quality_score": scores.astype(np.float32)} if quality else {}),
    })
    kept = pa.array(scores >= 0.5) if quality else pa.array(np.ones(docs, bool))
    docs_table = table.filter(kept)
    half = docs_table.num_rows // 2
    fs.write_parquet(docs_table.slice(0, half), str(root / "docs" / "part-00000.parquet"))
    fs.write_parquet(docs_table.slice(half), str(root / "docs" / "part-00001.parquet"))
    rejected = table.filter(pa.compute.invert(kept))
    rejected = rejected.append_column("reason", pa.array(["quality.threshold"] * rejected.num_rows))
    if rejected.num_rows:
        fs.write_parquet(rejected, str(root / "rejects" / "quality-00000.parquet"))

    # Tokens as a packer would count them (about 1.3 per word, plus BOS and EOS).
    kept_ids = docs_table.column("id").to_pylist()
    kept_words = words[np.asarray(kept)]
    tokens = {i: int(w * 1.3) + 2 for i, w in zip(kept_ids, kept_words)}
    validation = set(kept_ids[::10])
    train_rows, train_pad, train_split = pack({k: v for k, v in tokens.items() if k not in validation}, seq_len)
    val_rows, val_pad, val_split = pack({k: v for k, v in tokens.items() if k in validation}, seq_len)
    shards = root / "shards"
    write_shards(shards, "train-00000.parquet", train_rows[: len(train_rows) // 2], seq_len, rng)
    write_shards(shards, "train-00001.parquet", train_rows[len(train_rows) // 2 :], seq_len, rng)
    write_shards(shards, "validation-00000.parquet", val_rows, seq_len, rng)
    fs.write_json(str(shards / "manifest.json"), {
        "seq_len": seq_len, "tokenizer": {"name": "llama3", "sha256": "0" * 64}, "bos_id": 128000,
        "eos_id": 128001, "pad_id": 128001, "rows": len(train_rows) + len(val_rows),
    })

    # Duplicate clusters as the MinHash components phase leaves them: one row per clustered document.
    cluster = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3]
    fs.write_parquet(pa.table({"id": [f"dup-{i}" for i in range(10)], "cluster": cluster,
                               "size": [cluster.count(c) for c in cluster]}),
                     str(root / "work" / "dedup.minhash.clusters" / "fp123" / "clusters-00000.parquet"))
    n_in = docs + 12
    phases = [
        {"name": "extract", "fingerprint": "fp0", "in": n_in, "out": docs + 6, "rejected": {"extract.empty": 6},
         "counters": {}, "tasks": 2, "resumed_tasks": 0, "wall_seconds": 1.5},
        {"name": "dedup.minhash.clusters", "fingerprint": "fp123", "in": docs + 6, "out": docs,
         "rejected": {"dedup.minhash": 6}, "counters": {"clusters": 4}, "tasks": 2, "resumed_tasks": 1,
         "wall_seconds": 0.7},
        {"name": "quality", "fingerprint": "fp2", "in": docs, "out": docs_table.num_rows,
         "rejected": {"quality.threshold": rejected.num_rows}, "counters": {}, "tasks": 2, "resumed_tasks": 0,
         "wall_seconds": 0.3},
        {"name": "pack", "fingerprint": "fp3", "in": docs_table.num_rows, "out": docs_table.num_rows, "rejected": {},
         "counters": {"tokens": sum(tokens.values())}, "tasks": 1, "resumed_tasks": 0, "wall_seconds": 0.2},
    ]
    (root / "manifest.json").write_text(json.dumps({"version": "0.1.0", "phases": phases}))
    labels = pa.table({"id": ids, "label": pa.array(good.astype(np.int64)), "score": pa.array(good * 4.0)})
    fs.write_parquet(labels, str(root / "labels.parquet"))
    rows = len(train_rows) + len(val_rows)
    return {
        "documents_in": n_in, "documents": docs_table.num_rows, "rejected_quality": rejected.num_rows,
        "tokens": tokens, "rows": rows, "train_rows": len(train_rows), "pad_tokens": train_pad + val_pad,
        "split": train_split | val_split, "seq_len": seq_len,
        "chars": dict(zip(kept_ids, [len(t) for t, k in zip(texts, np.asarray(kept)) if k])),
    }

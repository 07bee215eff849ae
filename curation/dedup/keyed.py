"""Exact-key dedup (URL and normalised text): keep the best document of each key, globally.

Map (one task per part): a 128-bit key per document, shuffled by key range. Reduce (one task per
partition): sort by (key, priority desc, id) and remove every document after the first of its key.
Apply (one task per part): reject the removed rows as ``dedup.<method>``.
"""

from __future__ import annotations

from functools import partial
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.dedup.config import KeepPolicy
from curation.dedup.hashing import hash_keys, node_ids
from curation.dedup.normalize import normalize
from curation.dedup.ranking import best_first, priority
from curation.dedup.removal import apply_removals, removal_table
from curation.io import fs
from curation.runtime.context import RunContext, TaskOutput

Method = Literal["url", "exact"]


def canonical_url(url: str) -> str:
    """Scheme and host lowercased, default port and fragment dropped; path and query kept as is."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port not in (None, 80, 443) else "")
    except ValueError:
        return url.strip()
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", parts.query, ""))


def document_keys(docs: pa.Table, method: Method) -> tuple[np.ndarray, list[str]]:
    """(rows that have a key, their key strings): URL dedup skips documents without a URL."""
    if method == "url":
        urls = docs.column("url").to_pylist()
        rows = np.array([i for i, u in enumerate(urls) if u and u.strip()], dtype=np.int64)
        return rows, [canonical_url(urls[i]) for i in rows]
    return np.arange(docs.num_rows), normalize(docs.column("text")).to_pylist()


def key_rows(method: Method, keep: KeepPolicy, src: str, part_index: int) -> TaskOutput:
    """Map: one row per document with a key (128-bit digest, priority, id, node), shuffled by key."""
    docs = fs.read_parquet(src, columns=["id", "url", "text", "date", "quality_score"])
    rows, keys = document_keys(docs, method)
    digests, key64 = hash_keys(keys)
    take = pa.array(rows, type=pa.int64())
    table = pa.table(
        {
            "key": digests,
            "prio": priority(docs, keep).take(take),
            "id": docs.column("id").combine_chunks().take(take),
            "node": pa.array(node_ids(part_index, docs.num_rows)[rows], type=pa.uint64()),
        }
    )
    return TaskOutput(shuffle=(table, key64), counters={"keyed": len(rows)})


def first_of_key(rows: pa.Table, partition: int) -> TaskOutput:
    """Reduce: every document after the best of its key is removed."""
    table = best_first(rows, group="key")
    keys = table.column("key").combine_chunks()
    first = np.ones(table.num_rows, dtype=bool)
    if table.num_rows > 1:
        first[1:] = pc.not_equal(keys.slice(1), keys.slice(0, table.num_rows - 1)).to_numpy(zero_copy_only=False)
    removed = table.column("node").to_numpy()[~first]
    groups = int(np.count_nonzero(first[:-1] & ~first[1:])) if table.num_rows > 1 else 0
    return TaskOutput(files={"remove": removal_table(removed)},
                      counters={"removed": int(removed.size), "duplicate_groups": groups})


def run(ctx: RunContext, parts: list[str], method: Method, keep: KeepPolicy, partitions: int) -> list[str]:
    """Run map, reduce and apply for ``method``; return the kept parts."""
    name = f"dedup.{method}"
    keys = ctx.map(f"{name}.map", parts, partial(key_rows, method, keep), {"keep": keep}, partitions)
    removals = ctx.reduce(f"{name}.reduce", keys.shuffled, first_of_key, {})
    return apply_removals(ctx, name, parts, removals.files("remove"), name, removals.fingerprint)

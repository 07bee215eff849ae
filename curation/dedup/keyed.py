"""Exact-key dedup (URL and normalised text): keep the best document of each key, globally.

Map (one task per part): a 128-bit key per document, shuffled by key range. Reduce (one task per
partition): sort by (key, priority desc, id) and remove every document after the first of its key.
Apply (one task per part): reject the removed rows as ``dedup.<method>``.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.dedup.config import KeepPolicy
from curation.dedup.hashing import hash_keys, node_ids, partition_of
from curation.dedup.normalize import normalize
from curation.dedup.ranking import best_first, priority
from curation.dedup.removal import apply_removals, write_removals
from curation.dedup.shuffle import read_partition, write_partitions
from curation.io import fs
from curation.runtime.context import RunContext, part_id
from curation.runtime.executor import Counters, Task

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


def map_task(src: str, part_index: int, method: Method, keep: KeepPolicy, partitions: int, out_dir: str) -> Counters:
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
    write_partitions(table, partition_of(key64, partitions), partitions, out_dir, part_id(src))
    return {"keyed": len(rows)}


def reduce_task(map_dir: str, map_ids: list[str], partition: int, out_path: str) -> Counters:
    table = best_first(read_partition(map_dir, map_ids, partition), group="key")
    keys = table.column("key").combine_chunks()
    first = np.ones(table.num_rows, dtype=bool)
    if table.num_rows > 1:
        first[1:] = pc.not_equal(keys.slice(1), keys.slice(0, table.num_rows - 1)).to_numpy(zero_copy_only=False)
    removed = table.column("node").to_numpy()[~first]
    groups = int(np.count_nonzero(first[:-1] & ~first[1:])) if table.num_rows > 1 else 0
    write_removals(removed, out_path)
    return {"removed": int(removed.size), "duplicate_groups": groups}


def run(ctx: RunContext, parts: list[str], method: Method, keep: KeepPolicy, partitions: int) -> list[str]:
    """Run map, reduce and apply for ``method``; return the kept parts."""
    name = f"dedup.{method}"
    settings = {"keep": keep, "partitions": partitions}
    map_fp = ctx.fingerprint(f"{name}.map", settings, list(parts))
    map_dir = ctx.work_dir(f"{name}.map", map_fp)
    ids = [part_id(p) for p in parts]
    ctx.run_phase(
        f"{name}.map",
        map_fp,
        [
            Task(
                pid,
                map_task,
                {
                    "src": p,
                    "part_index": i,
                    "method": method,
                    "keep": keep,
                    "partitions": partitions,
                    "out_dir": map_dir,
                },
            )
            for i, (pid, p) in enumerate(zip(ids, parts))
        ],
    )
    red_fp = ctx.fingerprint(f"{name}.reduce", map_fp)
    red_dir = ctx.work_dir(f"{name}.reduce", red_fp)
    outputs = [fs.join(red_dir, f"remove-{p:05d}.parquet") for p in range(partitions)]
    ctx.run_phase(
        f"{name}.reduce",
        red_fp,
        [
            Task(f"p{p:05d}", reduce_task, {"map_dir": map_dir, "map_ids": ids, "partition": p, "out_path": outputs[p]})
            for p in range(partitions)
        ],
    )
    return apply_removals(ctx, name, parts, outputs, name, red_fp)

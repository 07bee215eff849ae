"""Figures that need a document's pieces together: tokens per document, split documents, and
packed tokens per language/domain/source (shards joined with ``DIR/docs`` by id).

A document's segments may sit in several shard files, so one task per range of (original)
document ids reads the small shard columns and the docs' id and group columns, keeps the ids of
its range, groups and joins them, and returns summaries (value -> count maps, sums). Ranges come
from hashing the original id, so the mix's copies (``<id>#rep<n>``) meet their original; there are
enough of them that a task holds at most ``PARTITION_SEGMENTS`` segments on average.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.common.files import read_columns
from curation.common.hashing import uniform
from curation.stats.documents import GROUP_COLUMNS, base_ids, tokens_by_base_id
from curation.stats.shards import SHARD_COLUMNS, segments
from curation.stats.summary import add_counts, add_groups, group_sums, value_counts

PARTITION_SEGMENTS = 4_000_000
"""Segments (or documents) per id range: a task's id/length tables stay within a few hundred MB."""


def partition_count(segments_total: int, documents: int) -> int:
    return max(1, math.ceil(max(segments_total, documents) / PARTITION_SEGMENTS))


def owned(ids: pa.Array | pa.ChunkedArray, part: int, parts: int) -> np.ndarray:
    """Which ids fall in range ``part`` of ``parts`` (by a hash of the original id)."""
    if parts == 1:
        return np.ones(len(ids), dtype=bool)
    return (uniform(0, "stats", base_ids(ids).to_pylist()) * parts).astype(np.int64) == part


def per_document(table: pa.Table) -> dict[str, Any]:
    """Documents, split documents and the tokens-per-document value counts of ``id, tokens, split`` rows."""
    grouped = table.group_by("id").aggregate([("tokens", "sum"), ("split", "any")])
    return {
        "documents": grouped.num_rows,
        "split_documents": int(pc.sum(grouped["split_any"]).as_py() or 0),
        "tokens": value_counts(grouped["tokens_sum"]),
    }


def partition_task(shards: list[tuple[str, str]], docs: list[str], part: int, parts: int) -> dict[str, Any]:
    """Summaries of range ``part``: ``total`` and per-split ``splits`` (``per_document``); with docs,
    tokens per group (``groups``) and ``not_in_docs`` (packed originals absent from docs/)."""
    pieces = []
    for path, split in shards:
        seg = segments(read_columns(path, SHARD_COLUMNS))
        keep = ~pc.equal(seg["doc_id"], "").to_numpy(zero_copy_only=False)
        keep &= owned(seg["doc_id"], part, parts)
        pieces.append(pa.table({"id": seg["doc_id"].filter(pa.array(keep)), "tokens": seg["length"][keep],
                                "split": seg["offset"][keep] > 0, "shard_split": pa.array([split] * int(keep.sum()),
                                                                                          pa.string())}))
    table = pa.concat_tables(pieces)
    out: dict[str, Any] = {
        "total": per_document(table.select(["id", "tokens", "split"])),
        "splits": {s: per_document(table.filter(pc.equal(table["shard_split"], s)).select(["id", "tokens", "split"]))
                   for s in sorted({s for _, s in shards})},
    }
    if docs:
        tables = [read_columns(p, ["id", *GROUP_COLUMNS]) for p in docs]
        documents = pa.concat_tables([t.filter(pa.array(owned(t["id"], part, parts))) for t in tables])
        by_id = table.group_by("id").aggregate([("tokens", "sum")])
        packed = tokens_by_base_id(pa.table({"id": by_id["id"], "tokens": by_id["tokens_sum"]}))
        joined = documents.join(packed, "id", join_type="left outer")
        tokens = pc.fill_null(joined["tokens"], 0).cast(pa.int64())
        out["groups"] = {key: group_sums(joined[key], {"tokens": tokens}) for key in GROUP_COLUMNS}
        out["not_in_docs"] = int(pc.sum(pc.invert(pc.is_in(packed["id"], documents["id"].combine_chunks()))).as_py()
                                 or 0)
    return out


def merge_partitions(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The docs-side totals of ``partition_task`` results: tokens per document, per group, not in docs."""
    tokens: dict[float, int] = {}
    groups: dict[str, dict] = {key: {} for key in GROUP_COLUMNS}
    for result in results:
        add_counts(tokens, result["total"]["tokens"])
        for key in GROUP_COLUMNS:
            add_groups(groups[key], result.get("groups", {}).get(key, {}))
    return {"tokens": tokens, "groups": groups, "not_in_docs": sum(r.get("not_in_docs", 0) for r in results)}

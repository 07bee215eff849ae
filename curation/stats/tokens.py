"""Figures that need a document's pieces together: tokens per document, split documents, and
packed tokens per language/domain/source (shards joined with ``DIR/docs`` by id).

A document's segments may sit in several shard files, so the statistics shuffle by document id
with the runtime's shuffle files (``runtime.shuffle``): each file's task writes its segments (or
its documents' id and groups) range-partitioned by a hash of the original id, so the mix's copies
(``<id>#rep<n>``) meet their original; one task per partition groups and joins its rows and
returns summaries (value -> count maps, sums). Every file is read once; the driver adds summaries.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.common.hashing import uniform
from curation.runtime.shuffle import default_partitions, read_partition, write_partitioned
from curation.stats import documents, shards
from curation.stats.documents import GROUP_COLUMNS, base_ids, tokens_by_base_id
from curation.stats.summary import add_counts, add_groups, group_sums, value_counts

BYTES_RATIO = 16
"""Segment and id rows are about 1% of shard and document bytes, so the statistics use a 16th of
the partitions a document shuffle of the same files would (``default_partitions``)."""


def partition_count(paths: list[str]) -> int:
    return max(1, math.ceil(default_partitions(paths) / BYTES_RATIO)) if paths else 1


def id_keys(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """uint64 shuffle key of each id: a hash of its original id, spread over the whole range."""
    return (uniform(0, "stats", base_ids(ids).to_pylist()) * float(1 << 53)).astype(np.uint64) << np.uint64(11)


def scatter_shard(path: str, split: str, partitions: int, out: str) -> dict[str, Any]:
    """``shards.file_summary`` of one shard file; its segments (with their split) shuffled to ``out``."""
    summary, pieces = shards.file_summary(path)
    pieces = pieces.append_column("shard_split", pa.array([split] * pieces.num_rows, pa.string()))
    write_partitioned(pieces, id_keys(pieces["id"]), partitions, out)
    return summary


def scatter_docs(path: str, partitions: int, out: str) -> dict[str, Any]:
    """``documents.file_summary`` of one docs file; its ids and groups shuffled to ``out``."""
    summary, rows = documents.file_summary(path)
    write_partitioned(rows, id_keys(rows["id"]), partitions, out)
    return summary


def per_document(pieces: pa.Table) -> dict[str, Any]:
    """Documents, split documents and the tokens-per-document value counts of ``id, tokens, split`` rows."""
    grouped = pieces.group_by("id").aggregate([("tokens", "sum"), ("split", "any")])
    return {
        "documents": grouped.num_rows,
        "split_documents": int(pc.sum(grouped["split_any"]).as_py() or 0),
        "tokens": value_counts(grouped["tokens_sum"]),
    }


def partition_task(shard_files: list[str], doc_files: list[str], partition: int) -> dict[str, Any]:
    """Summaries of one partition: ``total`` and per-split ``splits`` (``per_document``); with docs,
    tokens per group (``groups``) and ``not_in_docs`` (packed originals absent from docs/)."""
    pieces = read_partition(shard_files, partition)
    rows = pieces.select(["id", "tokens", "split"])
    splits = sorted(set(pieces["shard_split"].to_pylist()))
    out: dict[str, Any] = {
        "total": per_document(rows),
        "splits": {s: per_document(rows.filter(pc.equal(pieces["shard_split"], s))) for s in splits},
    }
    if doc_files:
        docs = read_partition(doc_files, partition)
        by_id = rows.group_by("id").aggregate([("tokens", "sum")])
        packed = tokens_by_base_id(pa.table({"id": by_id["id"], "tokens": by_id["tokens_sum"]}))
        joined = docs.join(packed, "id", join_type="left outer")
        tokens = pc.fill_null(joined["tokens"], 0).cast(pa.int64())
        out["groups"] = {key: group_sums(joined[key], {"tokens": tokens}) for key in GROUP_COLUMNS}
        missing = pc.invert(pc.is_in(packed["id"], docs["id"].combine_chunks()))
        out["not_in_docs"] = int(pc.sum(missing).as_py() or 0)
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

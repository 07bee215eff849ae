"""ccNet-style line dedup: lines seen more than ``max_count`` times within a bucket of documents go.

Buckets are runs of consecutive input parts holding up to ``bucket_docs`` documents (Llama 3:
30M). Map (one task per part): count the hashes of normalised lines, shuffled by hash range.
Reduce (one task per range): sum the counts per bucket and hash and keep the frequent ones.
Apply (one task per part): drop its bucket's frequent lines; a document left without text is
rejected as ``dedup.lines_empty``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.dedup.config import LineDedupConfig
from curation.dedup.hashing import U64, hash_strings
from curation.dedup.normalize import normalize
from curation.io import fs
from curation.runtime.context import RunContext, TaskOutput
from curation.schema import split_by_reason, with_column


def split_lines(texts: pa.ChunkedArray, min_chars: int) -> tuple[pa.LargeListArray, np.ndarray, np.ndarray]:
    """(lines per document, hash of every normalised line, whether the line is counted at all)."""
    text = pc.fill_null(texts.combine_chunks().cast(pa.large_string()), "")
    lines = pc.split_pattern(text, "\n")
    flat = lines.flatten()
    norm = normalize(flat)
    counted = (
        (pc.utf8_length(norm).to_numpy(zero_copy_only=False) >= max(min_chars, 1)) if len(flat) else np.zeros(0, bool)
    )
    return lines, hash_strings(norm), counted


def count_lines(cfg: LineDedupConfig, src: str, part_index: int) -> TaskOutput:
    """Map: (part, line hash, count) of the part's counted lines, shuffled by hash."""
    docs = fs.read_parquet(src, columns=["text"])
    _, hashes, counted = split_lines(docs.column("text"), cfg.min_chars)
    keys, counts = np.unique(hashes[counted], return_counts=True)
    table = pa.table(
        {
            "part": pa.array(np.full(keys.size, part_index, dtype=np.uint32)),
            "hash": pa.array(keys, pa.uint64()),
            "count": pa.array(counts, pa.int64()),
        }
    )
    return TaskOutput(
        shuffle=(table, keys),
        counters={"docs": docs.num_rows, "lines_counted": int(counted.sum()), "distinct_lines": int(keys.size)},
    )


def frequent_lines(bucket_of: tuple[int, ...], max_count: int, rows: pa.Table, partition: int) -> TaskOutput:
    """Reduce: the (bucket, hash) pairs of this hash range counted more than ``max_count`` times."""
    bucket = np.asarray(bucket_of, dtype=np.int64)[rows.column("part").to_numpy().astype(np.int64)]
    hashes, counts = rows.column("hash").to_numpy(), rows.column("count").to_numpy()
    order = np.lexsort((hashes, bucket))
    bucket, hashes, counts = bucket[order], hashes[order], counts[order]
    starts = np.flatnonzero(np.concatenate([[True], (hashes[1:] != hashes[:-1]) | (bucket[1:] != bucket[:-1])]))
    totals = np.add.reduceat(counts, starts) if hashes.size else np.zeros(0, np.int64)
    starts = starts[: totals.size]
    frequent = totals > max_count
    table = pa.table({"bucket": pa.array(bucket[starts][frequent], pa.int64()),
                      "hash": pa.array(hashes[starts][frequent], pa.uint64())})
    return TaskOutput(files={"frequent": table}, counters={"frequent_lines": int(frequent.sum())})


@dataclass(frozen=True)
class DropLines:
    """A document stage removing the lines whose hash is frequent in its bucket."""

    frequent: tuple[str, ...]
    bucket: int
    min_chars: int

    def __call__(self, docs: pa.Table) -> tuple[pa.Table, pa.Table, dict]:
        tables = [fs.read_parquet(p, columns=["bucket", "hash"]) for p in self.frequent]
        frequent = np.concatenate(
            [t.column("hash").to_numpy()[t.column("bucket").to_numpy() == self.bucket] for t in tables]
            or [np.zeros(0, U64)]
        )
        lines, hashes, counted = split_lines(docs.column("text"), self.min_chars)
        drop = counted & np.isin(hashes, frequent)
        offsets = lines.offsets.to_numpy()
        doc_of_line = np.repeat(np.arange(docs.num_rows), np.diff(offsets))
        dropped = np.bincount(doc_of_line[drop], minlength=docs.num_rows)
        kept_counts = np.diff(offsets) - dropped
        kept_lines = lines.flatten().filter(pa.array(~drop))
        new_offsets = pa.array(np.concatenate([[0], np.cumsum(kept_counts)]).astype(np.int64))
        text = pc.binary_join(
            pa.LargeListArray.from_arrays(new_offsets, kept_lines), pa.scalar("\n", pa.large_string())
        ).cast(pa.string())
        text = pc.if_else(pc.is_null(docs.column("text").combine_chunks()), pa.scalar(None, pa.string()), text)
        docs = with_column(docs, "text", text)
        blank = pc.equal(pc.utf8_trim_whitespace(pc.fill_null(text, "")), "").to_numpy(zero_copy_only=False)
        empty = (dropped > 0) & blank
        reasons = pa.array(np.where(empty, "dedup.lines_empty", None).tolist(), type=pa.string())
        kept, rejected = split_by_reason(docs, reasons)
        chars = pc.utf8_length(lines.flatten().filter(pa.array(drop))).to_numpy(zero_copy_only=False)
        return (
            kept,
            rejected,
            {
                "lines": int(offsets[-1] - offsets[0]),
                "lines_removed": int(drop.sum()),
                "chars_removed": int(chars.sum()),
                "docs_changed": int((dropped > 0).sum()),
            },
        )


def buckets(part_sizes: list[int], bucket_docs: int) -> list[int]:
    """Bucket number of each part: consecutive parts up to ``bucket_docs`` documents (at least one part)."""
    out, bucket, filled = [], 0, 0
    for size in part_sizes:
        if filled and filled + size > bucket_docs:
            bucket, filled = bucket + 1, 0
        out.append(bucket)
        filled += size
    return out


def run(ctx: RunContext, parts: list[str], cfg: LineDedupConfig, partitions: int) -> list[str]:
    """Count, find frequent lines per bucket and drop them; return the new parts."""
    counted = ctx.map("dedup.lines.count", parts, partial(count_lines, cfg), cfg.model_dump(), partitions)
    bucket_of = buckets([int(r["docs"]) for r in counted.results], cfg.bucket_docs)
    frequent = ctx.reduce("dedup.lines.frequent", counted.shuffled,
                          partial(frequent_lines, tuple(bucket_of), cfg.max_count), bucket_of)
    fns = [DropLines(tuple(frequent.files("frequent")), b, cfg.min_chars) for b in bucket_of]
    return ctx.map_documents("dedup.lines", parts, fns, frequent.fingerprint)

"""ccNet-style line dedup: lines seen more than ``max_count`` times within a bucket of documents go.

Buckets are runs of consecutive input parts holding up to ``bucket_docs`` documents (Llama 3:
30M). Map (one task per part): count the hashes of normalised lines, shuffled by hash range.
Reduce (one task per bucket and range): sum the counts of the bucket's parts and keep the
frequent hashes. Apply (one task per part): drop the frequent lines; a document left without
text is rejected as ``dedup.lines_empty``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.dedup.config import LineDedupConfig
from curation.dedup.hashing import U64, hash_strings, partition_of
from curation.dedup.normalize import normalize
from curation.dedup.shuffle import read_partition, write_partitions
from curation.io import fs
from curation.runtime.context import RunContext, part_id
from curation.runtime.executor import Counters, Task
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


def count_task(src: str, cfg: LineDedupConfig, partitions: int, out_dir: str) -> Counters:
    docs = fs.read_parquet(src, columns=["text"])
    _, hashes, counted = split_lines(docs.column("text"), cfg.min_chars)
    keys, counts = np.unique(hashes[counted], return_counts=True)
    table = pa.table({"hash": pa.array(keys, pa.uint64()), "count": pa.array(counts, pa.int64())})
    write_partitions(table, partition_of(keys, partitions), partitions, out_dir, part_id(src))
    return {"docs": docs.num_rows, "lines_counted": int(counted.sum()), "distinct_lines": int(keys.size)}


def frequent_task(map_dir: str, map_ids: list[str], partition: int, max_count: int, out_path: str) -> Counters:
    t = read_partition(map_dir, map_ids, partition)
    hashes, counts = t.column("hash").to_numpy(), t.column("count").to_numpy()
    order = np.argsort(hashes, kind="stable")
    hashes, counts = hashes[order], counts[order]
    starts = np.nonzero(np.concatenate([[True], hashes[1:] != hashes[:-1]]))[0] if hashes.size else np.zeros(0, int)
    totals = np.add.reduceat(counts, starts) if starts.size else np.zeros(0, np.int64)
    frequent = hashes[starts][totals > max_count]
    fs.write_parquet(pa.table({"hash": pa.array(frequent, pa.uint64())}), out_path)
    return {"frequent_lines": int(frequent.size)}


@dataclass(frozen=True)
class DropLines:
    """A document stage removing the lines whose hash is in the frequent-line files of its bucket."""

    frequent: tuple[str, ...]
    min_chars: int

    def __call__(self, docs: pa.Table) -> tuple[pa.Table, pa.Table, dict]:
        frequent = np.concatenate(
            [fs.read_parquet(p).column("hash").to_numpy() for p in self.frequent] or [np.zeros(0, U64)]
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
    ids = [part_id(p) for p in parts]
    map_fp = ctx.fingerprint("dedup.lines.count", cfg.model_dump(), partitions, list(parts))
    map_dir = ctx.work_dir("dedup.lines.count", map_fp)
    results = ctx.run_phase(
        "dedup.lines.count",
        map_fp,
        [
            Task(pid, count_task, {"src": p, "cfg": cfg, "partitions": partitions, "out_dir": map_dir})
            for pid, p in zip(ids, parts)
        ],
    )
    bucket_of = buckets([int(r["docs"]) for r in results], cfg.bucket_docs)
    red_fp = ctx.fingerprint("dedup.lines.frequent", map_fp, bucket_of)
    red_dir = ctx.work_dir("dedup.lines.frequent", red_fp)
    tasks, frequent = [], {}
    for b in sorted(set(bucket_of)):
        members = [pid for pid, pb in zip(ids, bucket_of) if pb == b]
        for p in range(partitions):
            path = fs.join(red_dir, f"frequent-b{b:05d}-p{p:05d}.parquet")
            frequent.setdefault(b, []).append(path)
            tasks.append(
                Task(
                    f"b{b:05d}-p{p:05d}",
                    frequent_task,
                    {
                        "map_dir": map_dir,
                        "map_ids": members,
                        "partition": p,
                        "max_count": cfg.max_count,
                        "out_path": path,
                    },
                )
            )
    ctx.run_phase("dedup.lines.frequent", red_fp, tasks)
    fns = [DropLines(tuple(frequent[b]), cfg.min_chars) for b in bucket_of]
    return ctx.map_documents("dedup.lines", parts, fns, red_fp)

"""Shuffle by key between phases: one file per map task, each partition a contiguous block in it.

A map task range-partitions its rows by a uint64 key and writes one Arrow IPC file (Spark's
sort-based shuffle writes one data file per map task in the same way): its non-empty partitions
as record batches in partition order, and the list of partitions it holds in the schema's
metadata (the index). A reducer opens every map file, reads the footer and the one batch of its
partition. Files per phase are the map task count, never map tasks x partitions, and the reduce
input is the same rows in map-task order whatever the number of workers or partitions.

Partitions are key ranges (``partition_of``), so the partition count is free: a setting, or a
default from the size of the data (``default_partitions``), never the task count.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from curation.io import fs

U64 = np.uint64
INDEX_KEY = b"curation.partitions"
IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")

PARTITION_BYTES = 256 * 1024 * 1024
"""Input bytes (compressed document parts) per partition when none is set. Shuffled rows are keys,
a few % of the documents, so a reducer holds tens of MB; Spark's AQE aims at 64 MB per shuffle
partition, Ray Data at 128 MiB blocks, in the same range."""

MAX_PARTITIONS = 4096


def partition_of(keys: np.ndarray, n: int) -> np.ndarray:
    """Range partition of uint64 keys by their top 32 bits: partition p holds a contiguous key range."""
    return ((keys.astype(U64) >> U64(32)) * U64(n) >> U64(32)).astype(np.int64)


def partition_bounds(p: int, n: int) -> tuple[int, int]:
    """[lo, hi) key range of partition ``p`` of ``n`` (hi is 2**64 for the last)."""
    lo = -(-(p << 32) // n) << 32
    hi = -(-((p + 1) << 32) // n) << 32
    return lo, hi


def default_partitions(paths: list[str]) -> int:
    """One partition per ``PARTITION_BYTES`` of the input files (one listing per folder)."""
    total = 0
    for folder in sorted({p.rsplit("/", 1)[0] for p in paths}):
        fsys, inner = fs.filesystem(folder)
        wanted = {fs.filesystem(p)[1] for p in paths if p.rsplit("/", 1)[0] == folder}
        total += sum(int(e["size"]) for e in fsys.ls(inner, detail=True) if e["name"] in wanted)
    return max(1, min(MAX_PARTITIONS, math.ceil(total / PARTITION_BYTES)))


def write_partitioned(table: pa.Table, keys: np.ndarray, partitions: int, path: str) -> None:
    """Write ``table``'s rows range-partitioned by ``keys`` (uint64, one per row) as one file."""
    part = partition_of(keys, partitions)
    order = np.argsort(part, kind="stable")
    table = table.take(pa.array(order, type=pa.int64()))
    bounds = np.searchsorted(part[order], np.arange(partitions + 1), side="left")
    present = [p for p in range(partitions) if bounds[p + 1] > bounds[p]]
    index = ",".join(map(str, present)).encode()
    schema = table.schema.with_metadata({**(table.schema.metadata or {}), INDEX_KEY: index})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, schema, options=IPC_OPTIONS) as writer:
        for p in present:
            writer.write_batch(table.slice(bounds[p], bounds[p + 1] - bounds[p]).combine_chunks().to_batches()[0])
    fs.atomic_write_bytes(path, sink.getvalue().to_pybytes())


def read_partition(paths: list[str], partition: int) -> pa.Table:
    """Partition ``partition`` of every map file, concatenated in the order of ``paths``."""
    tables, schema = [], None
    for path in paths:
        fsys, inner = fs.filesystem(path)
        with fsys.open(inner, "rb") as f:
            reader = pa.ipc.open_file(f)
            meta = dict(reader.schema.metadata or {})
            index = meta.pop(INDEX_KEY, b"")
            schema = reader.schema.with_metadata(meta)
            present = [int(p) for p in index.split(b",")] if index else []
            if partition in present:
                batch = reader.get_batch(present.index(partition))
                tables.append(pa.Table.from_batches([batch]).replace_schema_metadata(meta or None))
    if not tables:
        return schema.empty_table() if schema is not None else pa.table({})
    return pa.concat_tables(tables)

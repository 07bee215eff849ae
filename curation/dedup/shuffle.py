"""File-based shuffle between tasks of consecutive phases.

A map task writes one parquet file per (task, partition) into its phase work dir; a reduce task
reads its partition from every map task's output. Every file is written (empty ones too), so a
reduce never needs to list a folder and the result depends only on the map outputs, not on the
number of workers or the order in which tasks finished.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curation.io import fs


def shard_path(out_dir: str, task_id: str, partition: int) -> str:
    return fs.join(out_dir, f"map-{task_id}", f"p{partition:05d}.parquet")


def write_partitions(table: pa.Table, partitions: np.ndarray, n: int, out_dir: str, task_id: str) -> None:
    """Write the rows of ``table`` to their ``partitions`` (one int per row), one file per partition."""
    order = np.argsort(partitions, kind="stable")
    table = table.take(pa.array(order))
    bounds = np.searchsorted(partitions[order], np.arange(n + 1), side="left")
    for p in range(n):
        fs.write_parquet(table.slice(bounds[p], bounds[p + 1] - bounds[p]), shard_path(out_dir, task_id, p))


def read_partition(map_dir: str, task_ids: list[str], partition: int) -> pa.Table:
    """Partition ``partition`` of every map task, concatenated in task order."""
    tables = [fs.read_parquet(shard_path(map_dir, t, partition)) for t in task_ids]
    return pa.concat_tables(tables) if tables else pa.table({})


def read_rows(path: str, rows: np.ndarray, columns: list[str] | None = None) -> pa.Table:
    """Rows ``rows`` (sorted) of a parquet file, reading only the row groups that hold them."""
    fsys, inner = fs.filesystem(path)
    with fsys.open(inner, "rb") as f:
        pf = pq.ParquetFile(f)
        sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        groups = np.unique(np.searchsorted(starts, rows, side="right") - 1)
        table = pf.read_row_groups(groups.tolist(), columns=columns) if groups.size else pf.schema_arrow.empty_table()
    local = np.concatenate([np.arange(starts[g], starts[g + 1]) for g in groups]) if groups.size else np.zeros(0)
    return table.take(pa.array(np.searchsorted(local, rows), type=pa.int64()))


def read_key_range(path: str, column: str, lo: int, hi: int, columns: list[str] | None = None) -> pa.Table:
    """Rows of a parquet file whose uint64 ``column`` lies in [lo, hi) (row groups skipped by statistics)."""
    field = pc.field(column)
    expr = field >= pa.scalar(lo, pa.uint64())
    if hi < 2**64:
        expr = expr & (field < pa.scalar(hi, pa.uint64()))
    fsys, inner = fs.filesystem(path)
    with fsys.open(inner, "rb") as f:
        return pq.read_table(f, columns=columns, filters=expr)

"""Reading only part of a parquet file: rows by number, or rows whose sorted key lies in a range.

Part files and removal lists are written in row groups (``fs.PARQUET_OPTIONS``), so a task that
needs a few rows of another task's output reads the row groups holding them, not the whole file.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curation.io import fs


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

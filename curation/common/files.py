"""Reading the columns of a part file that statistics and the classifier report share.

Listing parts is ``curation.io.fs.listdir`` (prefix, suffixes, recursive) for every stage.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from curation.io import fs


def read_columns(path: str, columns: list[str]) -> pa.Table:
    """Read only ``columns`` of a Parquet file; the ones it lacks come back as null columns."""
    filesystem, inner = fs.filesystem(path)
    with filesystem.open(inner, "rb") as f:
        parquet = pq.ParquetFile(f)
        present = [c for c in columns if c in parquet.schema_arrow.names]
        table = parquet.read(columns=present)
    for name in columns:
        if name not in present:
            table = table.append_column(name, pa.nulls(table.num_rows))
    return table.select(columns)

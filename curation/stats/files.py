"""Finding and reading the run folder's Parquet files, tolerating what a phase did not write."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from curation.io import fs


def find_files(folder: str, suffixes: tuple[str, ...] = (".parquet",)) -> list[str]:
    """Sorted paths of the files under ``folder`` (recursively) ending with one of ``suffixes``.

    Temporary files of an interrupted atomic write (``*.tmp-<uuid>``) never match a suffix.
    """
    filesystem, inner = fs.filesystem(folder)
    if not filesystem.exists(inner):
        return []
    protocol = folder.split("://", 1)[0] + "://" if not fs.is_local(folder) else ""
    found = [p for p in filesystem.find(inner) if p.endswith(suffixes)]
    return sorted(p if p.startswith(protocol) else protocol + p for p in found)


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

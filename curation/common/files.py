"""Listing and reading the part files a phase or a run folder holds: one helper for every stage.

Labelling, statistics and the shard loader all look for "the Parquet parts in this folder"; they
share this listing so a folder layout change (or object storage) is handled in one place.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from curation.io import fs


def part_files(
    folder: str, suffixes: tuple[str, ...] = (".parquet",), prefix: str = "", recursive: bool = False
) -> list[str]:
    """Sorted paths of the files in ``folder`` named ``<prefix>...<suffix>``; ``[]`` when it does not exist.

    ``recursive`` looks into subfolders too. Temporary files of an interrupted atomic write
    (``*.tmp-<uuid>``) never match a suffix, so a listing never sees a half-written part.
    """
    filesystem, inner = fs.filesystem(folder)
    if not filesystem.exists(inner):
        return []
    found = filesystem.find(inner) if recursive else filesystem.ls(inner, detail=False)
    protocol = "" if fs.is_local(folder) else folder.split("://", 1)[0] + "://"
    names = [p for p in found if p.endswith(suffixes) and p.rsplit("/", 1)[-1].startswith(prefix)]
    return sorted(p if p.startswith(protocol) else protocol + p for p in names)


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

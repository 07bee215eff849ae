"""File-system helpers over fsspec: the one place that knows local paths from object stores.

Writes are atomic (temporary name, then rename) so a killed task never leaves a half-written
file that a later run could mistake for finished work.
"""

from __future__ import annotations

import functools
import io
import json
import os
import uuid
from collections.abc import Mapping
from typing import Any

import fsspec
import fsspec.config
import pyarrow as pa
import pyarrow.parquet as pq

PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "row_group_size": 8192}
"""Statistics and the stored Arrow schema are chosen per table (``parquet_bytes``)."""


# What fsspec read from its own environment variables and files when imported.
_FSSPEC_DEFAULTS = {p: dict(kw) for p, kw in fsspec.config.conf.items()}


def configure_storage(options: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Make ``options`` (per protocol, e.g. ``{"s3": {"endpoint_url": ...}}``) the fsspec defaults here.

    fsspec applies ``fsspec.config.conf[protocol]`` to every file system it creates, so every
    reader and writer (ours, pyarrow's, datasets') gets them. Returns the ``FSSPEC_<PROTOCOL>``
    variables that give another process the same defaults: fsspec reads them when it is
    imported, which is how the settings reach Ray workers (``runtime_env`` env_vars).
    """
    fsspec.config.conf.clear()
    fsspec.config.conf.update({p: dict(kw) for p, kw in _FSSPEC_DEFAULTS.items()})
    for protocol, kwargs in options.items():
        fsspec.config.conf.setdefault(protocol, {}).update(kwargs)
    return {f"FSSPEC_{p.upper()}": json.dumps(dict(kw), sort_keys=True) for p, kw in options.items() if kw}


def filesystem(path: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec file system of ``path`` and the path inside it."""
    fs, inner = fsspec.core.url_to_fs(path)
    return fs, inner


def is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *[p.strip("/") for p in parts]])


def exists(path: str) -> bool:
    fs, inner = filesystem(path)
    return fs.exists(inner)


def makedirs(path: str) -> None:
    fs, inner = filesystem(path)
    fs.makedirs(inner, exist_ok=True)


def listdir(path: str, suffix: str | tuple[str, ...] = "", prefix: str = "", recursive: bool = False) -> list[str]:
    """Sorted full paths of the files under ``path`` named ``<prefix>...<suffix>``; [] when it is absent.

    Directly under ``path``, or at any depth with ``recursive``. Every stage lists its parts here;
    the temporary files of an interrupted atomic write (``*.tmp-<uuid>``) never match a suffix.
    """
    fs, inner = filesystem(path)
    if not fs.exists(inner):
        return []
    protocol = path.split("://", 1)[0] + "://" if "://" in path and not path.startswith("file://") else ""
    found = fs.find(inner) if recursive else fs.ls(inner, detail=False)
    names = [p for p in found if p.endswith(suffix) and p.rsplit("/", 1)[-1].startswith(prefix)]
    return sorted(protocol + p if protocol and not p.startswith(protocol) else p for p in names)


def remove(path: str, recursive: bool = False) -> None:
    fs, inner = filesystem(path)
    if fs.exists(inner):
        fs.rm(inner, recursive=recursive)


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either nothing or the whole file."""
    fs, inner = filesystem(path)
    parent = inner.rsplit("/", 1)[0] if "/" in inner else "."
    fs.makedirs(parent, exist_ok=True)
    if is_local(path):
        tmp = f"{inner}.tmp-{uuid.uuid4().hex}"
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, inner)
        except BaseException:  # disk full, killed: leave no partial file behind
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
    else:  # object stores publish a PUT atomically
        with fs.open(inner, "wb") as f:
            f.write(data)


def read_bytes(path: str) -> bytes:
    fs, inner = filesystem(path)
    with fs.open(inner, "rb") as f:
        return f.read()


def write_json(path: str, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())


def read_json(path: str) -> Any:
    return json.loads(read_bytes(path))


def statistics_columns(schema: pa.Schema) -> list[str]:
    """Top-level fixed-width columns (numbers, keys, times): the ones whose row-group min/max a reader
    prunes on (``runtime.rows.read_key_range``). Strings and nested columns get none: Arrow stores a
    string's min and max whole (up to 4 KiB) in the footer and again in the page header, so a
    one-document part held its text five times; statistics were half the bytes of such a part."""
    return [f.name for f in schema if pa.types.is_primitive(f.type) and not pa.types.is_dictionary(f.type)]


def _schema_read_back(schema: pa.Schema, store_schema: bool) -> pa.Schema:
    buf = io.BytesIO()
    pq.ParquetWriter(buf, schema, store_schema=store_schema).close()
    return pq.read_schema(pa.BufferReader(buf.getvalue()))


@functools.lru_cache(maxsize=256)
def _parquet_schema_suffices(serialized: bytes) -> bool:
    schema = pa.ipc.read_schema(pa.py_buffer(serialized))
    return _schema_read_back(schema, False).equals(_schema_read_back(schema, True), check_metadata=True)


def parquet_schema_suffices(schema: pa.Schema) -> bool:
    """Whether a reader gets the same schema back from a file without the stored Arrow schema.

    Arrow also stores its own schema in the footer (``ARROW:schema``, base64): ~5 KB for a document
    part's 54 columns, half of an empty part. It matters only for what Parquet cannot say (time
    zones, large strings, metadata), so it is stored only then.
    """
    return _parquet_schema_suffices(schema.serialize().to_pybytes())


def parquet_bytes(table: pa.Table) -> bytes:
    """``table`` as Parquet with fixed settings (equal tables give equal bytes); an empty table has
    no row group (an empty row group holds metadata for every column chunk)."""
    options = {**PARQUET_OPTIONS, "write_statistics": statistics_columns(table.schema),
               "store_schema": not parquet_schema_suffices(table.schema)}  # fmt: skip
    buf = io.BytesIO()
    if table.num_rows:
        pq.write_table(table, buf, **options)
    else:
        options.pop("row_group_size")  # a write_table option
        pq.ParquetWriter(buf, table.schema, **options).close()
    return buf.getvalue()


def write_parquet(table: pa.Table, path: str) -> None:
    """Write a table atomically (``parquet_bytes``)."""
    atomic_write_bytes(path, parquet_bytes(table))


def read_parquet(path: str, columns: list[str] | None = None) -> pa.Table:
    fs, inner = filesystem(path)
    with fs.open(inner, "rb") as f:
        return pq.read_table(f, columns=columns)


def copy(src: str, dst: str) -> None:
    """Copy a file atomically (hard link when both are local)."""
    if is_local(src) and is_local(dst):
        if os.path.exists(dst) and os.path.samefile(src, dst):
            return  # already published (renaming a link onto itself would be a no-op leaving tmp)
        os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
        tmp = f"{dst}.tmp-{uuid.uuid4().hex}"
        try:
            os.link(src, tmp)
        except OSError:
            with open(src, "rb") as fi, open(tmp, "wb") as fo:
                fo.write(fi.read())
        os.replace(tmp, dst)
    else:
        atomic_write_bytes(dst, read_bytes(src))

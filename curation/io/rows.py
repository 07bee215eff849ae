"""JSON Lines, Parquet and HF ``save_to_disk`` rows to raw records.

A row's id is its ``id_field`` when present, else ``<source>:<position>`` where the position is
the line's byte offset (JSONL: a split task knows it without reading the file before it) or the
row index (Parquet, HF shard). Other fields are kept in ``meta``.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from fsspec.utils import infer_compression

from curation.io import fs
from curation.io.decode import decode_html
from curation.io.records import RecordSink, normalize_date
from curation.io.tasks import InputError, InputTask

BATCH_ROWS = 4096
BAD_LINE_PREFIX = 200
STREAM_ERRORS = (OSError, EOFError, zstandard.ZstdError, pa.ArrowException)


def add_row(sink: RecordSink, row: dict[str, Any], position: int, cfg: Any) -> None:
    """One row (a dict) to a raw record or a reject."""
    field_name, kind = (cfg.html_field, "html") if cfg.html_field else (cfg.text_field, "text")
    rid = row.get(cfg.id_field)
    rid = str(rid) if rid not in (None, "") else f"{sink.source}:{position}"
    url = row.get(cfg.url_field)
    url = str(url) if url not in (None, "") else None
    when = normalize_date(row.get(cfg.date_field))
    known = {cfg.id_field, cfg.url_field, cfg.date_field, field_name}
    meta = {k: v for k, v in row.items() if k not in known}
    if field_name not in row:
        return sink.reject("read.malformed", rid, url, when, {**meta, "error": f"no field {field_name!r}"})
    value = row[field_name]
    if isinstance(value, bytes):
        decoded = decode_html(value, None)
        if decoded is None:
            return sink.reject("read.bad_encoding", rid, url, when, meta)
        value = decoded[0]
    if value is not None and not isinstance(value, str):
        return sink.reject("read.malformed", rid, url, when, {**meta, "error": f"{field_name!r} is not text"})
    if not value or not value.strip():
        return sink.reject("read.empty", rid, url, when, meta)
    sink.add(rid, url, when, meta, value, kind)


def read_jsonl(task: InputTask, sink: RecordSink, cfg: Any) -> None:
    """Lines starting in the task's byte range (compressed files are read whole)."""
    fsys, inner = fs.filesystem(task.path)
    with fsys.open(inner, "rb") as raw, decompressed(raw, infer_compression(task.path)) as f:
        pos = task.start
        if pos:
            f.seek(pos)
        try:
            for line in f:
                if task.stop >= 0 and pos >= task.stop:
                    break
                here, pos = pos, pos + len(line)
                if not line.endswith(b"\n") and not is_json(line):
                    sink.skip("read.truncated_stream")  # a cut stream ends inside a line
                elif line.strip():
                    add_json_line(sink, line, here, cfg)
        except STREAM_ERRORS:
            sink.skip("read.truncated_stream")


def decompressed(raw: BinaryIO, compression: str | None) -> BinaryIO:
    """A line-iterable stream; zstd reads across frames (large .zst files are multi-frame)."""
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw)
    if compression == "zstd":
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True))
    if compression is None:
        return contextlib.nullcontext(raw)
    raise InputError(f"unsupported compression {compression!r}: {raw}")


def is_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def add_json_line(sink: RecordSink, line: bytes, position: int, cfg: Any) -> None:
    rid = f"{sink.source}:{position}"
    try:
        row = json.loads(line)
    except UnicodeDecodeError:
        return sink.reject("read.bad_encoding", rid, None, None, {})
    except ValueError as err:
        prefix = line[:BAD_LINE_PREFIX].decode("utf-8", "replace")
        return sink.reject("read.bad_json", rid, None, None, {"error": str(err), "line_prefix": prefix})
    if not isinstance(row, dict):
        return sink.reject("read.malformed", rid, None, None, {"error": f"a JSON {type(row).__name__}, not an object"})
    add_row(sink, row, position, cfg)


def read_parquet(task: InputTask, sink: RecordSink, cfg: Any) -> None:
    """Row groups ``[start, stop)`` of a Parquet file."""
    fsys, inner = fs.filesystem(task.path)
    with fsys.open(inner, "rb") as f:
        try:
            pf = pq.ParquetFile(f)
            stop = pf.num_row_groups if task.stop < 0 else task.stop
            position = sum(pf.metadata.row_group(i).num_rows for i in range(task.start))
            groups = list(range(task.start, stop))
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, row_groups=groups) if groups else ():
                position = add_batch(sink, batch, position, cfg)
        except STREAM_ERRORS:
            sink.skip("read.malformed_stream")


def read_hf_shard(task: InputTask, sink: RecordSink, cfg: Any) -> None:
    """One Arrow shard of a ``datasets`` ``save_to_disk`` folder (Arrow IPC stream format)."""
    fsys, inner = fs.filesystem(task.path)
    with fsys.open(inner, "rb") as f:
        position = 0
        try:
            for batch in pa.ipc.open_stream(f):
                position = add_batch(sink, batch, position, cfg)
        except STREAM_ERRORS:
            sink.skip("read.malformed_stream")


def add_batch(sink: RecordSink, batch: pa.RecordBatch, position: int, cfg: Any) -> int:
    for row in batch.to_pylist():
        add_row(sink, row, position, cfg)
        position += 1
    return position

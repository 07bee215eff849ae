"""Input paths to read tasks: expand, sort, tell the format, cut large files into ranges.

Local paths and fsspec URIs (s3://, gs://, memory://) go through the same fsspec calls. Task
ids come from the sorted file list, so they never depend on the number of workers.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from glob import has_magic
from typing import Any

import fsspec
import pyarrow.parquet as pq
from fsspec.utils import infer_compression

from curation.io import fs
from curation.io.boundaries import layout_of, next_record_start
from curation.io.tasks import InputError, InputTask

log = logging.getLogger(__name__)

SUFFIX_FORMATS: list[tuple[str, str]] = [
    (".warc.wet.gz", "wet"),
    (".wet.gz", "wet"),
    (".wet", "wet"),
    (".warc.gz", "warc"),
    (".warc.zst", "warc"),
    (".warc", "warc"),
    (".arc.gz", "arc"),
    (".arc", "arc"),
    (".parquet", "parquet"),
    *[(ext + comp, "jsonl") for ext in (".jsonl", ".json", ".ndjson") for comp in ("", ".gz", ".zst")],
]
HF_STATE = "state.json"
SNIFF_BYTES = 64


def format_from_name(path: str) -> str | None:
    name = path.lower()
    return next((fmt for suffix, fmt in SUFFIX_FORMATS if name.endswith(suffix)), None)


def sniff_format(fsys: fsspec.AbstractFileSystem, inner: str) -> str | None:
    """The format from a file's first bytes (for names without a known extension)."""
    with fsys.open(inner, "rb") as f:
        head = f.read(SNIFF_BYTES)
    if head.startswith(b"\x1f\x8b"):
        try:
            head = gzip.GzipFile(fileobj=fsys.open(inner, "rb")).read(SNIFF_BYTES)
        except (OSError, EOFError):
            return None
    if head.startswith(b"WARC/1."):
        return "warc"
    if head.startswith(b"filedesc://"):
        return "arc"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip().startswith(b"{"):
        return "jsonl"
    return None


def resolve_format(forced: str, path: str, fsys: fsspec.AbstractFileSystem, inner: str) -> str | None:
    """The reader for one file: ARC stays ARC (only warcio reads it), else forced, name, content."""
    by_name = format_from_name(path)
    if by_name == "arc" or (forced == "warc" and by_name is None and sniff_format(fsys, inner) == "arc"):
        return "arc"
    if forced != "auto":
        return forced
    return by_name or sniff_format(fsys, inner)


def expand_inputs(paths: list[str], forced: str = "auto") -> list[tuple[str, str]]:
    """``(path, format)`` of every input file or HF dataset folder, sorted and unique."""
    if not paths:
        raise InputError("no input paths: set input.paths or pass --input")
    found: dict[str, str] = {}
    for given in paths:
        fsys, inner = fs.filesystem(given)
        uri = (lambda p: p) if fs.is_local(given) else fsys.unstrip_protocol
        matches = sorted(fsys.glob(inner)) if has_magic(inner) else [inner] if fsys.exists(inner) else []
        if not matches:
            raise InputError(f"input not found: {given}")
        for match in matches:
            if fsys.isdir(match):
                found.update(_walk_folder(fsys, match, forced, uri))
                continue
            fmt = resolve_format(forced, match, fsys, match)
            if fmt is None:
                raise InputError(f"cannot tell the format of {given}; set input.format")
            found[uri(match)] = fmt
    if not found:
        raise InputError(f"no readable input files under {', '.join(paths)}")
    return sorted(found.items())


def _walk_folder(fsys, folder: str, forced: str, uri) -> Iterator[tuple[str, str]]:
    """Files of a folder by extension; a folder holding ``state.json`` is one HF dataset."""
    files = sorted(fsys.find(folder))
    datasets = [f.rsplit("/", 1)[0] for f in files if f.rsplit("/", 1)[-1] == HF_STATE]
    for ds in datasets:
        yield uri(ds), "hf"
    for f in files:
        name = f.rsplit("/", 1)[-1]
        if name.startswith((".", "_")) or any(f.startswith(ds + "/") for ds in datasets):
            continue
        fmt = format_from_name(f) if forced == "auto" else resolve_format(forced, f, fsys, f)
        if fmt is None:
            log.warning("ignoring %s: unknown input format", uri(f))
            continue
        yield uri(f), fmt


def plan_input_tasks(cfg: Any) -> list[InputTask]:
    """Read tasks for ``cfg`` (an ``InputConfig``): one per file, or per range of a large file."""
    tasks: list[InputTask] = []
    for index, (path, fmt) in enumerate(expand_inputs(cfg.paths, cfg.format)):
        if fmt == "hf":
            pieces = [(shard, 0, -1, source) for shard, source in hf_shards(path)]
        else:
            name = path.rstrip("/").rsplit("/", 1)[-1]
            pieces = [(path, start, stop, name) for start, stop in split_ranges(path, fmt, cfg.split_bytes)]
        for split, (piece, start, stop, source) in enumerate(pieces):
            tasks.append(InputTask(f"{index:05d}-{split:04d}", piece, fmt, source, start, stop))
    return tasks


def hf_shards(folder: str) -> list[tuple[str, str]]:
    """``(arrow file, source name)`` of a ``datasets.save_to_disk`` folder, in dataset order."""
    state = fs.read_json(fs.join(folder, HF_STATE))
    parent = folder.rstrip("/").rsplit("/", 1)[-1]
    names = [entry["filename"] for entry in state.get("_data_files", [])]
    if not names:
        raise InputError(f"{folder}: state.json lists no data files")
    return [(fs.join(folder, n), f"{parent}/{n}") for n in names]


def split_ranges(path: str, fmt: str, split_bytes: int) -> list[tuple[int, int]]:
    """``(start, stop)`` ranges of about ``split_bytes`` where the layout allows a cut."""
    fsys, inner = fs.filesystem(path)
    size = fsys.size(inner)
    if size is None or size <= split_bytes:
        return [(0, -1)]
    if fmt == "parquet":
        return _row_group_ranges(fsys, inner, split_bytes)
    if fmt == "jsonl" and infer_compression(path):
        return [(0, -1)]
    with fsys.open(inner, "rb") as f:
        layout = layout_of(f.read(SNIFF_BYTES), fmt)
        if layout is None:
            return [(0, -1)]
        bounds = [0]
        for cut in range(split_bytes, size, split_bytes):
            found = next_record_start(f, layout, max(cut, bounds[-1] + 1), limit=cut + split_bytes)
            if found is not None and found < size:
                bounds.append(found)
    return list(zip(bounds, [*bounds[1:], -1]))


def _row_group_ranges(fsys, inner: str, split_bytes: int) -> list[tuple[int, int]]:
    with fsys.open(inner, "rb") as f:
        meta = pq.ParquetFile(f).metadata
    ranges, start, size = [], 0, 0
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        size += sum(group.column(c).total_compressed_size for c in range(group.num_columns))
        if size >= split_bytes and i + 1 < meta.num_row_groups:
            ranges.append((start, i + 1))
            start, size = i + 1, 0
    ranges.append((start, -1))
    return ranges

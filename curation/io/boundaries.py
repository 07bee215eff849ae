"""Finding where records start inside a file, to split large files and to resynchronise.

Three layouts can be cut at a byte offset without reading what comes before:
- ``gzip``: a WARC with one gzip member per record (Common Crawl): a member start is the gzip
  magic whose decompressed bytes begin with ``WARC/``;
- ``warc``: an uncompressed WARC: a ``WARC/1.x`` line at a line start whose ``Content-Length``
  lands on the record's closing CRLFs (or on the end of the file);
- ``lines``: JSON Lines: the byte after a newline.
"""

from __future__ import annotations

import re
import zlib
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_START = re.compile(rb"(?:^|\n)(WARC/1\.[01]\r?\n)")
CONTENT_LENGTH = re.compile(rb"\ncontent-length:[ \t]*(\d+)[ \t]*\r?\n", re.IGNORECASE)
SCAN_CHUNK = 1 << 20
VERIFY_BYTES = 1 << 16


def layout_of(head: bytes, fmt: str) -> str | None:
    """The cuttable layout of a file from its first bytes, or None when it cannot be cut."""
    if fmt == "jsonl":
        return "lines"
    if fmt in ("warc", "wet"):
        if head.startswith(GZIP_MAGIC):
            return "gzip"
        if head.startswith(b"WARC/1."):
            return "warc"
    return None


def next_record_start(f: BinaryIO, layout: str, offset: int, limit: int | None = None) -> int | None:
    """The first record start at or after ``offset`` (and before ``limit``), or None."""
    if layout == "lines" and offset == 0:
        return 0
    pos = offset - 1 if layout == "lines" else offset  # a line starts right after a newline
    while limit is None or pos < limit:
        f.seek(pos)
        chunk = f.read(SCAN_CHUNK + 16)
        if not chunk:
            return None
        found = _first_in_chunk(f, layout, chunk, pos)
        if found is not None:
            return found if limit is None or found < limit else None
        if len(chunk) <= SCAN_CHUNK:
            return None
        pos += SCAN_CHUNK
    return None


def _first_in_chunk(f: BinaryIO, layout: str, chunk: bytes, base: int) -> int | None:
    if layout == "lines":
        nl = chunk.find(b"\n")
        return base + nl + 1 if 0 <= nl < SCAN_CHUNK else None
    if layout == "gzip":
        i = chunk.find(GZIP_MAGIC)
        while 0 <= i < SCAN_CHUNK:
            if _is_gzip_warc_start(f, base + i):
                return base + i
            i = chunk.find(GZIP_MAGIC, i + 1)
        return None
    for match in WARC_START.finditer(chunk):
        start = base + match.start(1)
        if match.start(1) < SCAN_CHUNK and _is_warc_record(f, start):
            return start
    return None


def _is_gzip_warc_start(f: BinaryIO, offset: int) -> bool:
    f.seek(offset)
    try:
        head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(f.read(VERIFY_BYTES), 16)
    except zlib.error:
        return False
    return head.startswith(b"WARC/1.")


def _is_warc_record(f: BinaryIO, offset: int) -> bool:
    f.seek(offset)
    head = f.read(VERIFY_BYTES)
    end = head.find(b"\r\n\r\n")
    if end < 0:
        return False
    length = CONTENT_LENGTH.search(head[: end + 2])
    if not length:
        return False
    f.seek(offset + end + 4 + int(length.group(1)))
    tail = f.read(4)
    return tail == b"\r\n\r\n" or len(tail) < 4

"""Bytes of WARC records the way Common Crawl writes them: one gzip member per record.

Everything is deterministic (gzip ``mtime=0``, ids derived from a seed), so the same inputs
give the same file bytes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import uuid

CRLF = b"\r\n"
ID_NAMESPACE = uuid.UUID("6f1d3c1e-52a4-4c55-9d3b-6f7a2f1b9c10")


def record_id(*parts: object) -> str:
    """A stable ``<urn:uuid:...>`` from any parts (uuid5, so equal parts give equal ids)."""
    return f"<urn:uuid:{uuid.uuid5(ID_NAMESPACE, '/'.join(map(str, parts)))}>"


def sha1_digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def header_block(first_line: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [first_line, *(f"{k}: {v}" for k, v in headers)]
    return CRLF.join(line.encode("utf-8") for line in lines) + CRLF + CRLF


def http_response(status: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    """An HTTP/1.1 response block (status like ``200 OK``)."""
    return header_block(f"HTTP/1.1 {status}", headers) + body


def warc_record(
    warc_type: str,
    rid: str,
    date: str,
    block: bytes,
    headers: list[tuple[str, str]],
    content_length: str | None = None,
) -> bytes:
    """One WARC/1.0 record; ``content_length`` overrides the true length (to write broken records)."""
    all_headers = [
        ("WARC-Type", warc_type),
        ("WARC-Date", date),
        ("WARC-Record-ID", rid),
        *headers,
        ("WARC-Block-Digest", sha1_digest(block)),
        ("Content-Length", content_length if content_length is not None else str(len(block))),
    ]
    return header_block("WARC/1.0", all_headers) + block + CRLF + CRLF


def gzip_member(data: bytes) -> bytes:
    """One gzip member with a fixed timestamp, so the bytes depend only on ``data``."""
    return gzip.compress(data, compresslevel=6, mtime=0)

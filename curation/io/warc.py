"""WARC, WET and ARC records to raw records, with every skipped record counted.

fastwarc reads WARC/WET (fast, lenient, gzip per record or whole-file gzip). When it gives up
on damaged bytes, reading resumes at the next verified record start, so one bad record never
costs the rest of the file. ARC files (which fastwarc does not read) go through warcio.

The HTTP head of a response block is split here rather than by fastwarc, because some archivers
(Wayback-style exports, proxies that store what the browser saw) write response records whose
block is the bare payload with no status line. Such a record is read with its type taken from the
WARC headers or sniffed, and counted as ``read.quirk.no_http_headers``; readers that insist on a
status line would drop it or cut its first lines off as "headers".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from curation.io import fs
from curation.io.boundaries import layout_of, next_record_start
from curation.io.decode import (
    PayloadError,
    charset_from_content_type,
    decode_html_utf8,
    looks_like_html,
    undo_http_encodings,
)
from curation.io.records import RecordSink, normalize_date
from curation.io.tasks import InputTask

HTML_TYPES = ("text/html", "application/xhtml+xml")
UNSAID_TYPES = ("", "application/octet-stream", "unknown/unknown", "application/unknown")
"""Content types that say nothing about the payload: the bytes are sniffed instead."""
HTTP_HEAD_END = re.compile(rb"\r?\n\r?\n")


@dataclass
class Response:
    """An HTTP response record, whichever library parsed it."""

    rid: str
    url: str | None
    date: str | None
    status: int | None
    content_type: str | None
    charset: str | None
    body: bytes
    truncated: bool
    transfer_encoding: str | None = None
    content_encoding: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    has_http_head: bool = True
    quirks: list[str] = field(default_factory=list)


def clean_url(uri: str | None) -> str | None:
    """WARC-Target-URI without wget's ``<...>`` wrapping and with spaces percent-encoded."""
    if not uri:
        return None
    return quote(uri.strip().strip("<>"), safe=":/?#[]@!$&'()*+,;=%~")


def media_type(content_type: str | None) -> str:
    """``text/html; charset=x`` -> ``text/html``."""
    return (content_type or "").split(";")[0].strip().lower()


def split_http(block: bytes) -> tuple[int | None, dict[str, str], bytes] | None:
    """``(status, headers, payload)`` of an HTTP response block, or None when it has no status line.

    Header names are lower-cased and the first of repeated headers wins; the status is None when the
    status line has no numeric code.
    """
    if block[:5].upper() != b"HTTP/":
        return None
    end = HTTP_HEAD_END.search(block)
    head, payload = (block[: end.start()], block[end.end() :]) if end else (block, b"")
    status_line, *lines = head.decode("latin-1").splitlines()
    parts = status_line.split(None, 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if colon:
            headers.setdefault(name.strip().lower(), value.strip())
    return status, headers, payload


def add_response(sink: RecordSink, resp: Response, max_bytes: int) -> None:
    """Apply the response rules (status, type, size, encoding) and add a raw record or a reject."""
    meta = {"http_status": resp.status, "content_type": resp.content_type, **resp.meta, "quirks": resp.quirks or None}

    def reject(reason: str, **more: Any) -> None:
        sink.reject(reason, resp.rid, resp.url, resp.date, {**meta, **more})

    if resp.truncated:
        return reject("read.truncated")
    if resp.has_http_head and resp.status is None:
        return reject("read.malformed", error="HTTP status line without a status code")
    if resp.status is not None and not 200 <= resp.status < 300:
        return reject("read.http_status")
    try:
        body, undone = undo_http_encodings(resp.body, resp.transfer_encoding, resp.content_encoding)
    except PayloadError as err:
        return reject("read.malformed", error=str(err))
    quirks = resp.quirks + undone
    meta["quirks"] = quirks or None
    if len(body) > max_bytes:
        return reject("read.too_large", bytes=len(body))
    if not body.strip():
        return reject("read.empty")
    if resp.content_type or not resp.has_http_head:  # the crawler's sniffed type describes an HTTP payload
        ctype = resp.content_type or ""
    else:
        ctype = media_type(meta.get("identified_type"))
    if ctype not in HTML_TYPES and not (ctype in UNSAID_TYPES and looks_like_html(body)):
        return reject("read.non_html")
    decoded = decode_html_utf8(body, resp.charset)
    if decoded is None:
        return reject("read.bad_encoding")
    content, charset = decoded
    for quirk in quirks:  # counted for the records they saved
        sink.quirk(quirk)
    sink.add(resp.rid, resp.url, resp.date, {**meta, "charset": charset}, content, "html")


def warc_meta(headers) -> dict[str, Any]:
    """The WARC headers worth keeping with a document."""
    keep = {
        "WARC-Type": "warc_type",
        "WARC-IP-Address": "ip",
        "WARC-Truncated": "warc_truncated",
        "WARC-Identified-Payload-Type": "identified_type",
        "WARC-Identified-Content-Language": "identified_language",
        "WARC-Refers-To": "refers_to",
    }
    return {name: headers.get(key) for key, name in keep.items()}


def record_identity(record: WarcRecord, task: InputTask) -> tuple[str, str | None, str | None, dict[str, Any]]:
    headers = record.headers
    raw_date = headers.get("WARC-Date")
    when = normalize_date(raw_date)
    meta = warc_meta(headers)
    if raw_date and when is None:
        meta["bad_date"] = raw_date
    rid = record.record_id or f"{task.source}:{record.stream_pos}"
    return rid, clean_url(headers.get("WARC-Target-URI")), when, meta


def handle_fastwarc_record(record: WarcRecord, task: InputTask, sink: RecordSink, max_bytes: int) -> None:
    rtype = record.record_type
    if rtype not in (WarcRecordType.response, WarcRecordType.conversion):
        if rtype == WarcRecordType.unknown and not record.record_id:
            sink.skip("read.malformed_stream")  # a header block fastwarc could not make sense of
        else:
            sink.count_other()
        return
    rid, url, when, meta = record_identity(record, task)
    if "Content-Length" not in record.headers:  # the header block was cut short
        return sink.reject("read.truncated", rid, url, when, meta)
    if record.content_length > max_bytes:
        record.consume()
        return sink.reject("read.too_large", rid, url, when, {**meta, "bytes": record.content_length})
    if rtype == WarcRecordType.conversion:
        return add_conversion(sink, record, rid, url, when, meta)
    block = record.reader.read()
    truncated = len(block) < record.content_length
    http = split_http(block)
    if http is None:  # the block is the bare payload: its type can only come from the WARC headers
        warc_type = media_type(record.headers.get("Content-Type"))
        ctype = None if warc_type.startswith("application/http") else record.headers.get("Content-Type")
        resp = Response(rid, url, when, None, media_type(ctype) or None, charset_from_content_type(ctype), block,
                        truncated, meta=meta, has_http_head=False, quirks=["read.quirk.no_http_headers"])
    else:
        status, headers, body = http
        ctype = headers.get("content-type")
        resp = Response(rid, url, when, status, media_type(ctype) or None, charset_from_content_type(ctype), body,
                        truncated, headers.get("transfer-encoding"), headers.get("content-encoding"), meta)
    add_response(sink, resp, max_bytes)


def add_conversion(sink: RecordSink, record: WarcRecord, rid: str, url, when, meta: dict[str, Any]) -> None:
    """A WET ``conversion`` record: already plain UTF-8 text."""
    remaining = record.content_length
    body = record.reader.read()
    if len(body) < remaining:
        return sink.reject("read.truncated", rid, url, when, meta)
    if not body.strip():
        return sink.reject("read.empty", rid, url, when, meta)
    decoded = decode_html_utf8(body, "utf-8")
    if decoded is None:
        return sink.reject("read.bad_encoding", rid, url, when, meta)
    sink.add(rid, url, when, {**meta, "content_type": "text/plain"}, decoded[0], "text")


def read_warc(task: InputTask, sink: RecordSink, cfg: Any) -> None:
    """Read the records of ``task`` with fastwarc, resuming after damage at the next record start."""
    fsys, inner = fs.filesystem(task.path)
    with fsys.open(inner, "rb") as f:
        layout = layout_of(f.read(16), task.format)
        start = task.start
        while start is not None:
            f.seek(start)
            last = start
            try:
                for record in ArchiveIterator(f, parse_http=False):
                    if not task.covers(record.stream_pos):
                        return
                    last = record.stream_pos
                    handle_fastwarc_record(record, task, sink, cfg.max_record_bytes)
                return
            except OSError:  # fastwarc's signal for bytes it cannot parse or decompress
                sink.skip("read.malformed_stream")
            start = next_record_start(f, layout, last + 1, task.stop if task.stop >= 0 else None) if layout else None


def read_arc(task: InputTask, sink: RecordSink, cfg: Any) -> None:
    """Read an ARC file (plain or gzip) with warcio, which converts ARC records to WARC ones."""
    from warcio.archiveiterator import ArchiveIterator as WarcioIterator

    fsys, inner = fs.filesystem(task.path)
    with fsys.open(inner, "rb") as f:
        records = WarcioIterator(f, arc2warc=True)
        try:
            for record in records:
                if record.rec_type != "response":
                    sink.count_other()
                    continue
                body = record.content_stream().read() if record.http_headers else b""
                offset = records.get_record_offset()  # warcio makes random record ids for ARC
                http = record.http_headers
                status = http.get_statuscode() if http else None
                ctype = http.get_header("Content-Type") if http else None
                add_response(
                    sink,
                    Response(
                        f"{task.source}:{offset}",
                        clean_url(record.rec_headers.get_header("WARC-Target-URI")),
                        normalize_date(record.rec_headers.get_header("WARC-Date")),
                        int(status) if status and status.isdigit() else None,
                        ctype.split(";")[0].strip().lower() if ctype else None,
                        charset_from_content_type(ctype),
                        body,
                        truncated=False,
                        meta={"warc_type": "response", "format": "arc"},
                    ),
                    cfg.max_record_bytes,
                )
        except Exception:  # noqa: BLE001 - warcio raises many types on broken ARC headers
            sink.skip("read.malformed_stream")

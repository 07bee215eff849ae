"""Bytes to text for web payloads: undo HTTP transfer/content encodings, then pick a charset.

Charset order (as browsers do, minus full HTML5 sniffing): a byte-order mark, the HTTP
``Content-Type`` charset, the page's ``<meta charset>``, UTF-8, then resiliparse's detector
(uchardet). The first that decodes strictly wins; otherwise the first that decodes with at most
a few replacement characters; otherwise the page is undecodable.
"""

from __future__ import annotations

import codecs
import io
import re

from fastwarc.stream_io import BrotliReader, ChunkedReader, GzipReader
from resiliparse.parse.encoding import detect_encoding, map_encoding_to_html5

META_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
META_SCAN_BYTES = 4096
MAX_REPLACEMENT_SHARE = 0.001  # a stray bad byte per KiB is a damaged page, not a wrong charset
MAX_NUL_SHARE = 0.001  # text with NULs is binary in disguise
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


class PayloadError(ValueError):
    """A payload whose HTTP encoding cannot be undone."""


HTML_SNIFF_BYTES = 1024


def looks_like_html(body: bytes) -> bool:
    """Whether the payload starts like an HTML document (for responses that do not say their type)."""
    head = body[:HTML_SNIFF_BYTES].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml")) or b"<html" in head


def undo_http_encodings(
    body: bytes, transfer_encoding: str | None, content_encoding: str | None
) -> tuple[bytes, list[str]]:
    """Remove ``Transfer-Encoding: chunked`` and gzip/deflate/br ``Content-Encoding``.

    Some archivers store the body already decoded but keep the original headers; a step that fails
    on a body that already looks like HTML is skipped and named in the returned quirks, since the
    page is intact. Any other failure is a ``PayloadError``.
    """
    quirks: list[str] = []
    if transfer_encoding and "chunked" in transfer_encoding.lower():
        body = _undo(body, lambda b: ChunkedReader(io.BytesIO(b)), "read.quirk.not_chunked", quirks)
    coding = (content_encoding or "").strip().lower()
    if coding in ("gzip", "x-gzip"):
        body = _undo(body, lambda b: GzipReader(io.BytesIO(b)), "read.quirk.not_compressed", quirks)
    elif coding == "deflate":
        body = _undo(body, lambda b: GzipReader(io.BytesIO(b), zlib=True), "read.quirk.not_compressed", quirks)
    elif coding == "br":
        body = _undo(body, lambda b: BrotliReader(io.BytesIO(b)), "read.quirk.not_compressed", quirks)
    return body, quirks


def _undo(body: bytes, reader, quirk: str, quirks: list[str]) -> bytes:
    try:
        return _read_all(reader(body))
    except OSError as err:
        if looks_like_html(body):
            quirks.append(quirk)
            return body
        raise PayloadError(str(err)) from None


def _read_all(reader) -> bytes:
    parts = []
    while chunk := reader.read(1 << 20):
        parts.append(chunk)
    return b"".join(parts)


def charset_label(name: str | None) -> str | None:
    """A Python codec name for a web charset label (WHATWG mapping), or None if unknown."""
    if not name:
        return None
    label = map_encoding_to_html5(name.strip().strip("\"'"), fallback_utf8=False)
    try:
        return codecs.lookup(label).name if label else None
    except LookupError:
        return None


def meta_charset(data: bytes) -> str | None:
    match = META_CHARSET.search(data[:META_SCAN_BYTES])
    return charset_label(match.group(1).decode("ascii")) if match else None


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset=`` parameter of a Content-Type header value."""
    match = re.search(r"charset\s*=\s*[\"']?([^\"';\s]+)", content_type or "", re.IGNORECASE)
    return charset_label(match.group(1)) if match else None


def decode_html(data: bytes, http_charset: str | None) -> tuple[str, str] | None:
    """``(text, charset used)``, or None when no candidate charset gives sane text."""
    declared = [enc for bom, enc in BOMS if data.startswith(bom)]
    declared += [charset_label(http_charset), meta_charset(data), "utf-8"]
    candidates = list(dict.fromkeys(c for c in declared if c))
    for enc in candidates:
        decoded = _strict(data, enc)
        if decoded is not None:
            return _sane(decoded, enc)
    detected = charset_label(detect_encoding(data, from_html_meta=False))  # only now: detection is slow
    if detected and detected not in candidates:
        candidates.append(detected)
        decoded = _strict(data, detected)
        if decoded is not None:
            return _sane(decoded, detected)
    for enc in candidates:
        text = data.decode(enc, errors="replace")
        if text.count("\ufffd") <= MAX_REPLACEMENT_SHARE * len(text) + 1:
            return _sane(text, enc)
    return None


def decode_html_utf8(data: bytes, http_charset: str | None) -> tuple[bytes, str] | None:
    """``decode_html``'s text as UTF-8 bytes (what Arrow stores), and the charset used.

    A page that decoded strictly as UTF-8 without a byte-order mark (most pages) is its own
    payload: handing Arrow these bytes saves encoding the decoded text again (0.3 CPU-s on the
    shared crawl's 177 MB of HTML). A U+FFFD in the text may be a replaced byte, so such a text
    is encoded.
    """
    decoded = decode_html(data, http_charset)
    if decoded is None:
        return None
    text, charset = decoded
    if charset == "utf-8" and not data.startswith(codecs.BOM_UTF8) and "\ufffd" not in text:
        return data, charset
    return text.encode("utf-8"), charset


def _strict(data: bytes, enc: str) -> str | None:
    try:
        return data.decode(enc)
    except (UnicodeDecodeError, LookupError):
        return None


def _sane(text: str, enc: str) -> tuple[str, str] | None:
    if text.count("\x00") > MAX_NUL_SHARE * len(text):
        return None
    return text.removeprefix("\ufeff"), enc

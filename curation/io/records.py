"""Collecting what a read task finds: raw records, rejected records and stream-level counters.

Raw records are what the extraction stage consumes (HTML or text in ``content``); rejects are
document rows with a ``reason`` so they can be written to ``rejects/`` like any other stage's.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timezone
from typing import Any

import numpy as np
import pyarrow as pa

from curation.schema import empty_rejects, make_documents, split_by_reason

RAW_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("date", pa.string()),
        pa.field("source", pa.string()),
        pa.field("meta", pa.string()),
        pa.field("content", pa.large_string()),
        pa.field("content_kind", pa.string()),
    ]
)


def normalize_date(value: Any) -> str | None:
    """An ISO-8601 UTC timestamp ``YYYY-MM-DDTHH:MM:SSZ`` (comparable as a string), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def dump_meta(meta: dict[str, Any]) -> str:
    """Meta as canonical JSON (sorted keys, no nulls) so equal records give equal bytes."""
    return json.dumps({k: v for k, v in meta.items() if v is not None}, sort_keys=True, ensure_ascii=False, default=str)


def utf8_column(values: list[str | bytes]) -> pa.Array:
    """``large_string`` of texts or their UTF-8 bytes, wrapped around one joined buffer (UTF-8 checked).

    pyarrow's own builder grows its buffer by doubling, copying into fresh memory each time: 0.15
    CPU-s more for the shared crawl's 177 MB of pages.
    """
    data = [v if isinstance(v, bytes) else v.encode("utf-8") for v in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([len(v) for v in data], out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
    return pa.Array.from_buffers(pa.large_binary(), len(data), buffers).cast(pa.large_string())


class RecordSink:
    """Accumulates one task's output; ``tables()`` returns ``(raw_records, rejects, counters)``.

    Counters: ``records_read``, ``records_other``, one ``read.quirk.*`` count per quirk seen, and
    ``skipped`` (stream damage by reason).
    """

    def __init__(self, source: str):
        self.source = source
        self.raw: dict[str, list] = {name: [] for name in RAW_SCHEMA.names}
        self.rejected: dict[str, list] = {"id": [], "url": [], "date": [], "meta": [], "text": [], "reason": []}
        self.skipped: Counter[str] = Counter()
        self.quirks: Counter[str] = Counter()
        self.records = 0
        self.other = 0

    def add(
        self, rid: str, url: str | None, when: str | None, meta: dict[str, Any], content: str | bytes, kind: str
    ) -> None:
        """A raw record; ``content`` is text or its UTF-8 bytes (``decode_html_utf8``)."""
        self.records += 1
        for name, value in zip(RAW_SCHEMA.names, (rid, url, when, self.source, dump_meta(meta), content, kind)):
            self.raw[name].append(value)

    def reject(self, reason: str, rid: str, url: str | None, when: str | None, meta: dict[str, Any]) -> None:
        """A record that has an identity but cannot become a document."""
        self.records += 1
        for name, value in zip(self.rejected, (rid, url, when, dump_meta(meta), None, reason)):
            self.rejected[name].append(value)

    def skip(self, reason: str) -> None:
        """Stream damage with no record to show for it: only counted."""
        self.skipped[reason] += 1

    def quirk(self, name: str) -> None:
        """A real-world deviation that was read anyway (``read.quirk.*``), counted so it stays visible."""
        self.quirks[name] += 1

    def count_other(self) -> None:
        """A record that is not a document (WARC request, metadata, warcinfo, revisit...)."""
        self.other += 1

    def tables(self) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
        raw = pa.Table.from_pydict({**self.raw, "content": utf8_column(self.raw["content"])}, schema=RAW_SCHEMA)
        rejects = empty_rejects()
        if self.rejected["id"]:
            columns = {k: v for k, v in self.rejected.items() if k != "reason"}
            docs = make_documents({**columns, "source": [self.source] * len(columns["id"])})
            _, rejects = split_by_reason(docs, self.rejected["reason"])
        counters: dict[str, Any] = {"records_read": self.records, "records_other": self.other}
        counters.update(sorted(self.quirks.items()))
        if self.skipped:
            counters["skipped"] = dict(sorted(self.skipped.items()))
        return raw, rejects, counters

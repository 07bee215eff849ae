"""Which duplicate survives: a total, deterministic order over documents.

The best document of a group sorts first: highest priority (newest ``date``, longest ``text`` or
highest ``quality_score``, per the keep policy), ties broken by the smallest ``id``. Dates are ISO
8601 strings, which order lexicographically; a missing date, score or text ranks last.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from curation.dedup.config import KeepPolicy


def priority(docs: pa.Table, policy: KeepPolicy) -> pa.Array:
    """A sortable priority column (larger is better) for ``docs`` under ``policy``."""
    if policy == "newest":
        return pc.fill_null(docs.column("date"), "").combine_chunks()
    if policy == "longest":
        return pc.fill_null(pc.utf8_length(docs.column("text")).cast(pa.int64()), -1).combine_chunks()
    if policy == "quality":
        return pc.fill_null(docs.column("quality_score").cast(pa.float64()), float("-inf")).combine_chunks()
    raise ValueError(f"unknown keep policy {policy!r}")


def best_first(table: pa.Table, group: str | None = None) -> pa.Table:
    """Sort ``table`` (columns ``prio`` and ``id``, optionally ``group``) so each group's keeper comes first."""
    keys = [(group, "ascending")] if group else []
    return table.sort_by([*keys, ("prio", "descending"), ("id", "ascending")])

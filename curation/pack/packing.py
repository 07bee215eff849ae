"""Packing documents into fixed-length rows: concatenate-and-split, or best-fit decreasing.

Planning works on lengths only; rows are materialised afterwards by slicing the token arrays, so
the planner never copies tokens. A row is a list of segments ``(doc, offset, length)``: a whole
document or a piece of one starting at ``offset``; what is left of the row is one padding segment.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from curation.schema import SHARD_SCHEMA


class Segment(NamedTuple):
    doc: int  # index of the document in the packed batch
    offset: int  # first token of the piece inside its document
    length: int


Row = list[Segment]


def plan_concat(lengths: Sequence[int], seq_len: int) -> list[Row]:
    """Concatenate documents in order and cut every ``seq_len`` tokens (GPT-style packing)."""
    rows: list[Row] = [[]]
    used = 0
    for doc, length in enumerate(lengths):
        offset = 0
        while offset < length:
            take = min(length - offset, seq_len - used)
            rows[-1].append(Segment(doc, offset, take))
            offset += take
            used += take
            if used == seq_len:
                rows.append([])
                used = 0
    if not rows[-1]:
        rows.pop()
    return rows


def plan_best_fit(lengths: Sequence[int], seq_len: int) -> list[Row]:
    """Best-fit decreasing (Ding et al. 2024, "Fewer Truncations Improve Language Modeling").

    Documents up to ``seq_len`` are never split. Longer ones give full rows of ``seq_len`` tokens
    plus one tail piece. Pieces go, longest first, into the open row with the least room that
    still fits them; a new row is opened only when none does.
    """
    rows: list[Row] = []
    pieces: list[Segment] = []
    for doc, length in enumerate(lengths):
        full = length // seq_len
        rows += [[Segment(doc, k * seq_len, seq_len)] for k in range(full)]
        if length % seq_len:
            pieces.append(Segment(doc, full * seq_len, length % seq_len))
    pieces.sort(key=lambda s: -s.length)  # stable: equal lengths keep document order
    room: list[int] = []  # sorted free space of the open rows (one entry per row)
    rows_by_room: dict[int, list[int]] = {}
    for piece in pieces:
        i = bisect.bisect_left(room, piece.length)
        if i < len(room):
            free = room.pop(i)
            row = rows_by_room[free].pop()
        else:
            free, row = seq_len, len(rows)
            rows.append([])
        rows[row].append(piece)
        left = free - piece.length
        if left:
            bisect.insort(room, left)
            rows_by_room.setdefault(left, []).append(row)
    return rows


PLANNERS = {"concat": plan_concat, "best_fit": plan_best_fit}


def plan_rows(lengths: Sequence[int], seq_len: int, mode: str) -> list[Row]:
    return PLANNERS[mode](lengths, seq_len)


def rows_table(
    rows: Sequence[Row], tokens: Sequence[np.ndarray], doc_ids: Sequence[str], seq_len: int, pad_id: int
) -> pa.Table:
    """Materialise planned rows as a table of ``SHARD_SCHEMA`` (padding segment last, doc id "")."""
    flat = np.full(len(rows) * seq_len, pad_id, dtype=np.uint32)
    cu_seqlens: list[list[int]] = []
    row_docs: list[list[str]] = []
    offsets: list[list[int]] = []
    for r, row in enumerate(rows):
        pos = r * seq_len
        bounds, names, starts = [0], [], []
        for seg in row:
            flat[pos : pos + seg.length] = tokens[seg.doc][seg.offset : seg.offset + seg.length]
            pos += seg.length
            bounds.append(pos - r * seq_len)
            names.append(doc_ids[seg.doc])
            starts.append(seg.offset)
        if bounds[-1] < seq_len:
            bounds.append(seq_len)
            names.append("")
            starts.append(0)
        cu_seqlens.append(bounds)
        row_docs.append(names)
        offsets.append(starts)
    row_offsets = pa.array(np.arange(0, (len(rows) + 1) * seq_len, seq_len, dtype=np.int32))
    return pa.Table.from_arrays(
        [
            pa.ListArray.from_arrays(row_offsets, pa.array(flat)),
            pa.array(cu_seqlens, type=pa.list_(pa.int32())),
            pa.array(row_docs, type=pa.list_(pa.string())),
            pa.array(offsets, type=pa.list_(pa.int32())),
        ],
        schema=SHARD_SCHEMA,
    )


def plan_stats(rows: Sequence[Row], lengths: Sequence[int], seq_len: int) -> dict[str, int]:
    """Counts of a plan: rows, tokens, padding, documents, documents split into pieces, segments."""
    pieces = np.bincount([s.doc for row in rows for s in row], minlength=len(lengths))
    tokens = int(sum(lengths))
    return {
        "rows": len(rows),
        "tokens": tokens,
        "padding_tokens": len(rows) * seq_len - tokens,
        "docs": int((pieces > 0).sum()),
        "split_docs": int((pieces > 1).sum()),
        "segments": int(pieces.sum()),
    }

"""Arrow schemas shared by every phase: documents, rejects and packed shard rows.

One data contract: a document stage takes a table of documents and returns one (plus rejected
rows carrying a ``reason``). Signals are a struct column so filters can add fields without a
schema change for everyone else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DOCUMENT_FIELDS: list[pa.Field] = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("url", pa.string()),
    pa.field("text", pa.string()),
    pa.field("source", pa.string()),
    pa.field("date", pa.string()),
    pa.field("lang", pa.string()),
    pa.field("lang_score", pa.float32()),
    pa.field("domain", pa.string()),
    pa.field("quality_score", pa.float32()),
    pa.field("signals", pa.struct([pa.field("input_chars", pa.int64())])),
    pa.field("meta", pa.string()),
]
DOCUMENT_COLUMNS: list[str] = [f.name for f in DOCUMENT_FIELDS]

REJECT_EXTRA_FIELDS: list[pa.Field] = [pa.field("reason", pa.string(), nullable=False)]

SHARD_SCHEMA = pa.schema(
    [
        pa.field("input_ids", pa.list_(pa.uint32())),
        pa.field("cu_seqlens", pa.list_(pa.int32())),
        pa.field("doc_ids", pa.list_(pa.string())),
        pa.field("seg_offsets", pa.list_(pa.int32())),
    ]
)


def initial_signals(text: pa.Array) -> pa.StructArray:
    """The signals every document starts with: its length when it entered the pipeline.

    Parquet cannot store a struct without fields, so the struct is never empty.
    """
    chars = pc.utf8_length(text).cast(pa.int64()).fill_null(0)
    return pa.StructArray.from_arrays([chars], names=["input_chars"])


def make_documents(columns: Mapping[str, Sequence | pa.Array]) -> pa.Table:
    """Build a document table from the given columns; missing ones are filled with nulls.

    ``id`` and ``text`` are required. Column order and types follow ``DOCUMENT_FIELDS``.
    """
    if "id" not in columns or "text" not in columns:
        raise ValueError("documents need at least 'id' and 'text'")
    n = len(columns["id"])
    arrays = []
    for field in DOCUMENT_FIELDS:
        if field.name == "signals":
            value = columns.get("signals")
            arrays.append(value if value is not None else initial_signals(arrays[DOCUMENT_COLUMNS.index("text")]))
        elif field.name in columns:
            value = columns[field.name]
            if not isinstance(value, pa.Array | pa.ChunkedArray):
                value = pa.array(value, type=field.type)
            arrays.append(value.cast(field.type) if value.type != field.type else value)
        else:
            arrays.append(pa.nulls(n, type=field.type))
    table = pa.Table.from_arrays(arrays, names=DOCUMENT_COLUMNS)
    return table


def get_signal(table: pa.Table, name: str) -> pa.ChunkedArray:
    """One signal column (chunked) by name."""
    return pc.struct_field(table.column("signals"), name)


def with_signals(table: pa.Table, signals: Mapping[str, Sequence | np.ndarray | pa.Array]) -> pa.Table:
    """Return ``table`` with ``signals`` merged into its ``signals`` struct (new names win)."""
    n = table.num_rows
    current = table.column("signals").combine_chunks()
    arrays = {f.name: current.field(i) for i, f in enumerate(current.type)}
    for name, values in signals.items():
        arr = values if isinstance(values, pa.Array) else pa.array(values)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if len(arr) != n:
            raise ValueError(f"signal {name!r} has {len(arr)} values for {n} documents")
        arrays[name] = arr
    struct = pa.StructArray.from_arrays(list(arrays.values()), names=list(arrays.keys()))
    return table.set_column(table.schema.get_field_index("signals"), "signals", struct)


def with_column(table: pa.Table, name: str, values: Sequence | pa.Array) -> pa.Table:
    """Replace a document column keeping its declared type."""
    idx = table.schema.get_field_index(name)
    field_type = table.schema.field(name).type
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, type=field_type)
    if arr.type != field_type:
        arr = arr.cast(field_type)
    return table.set_column(idx, name, arr)


def split_by_reason(table: pa.Table, reasons: Sequence[str | None] | pa.Array) -> tuple[pa.Table, pa.Table]:
    """Split documents into (kept, rejected): a null reason keeps a row, a string rejects it.

    Rejected rows get a ``reason`` column ("stage.rule").
    """
    reason_arr = reasons if isinstance(reasons, pa.Array | pa.ChunkedArray) else pa.array(reasons, type=pa.string())
    keep_mask = pc.is_null(reason_arr)
    kept = table.filter(keep_mask)
    rejected = table.filter(pc.invert(keep_mask)).append_column(
        REJECT_EXTRA_FIELDS[0], reason_arr.filter(pc.invert(keep_mask))
    )
    return kept, rejected


def reject_counts(rejected: pa.Table) -> dict[str, int]:
    """Count rejected rows by reason."""
    if rejected.num_rows == 0:
        return {}
    counts = pc.value_counts(rejected.column("reason").combine_chunks())
    return {v["values"].as_py(): v["counts"].as_py() for v in counts}


def empty_rejects() -> pa.Table:
    """A rejects table with no rows (document columns plus ``reason``)."""
    return make_documents({"id": [], "text": []}).append_column(REJECT_EXTRA_FIELDS[0], pa.array([], type=pa.string()))

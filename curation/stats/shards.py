"""Statistics of packed shards, computed from ``cu_seqlens``/``doc_ids``/``seg_offsets`` only.

``input_ids`` is never read: every row's segment lengths are the differences of its
``cu_seqlens``, so rows, tokens, padding and documents per row come from the small columns.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.common.files import part_files, read_columns
from curation.io import fs
from curation.stats.summary import describe, int_counts

SHARD_COLUMNS = ["cu_seqlens", "doc_ids", "seg_offsets"]
SPLIT_NAMES = ("train", "validation", "valid", "val", "test")
MANIFEST_KEYS = ("format", "tokenizer", "vocab_size", "seq_len", "bos_id", "eos_id", "pad_id", "add_bos", "add_eos",
                 "delimiting", "mode", "seed", "validation_fraction")
"""What the statistics repeat from the pack phase's ``shards/manifest.json`` (its per-file list is left out)."""


def split_of(path: str, folder: str) -> str:
    """The split a shard belongs to: its sub-folder, or a ``train-``/``validation-`` name prefix, else ``all``."""
    relative = path[len(folder.rstrip("/")) + 1 :]
    if "/" in relative:
        return relative.split("/", 1)[0]
    match = re.match(r"([a-z]+)", relative)
    return match.group(1) if match and match.group(1) in SPLIT_NAMES else "all"


def segments(table: pa.Table) -> dict[str, np.ndarray | pa.Array]:
    """Per segment: length, row index, document id, offset in its document; per row: tokens."""
    cu = table.column("cu_seqlens").combine_chunks()
    doc_ids = table.column("doc_ids").combine_chunks()
    values = pc.list_flatten(cu).to_numpy().astype(np.int64)
    per_row = pc.list_value_length(cu).to_numpy(zero_copy_only=False).astype(np.int64)
    row_ends = np.cumsum(per_row)
    valid = np.ones(max(len(values) - 1, 0), dtype=bool)
    valid[row_ends[:-1] - 1] = False  # the step from one row's end to the next row's 0
    lengths = np.diff(values)[valid]
    ids = pc.list_flatten(doc_ids)
    if len(ids) != len(lengths):
        raise ValueError(f"shard rows disagree: {len(ids)} doc_ids for {len(lengths)} cu_seqlens segments")
    offsets = table.column("seg_offsets")
    seg_offsets = (
        pc.list_flatten(offsets.combine_chunks()).to_numpy().astype(np.int64)
        if offsets.null_count < len(offsets)
        else np.zeros(len(lengths), dtype=np.int64)
    )
    return {
        "length": lengths,
        "row": pc.list_parent_indices(doc_ids).to_numpy().astype(np.int64),
        "doc_id": ids,
        "offset": seg_offsets,
        "row_tokens": values[row_ends - 1] if len(row_ends) else np.array([], dtype=np.int64),
    }


class ShardAccumulator:
    """Folds shard files one at a time, keeping only per-segment numbers of real documents."""

    def __init__(self) -> None:
        self.files = 0
        self.rows = 0
        self.tokens = 0
        self.pad_tokens = 0
        self.seq_lens: set[int] = set()
        self.docs_per_row: list[np.ndarray] = []
        self.doc_segments: list[pa.Table] = []

    def add(self, table: pa.Table) -> None:
        seg = segments(table)
        pad = pc.equal(seg["doc_id"], "").to_numpy(zero_copy_only=False)
        self.files += 1
        self.rows += table.num_rows
        self.tokens += int(seg["row_tokens"].sum())
        self.pad_tokens += int(seg["length"][pad].sum())
        self.seq_lens.update(int(x) for x in np.unique(seg["row_tokens"]))
        self.docs_per_row.append(np.bincount(seg["row"][~pad], minlength=table.num_rows))
        keep = pa.array(~pad)
        self.doc_segments.append(
            pa.table(
                {
                    "id": seg["doc_id"].filter(keep),
                    "tokens": pa.array(seg["length"][~pad]),
                    "split": pa.array(seg["offset"][~pad] > 0),
                }
            )
        )

    def document_tokens(self) -> pa.Table:
        """``id, tokens, segments, split`` per document (tokens include its BOS/EOS)."""
        if not self.doc_segments:
            return pa.table({"id": pa.array([], pa.string()), "tokens": pa.array([], pa.int64()),
                             "segments": pa.array([], pa.int64()), "split": pa.array([], pa.bool_())})
        grouped = pa.concat_tables(self.doc_segments).group_by("id").aggregate(
            [("tokens", "sum"), ("id", "count"), ("split", "any")]
        )
        return pa.table({"id": grouped["id"], "tokens": grouped["tokens_sum"],
                         "segments": grouped["id_count"], "split": grouped["split_any"]})

    def summary(self) -> dict[str, Any]:
        docs = self.document_tokens()
        n_docs = docs.num_rows
        split = int(pc.sum(docs["split"]).as_py() or 0)
        docs_per_row = np.concatenate(self.docs_per_row) if self.docs_per_row else np.array([])
        return {
            "files": self.files,
            "rows": self.rows,
            "seq_len": max(self.seq_lens) if self.seq_lens else None,
            "tokens": self.tokens,
            "document_tokens": self.tokens - self.pad_tokens,
            "pad_tokens": self.pad_tokens,
            "padding_share": round(self.pad_tokens / self.tokens, 6) if self.tokens else 0.0,
            "documents": n_docs,
            "segments": int(pc.sum(docs["segments"]).as_py() or 0),
            "split_documents": split,
            "split_share": round(split / n_docs, 6) if n_docs else 0.0,
            "documents_per_row": {**describe(docs_per_row, bins=0), "counts": int_counts(docs_per_row)},
            "tokens_per_document": describe(docs["tokens"], log=True),
        }


def shard_stats(folder: str) -> tuple[dict[str, Any] | None, pa.Table]:
    """(shard statistics per split and in total, tokens per document) of a shard folder.

    Returns ``(None, empty)`` when the folder holds no shards.
    """
    files = part_files(folder, recursive=True)
    if not files:
        return None, ShardAccumulator().document_tokens()
    total = ShardAccumulator()
    splits: dict[str, ShardAccumulator] = {}
    for path in files:
        table = read_columns(path, SHARD_COLUMNS)
        total.add(table)
        splits.setdefault(split_of(path, folder), ShardAccumulator()).add(table)
    manifest_path = fs.join(folder, "manifest.json")
    manifest = fs.read_json(manifest_path) if fs.exists(manifest_path) else {}
    out = {
        "manifest": {k: manifest[k] for k in MANIFEST_KEYS if k in manifest},
        "total": total.summary(),
        "splits": {name: acc.summary() for name, acc in sorted(splits.items())} if len(splits) > 1 else {},
    }
    return out, total.document_tokens()

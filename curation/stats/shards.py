"""Statistics of packed shards, computed from ``cu_seqlens``/``doc_ids``/``seg_offsets`` only.

``input_ids`` is never read: every row's segment lengths are the differences of its
``cu_seqlens``, so rows, tokens, padding and documents per row come from the small columns, one
summary per shard file. Figures per document (documents, split documents, tokens per document)
need a document's pieces together, which may sit in several files: ``stats.tokens`` shuffles
them by document id. Only summaries reach the driver.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.common.files import read_columns
from curation.io import fs
from curation.stats.summary import add_counts, describe_counts, int_counts, value_counts

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


def file_summary(path: str) -> tuple[dict[str, Any], pa.Table]:
    """Per-row figures of one shard file (rows, tokens, padding, segments, documents per row), and
    its document segments as ``id, tokens, split`` rows (``split``: a piece after the first)."""
    table = read_columns(path, SHARD_COLUMNS)
    seg = segments(table)
    pad = pc.equal(seg["doc_id"], "").to_numpy(zero_copy_only=False)
    pieces = pa.table({"id": seg["doc_id"].filter(pa.array(~pad)), "tokens": seg["length"][~pad],
                       "split": seg["offset"][~pad] > 0})
    return {
        "files": 1,
        "rows": table.num_rows,
        "tokens": int(seg["row_tokens"].sum()),
        "pad_tokens": int(seg["length"][pad].sum()),
        "segments": int((~pad).sum()),
        "seq_lens": {int(x) for x in np.unique(seg["row_tokens"])},
        "docs_per_row": value_counts(np.bincount(seg["row"][~pad], minlength=table.num_rows)),
    }, pieces


def add_file(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Merge two ``file_summary`` results (or a running total); returns ``total``."""
    for key, value in part.items():
        if key == "seq_lens":
            total[key] = total.get(key, set()) | value
        elif key == "docs_per_row":
            add_counts(total.setdefault(key, {}), value)
        else:
            total[key] = total.get(key, 0) + value
    return total


def summary(files: dict[str, Any], docs: dict[str, Any]) -> dict[str, Any]:
    """The statistics of a set of shard files from their merged ``file_summary`` and the merged
    per-document summary of ``stats.tokens`` (documents, split documents, tokens per document)."""
    tokens, pad = files.get("tokens", 0), files.get("pad_tokens", 0)
    n_docs, split = docs.get("documents", 0), docs.get("split_documents", 0)
    per_row = files.get("docs_per_row", {})
    return {
        "files": files.get("files", 0),
        "rows": files.get("rows", 0),
        "seq_len": max(files["seq_lens"]) if files.get("seq_lens") else None,
        "tokens": tokens,
        "document_tokens": tokens - pad,
        "pad_tokens": pad,
        "padding_share": round(pad / tokens, 6) if tokens else 0.0,
        "documents": n_docs,
        "segments": files.get("segments", 0),
        "split_documents": split,
        "split_share": round(split / n_docs, 6) if n_docs else 0.0,
        "documents_per_row": {**describe_counts(per_row, bins=0), "counts": int_counts(per_row)},
        "tokens_per_document": describe_counts(docs.get("tokens", {}), log=True),
    }


def shard_section(
    folder: str, splits: list[str], per_file: list[dict[str, Any]], per_docs: list[dict[str, Any]]
) -> dict[str, Any]:
    """Shard statistics per split and in total: ``splits[i]`` is the split of file ``i``,
    ``per_docs`` the ``stats.tokens`` partition summaries."""
    total: dict[str, Any] = {}
    by_split: dict[str, dict[str, Any]] = {}
    for split, part in zip(splits, per_file):
        add_file(total, part)
        add_file(by_split.setdefault(split, {}), part)
    manifest_path = fs.join(folder, "manifest.json")
    manifest = fs.read_json(manifest_path) if fs.exists(manifest_path) else {}

    def docs(key: str | None) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for part in per_docs:
            add_document_summary(merged, part["total"] if key is None else part["splits"].get(key, {}))
        return merged

    return {
        "manifest": {k: manifest[k] for k in MANIFEST_KEYS if k in manifest},
        "total": summary(total, docs(None)),
        "splits": {name: summary(by_split[name], docs(name)) for name in sorted(by_split)} if len(by_split) > 1 else {},
    }


def add_document_summary(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Merge per-document summaries (``documents``, ``split_documents``, ``tokens`` value counts)."""
    for key, value in part.items():
        if key == "tokens":
            add_counts(total.setdefault(key, {}), value)
        else:
            total[key] = total.get(key, 0) + value
    return total

"""Distributions over the curated documents (``DIR/docs``), joined with shard tokens when present."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curation.common.hashing import REPEAT_SEP
from curation.common.files import part_files, read_columns
from curation.io import fs
from curation.stats.summary import describe, shares

GROUP_COLUMNS = ("lang", "domain", "source")
READ_COLUMNS = ["id", *GROUP_COLUMNS, "quality_score"]
TEXT_BATCH = 8192


def text_lengths(path: str) -> pa.Array:
    """Characters of every document of a part, reading ``text`` one batch at a time (bounded memory)."""
    filesystem, inner = fs.filesystem(path)
    with filesystem.open(inner, "rb") as f:
        parquet = pq.ParquetFile(f)
        if "text" not in parquet.schema_arrow.names:
            return pa.array(np.zeros(parquet.metadata.num_rows, np.int64))
        lengths = [pc.utf8_length(batch.column(0).cast(pa.string()))
                   for batch in parquet.iter_batches(batch_size=TEXT_BATCH, columns=["text"])]
    return pc.fill_null(pa.chunked_array(lengths, pa.int32()), 0).cast(pa.int64())


def document_table(folder: str) -> pa.Table | None:
    """id, lang, domain, source, quality_score and ``chars`` of every document (texts are never held whole)."""
    tables = []
    for path in part_files(folder, recursive=True):
        tables.append(read_columns(path, READ_COLUMNS).append_column("chars", text_lengths(path)))
    if not tables:
        return None
    table = pa.concat_tables(tables, promote_options="permissive")
    return table.set_column(table.schema.get_field_index("quality_score"), "quality_score",
                            table.column("quality_score").cast(pa.float64()))


def tokens_by_base_id(doc_tokens: pa.Table) -> pa.Table:
    """Packed tokens per original document: the mix's up-sampled copies (``<id>#rep<n>``) count for their original."""
    ids = doc_tokens.column("id").cast(pa.string())
    base = pc.replace_substring_regex(ids, pattern=re.escape(REPEAT_SEP) + r"\d+$", replacement="")
    grouped = pa.table({"id": base, "tokens": doc_tokens.column("tokens")}).group_by("id").aggregate(
        [("tokens", "sum")])
    return pa.table({"id": grouped.column("id"), "tokens": grouped.column("tokens_sum")})


def with_tokens(docs: pa.Table, doc_tokens: pa.Table) -> pa.Table:
    """Add each document's packed ``tokens`` (0 when it is not in the shards, e.g. sampled out by the mix)."""
    joined = docs.join(tokens_by_base_id(doc_tokens), "id", join_type="left outer")
    return joined.set_column(joined.schema.get_field_index("tokens"), "tokens",
                             pc.fill_null(joined.column("tokens"), 0).cast(pa.int64()))


def document_stats(docs: pa.Table, doc_tokens: pa.Table) -> dict[str, Any]:
    """Lengths, quality scores, shares per language/domain/source (documents, chars, tokens)."""
    has_tokens = doc_tokens.num_rows > 0
    if has_tokens:
        docs = with_tokens(docs, doc_tokens)
    weights = ["chars", "tokens"] if has_tokens else ["chars"]
    in_docs = pc.is_in(tokens_by_base_id(doc_tokens).column("id"), value_set=docs.column("id").combine_chunks())
    return {
        "documents": docs.num_rows,
        "chars": describe(docs.column("chars"), log=True),
        "tokens": describe(doc_tokens.column("tokens"), log=True) if has_tokens else None,
        "quality_score": describe(docs.column("quality_score"), bins=20),
        "shares": {key: shares(docs, key, weights) for key in GROUP_COLUMNS},
        # Packed documents whose id is not in docs/ (a mix phase that renames copies, or a stale docs/).
        "shard_documents_not_in_docs": int(pc.sum(pc.invert(in_docs)).as_py() or 0) if has_tokens else 0,
    }

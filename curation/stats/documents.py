"""Distributions over the curated documents (``DIR/docs``) from one mergeable summary per file.

A file's summary holds exact value -> count maps (characters; quality scores rounded to
``QUALITY_DECIMALS``), document and character sums per language/domain/source, and HyperLogLog
sketches of its URLs and hosts (``stats.hll``; they merge by register max). The driver adds the
summaries; tokens per group come from ``stats.tokens``. Nothing per document reaches the driver.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from curation.common.files import read_columns
from curation.common.hashing import REPEAT_SEP
from curation.io import fs
from curation.stats.hll import HyperLogLog
from curation.stats.summary import add_counts, add_groups, describe_counts, group_sums, shares, value_counts

GROUP_COLUMNS = ("lang", "domain", "source")
READ_COLUMNS = ["id", *GROUP_COLUMNS, "quality_score"]
TEXT_BATCH = 8192
QUALITY_DECIMALS = 5
"""Five decimals are finer than any threshold a config sets (and than the tables print) and bound
the quality summary of a probability to 100,001 values whatever the corpus size."""
HOST = r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/?#]*@)?(?P<host>[^:/?#]*)"


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


def sketch(values: pa.Array | pa.ChunkedArray) -> HyperLogLog:
    """HyperLogLog++ of the distinct non-null, non-empty strings (64-bit xxhash of their UTF-8)."""
    hll = HyperLogLog()
    hll.add(np.array([xxhash.xxh64_intdigest(value.encode()) for value in pc.drop_null(values).to_pylist() if value],
                     np.uint64))
    return hll


def file_summary(path: str) -> tuple[dict[str, Any], pa.Table]:
    """One docs file's mergeable summary (see the module docstring), and its ``id`` and group
    columns (for ``stats.tokens``, which joins them with the shards)."""
    table = read_columns(path, ["id", *GROUP_COLUMNS, "quality_score", "url"])
    chars = text_lengths(path)
    urls = table.column("url").cast(pa.string())
    hosts = pc.utf8_lower(pc.struct_field(pc.extract_regex(urls, HOST), [0]))
    summary = {
        "documents": table.num_rows,
        "chars": value_counts(chars),
        "quality_score": value_counts(pc.round(table.column("quality_score").cast(pa.float64()), QUALITY_DECIMALS)),
        "groups": {key: group_sums(table.column(key), {"chars": chars}) for key in GROUP_COLUMNS},
        "urls": sketch(urls),
        "hosts": sketch(hosts),
    }
    return summary, pa.table({name: table[name].cast(pa.string()) for name in ["id", *GROUP_COLUMNS]})


def add_file(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Merge ``file_summary`` ``part`` into ``total`` (another one, updated in place); returns ``total``."""
    total["documents"] += part["documents"]
    for key in ("chars", "quality_score"):
        add_counts(total[key], part[key])
    for key, groups in part["groups"].items():
        add_groups(total["groups"][key], groups)
    for key in ("urls", "hosts"):
        total[key].merge(part[key])
    return total


def document_stats(docs: dict[str, Any], tokens: dict[str, Any] | None) -> dict[str, Any]:
    """Lengths, quality scores, shares per language/domain/source (documents, chars, tokens) and
    distinct URLs/hosts, from the merged docs summary and the merged ``stats.tokens`` summary
    (None without shards)."""
    weights = ["chars", "tokens"] if tokens else ["chars"]
    groups = docs["groups"]
    if tokens:
        groups = {key: {value: {**sums, "tokens": tokens["groups"][key].get(value, {}).get("tokens", 0)}
                        for value, sums in groups[key].items()} for key in GROUP_COLUMNS}
    return {
        "documents": docs["documents"],
        "chars": describe_counts(docs["chars"], log=True),
        "tokens": describe_counts(tokens["tokens"], log=True) if tokens else None,
        "quality_score": describe_counts(docs["quality_score"], bins=20),
        "shares": {key: shares(groups[key], weights) for key in GROUP_COLUMNS},
        # Packed documents whose id is not in docs/ (a mix phase that renames copies, or a stale docs/).
        "shard_documents_not_in_docs": tokens["not_in_docs"] if tokens else 0,
        # HyperLogLog estimates (about 0.8% error): how many distinct pages and sites the documents come from.
        "distinct_urls": int(round(docs["urls"].count())),
        "distinct_hosts": int(round(docs["hosts"].count())),
    }


def document_table(folder: str) -> pa.Table | None:
    """id, lang, domain, source, quality_score and ``chars`` of every document, for notebooks that
    plot per-document values (the statistics use ``file_summary``)."""
    tables = [read_columns(path, READ_COLUMNS).append_column("chars", text_lengths(path))
              for path in fs.listdir(folder, ".parquet", recursive=True)]
    if not tables:
        return None
    table = pa.concat_tables(tables, promote_options="permissive")
    return table.set_column(table.schema.get_field_index("quality_score"), "quality_score",
                            table.column("quality_score").cast(pa.float64()))


def base_ids(ids: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The original id of each id: the mix's up-sampled copies (``<id>#rep<n>``) count for their original."""
    return pc.replace_substring_regex(ids.cast(pa.string()), pattern=re.escape(REPEAT_SEP) + r"\d+$", replacement="")


def tokens_by_base_id(doc_tokens: pa.Table) -> pa.Table:
    """Packed tokens per original document (copies summed into their original)."""
    grouped = pa.table({"id": base_ids(doc_tokens.column("id")), "tokens": doc_tokens.column("tokens")}).group_by(
        "id").aggregate([("tokens", "sum")])
    return pa.table({"id": grouped.column("id"), "tokens": grouped.column("tokens_sum")})


def with_tokens(docs: pa.Table, doc_tokens: pa.Table) -> pa.Table:
    """Add each document's packed ``tokens`` (0 when it is not in the shards, e.g. sampled out by the mix)."""
    joined = docs.join(tokens_by_base_id(doc_tokens), "id", join_type="left outer")
    return joined.set_column(joined.schema.get_field_index("tokens"), "tokens",
                             pc.fill_null(joined.column("tokens"), 0).cast(pa.int64()))

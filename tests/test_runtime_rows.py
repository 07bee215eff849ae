"""Partial reads of the Parquet files the runtime writes: key ranges pruned by row-group statistics."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curation.io import fs
from curation.runtime.rows import read_key_range, read_rows


def test_keys_keep_their_statistics_and_text_has_none(tmp_path):
    """Key ranges skip row groups by min/max; text columns carry no statistics (they repeated the text)."""
    n = 3 * fs.PARQUET_OPTIONS["row_group_size"]
    keys = np.arange(n, dtype=np.uint64) * np.uint64(1000)
    texts = [f"document {i} " * 20 for i in range(n)]
    path = str(tmp_path / "part-0.parquet")
    fs.write_parquet(pa.table({"node": pa.array(keys, pa.uint64()), "text": texts}), path)

    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 3
    for g in range(meta.num_row_groups):
        node, text = meta.row_group(g).column(0), meta.row_group(g).column(1)
        assert node.statistics is not None and node.statistics.has_min_max
        assert text.statistics is None or not text.statistics.has_min_max
    lo, hi = int(keys[9000]), int(keys[9005])
    got = read_key_range(path, "node", lo, hi)
    assert got.column("node").to_pylist() == keys[9000:9005].tolist()
    assert got.column("text").to_pylist() == texts[9000:9005]
    picked = read_rows(path, np.array([1, 20000]), columns=["text"])
    assert picked.column("text").to_pylist() == [texts[1], texts[20000]]


def test_a_one_document_part_holds_no_uncompressed_copy_of_its_text(tmp_path):
    """The data page is compressed; statistics would hold the text's min and max raw, twice each."""
    text = "".join(chr(97 + (i * 7) % 26) for i in range(3000))
    path = str(tmp_path / "part-1.parquet")
    fs.write_parquet(pa.table({"id": ["a"], "text": [text]}), path)
    assert (tmp_path / "part-1.parquet").read_bytes().count(text[:100].encode()) == 0
    assert fs.read_parquet(path).column("text").to_pylist() == [text]


def test_parts_read_back_with_their_exact_schema_empty_or_not(tmp_path):
    """The Arrow schema is left out of the footer only where Parquet's own gives the same one back
    (list items come back named ``element`` either way)."""
    documents = pa.schema([("id", pa.string()), ("score", pa.float32()), ("node", pa.uint64()),
                           ("signals", pa.struct([("words", pa.int64()), ("ratio", pa.float64())]))])
    lists = pa.schema([("id", pa.string()), ("shingles", pa.list_(pa.field("element", pa.uint32()))),
                       ("when", pa.timestamp("us", tz="UTC"))]).with_metadata({"origin": "test"})
    for name, schema in (("documents", documents), ("lists", lists)):
        full = pa.Table.from_pylist([{f.name: None for f in schema}], schema=schema)
        for table in (full, schema.empty_table()):
            path = str(tmp_path / f"{name}-{table.num_rows}.parquet")
            fs.write_parquet(table, path)
            assert fs.read_parquet(path).equals(table, check_metadata=True)
    assert b"ARROW:schema" not in (tmp_path / "documents-1.parquet").read_bytes()
    assert b"ARROW:schema" in (tmp_path / "lists-1.parquet").read_bytes()
    assert pq.ParquetFile(str(tmp_path / "documents-0.parquet")).num_row_groups == 0

"""Export shards to Megatron-LM's ``.bin/.idx`` (MMapIndexedDataset / IndexedDataset) format.

Megatron builds its own samples from documents, so each document is exported whole: its pieces
are put back together by ``seg_offsets``; padding is dropped. Documents come out in the order in
which their last piece appears in the shards (which are shuffled). Index layout (little endian):
``MMIDIDX\\0\\0``, version u64 = 1, dtype code u8, sequence count u64, document count u64,
sequence lengths int32[], sequence byte pointers int64[], document indices int64[] (0..n).
"""

from __future__ import annotations

import struct

import numpy as np

from curation.io import fs
from curation.pack.loader import shard_files

INDEX_HEADER = b"MMIDIDX\x00\x00"
DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}


def token_dtype(vocab_size: int) -> np.dtype:
    """Megatron's choice: uint16 below 65,500 ids, else int32."""
    return np.dtype(np.uint16) if vocab_size < 65500 else np.dtype(np.int32)


def segments(table, seq_len: int):
    """(row-major token start, length, doc id, offset) of every document segment of a shard table."""
    for r, (cu, docs, offsets) in enumerate(
        zip(*(table.column(c).to_pylist() for c in ("cu_seqlens", "doc_ids", "seg_offsets")))
    ):
        for k, doc in enumerate(docs):
            if doc:
                yield r * seq_len + cu[k], cu[k + 1] - cu[k], doc, offsets[k]


def export_megatron(shard_dir: str, out_prefix: str, split: str = "train") -> dict[str, int]:
    """Write ``out_prefix.bin`` and ``out_prefix.idx`` from the ``split`` shards of ``shard_dir``.

    Two passes keep memory to the documents still incomplete: the first sums each document's
    length, the second writes a document as soon as all its pieces have been seen.
    """
    import pyarrow.compute as pc

    manifest = fs.read_json(fs.join(shard_dir, "manifest.json"))
    seq_len = int(manifest["seq_len"])
    dtype = token_dtype(int(manifest["vocab_size"]))
    files = shard_files(shard_dir, split)
    remaining: dict[str, int] = {}
    for path in files:
        bounds = fs.read_parquet(path, columns=["cu_seqlens", "doc_ids", "seg_offsets"])
        for _, length, doc, _ in segments(bounds, seq_len):
            remaining[doc] = remaining.get(doc, 0) + length
    pending: dict[str, dict[int, np.ndarray]] = {}
    lengths: list[int] = []
    with open(f"{out_prefix}.bin", "wb") as out:
        for path in files:
            table = fs.read_parquet(path)
            flat = pc.list_flatten(table.column("input_ids")).to_numpy()
            for start, length, doc, offset in segments(table, seq_len):
                pending.setdefault(doc, {})[offset] = flat[start : start + length]
                remaining[doc] -= length
                if remaining[doc] == 0:
                    pieces = pending.pop(doc)
                    tokens = np.concatenate([pieces[o] for o in sorted(pieces)]).astype(dtype)
                    out.write(tokens.tobytes())
                    lengths.append(len(tokens))
    sizes = np.array(lengths, dtype=np.int32)
    pointers = (np.cumsum(sizes.astype(np.int64)) - sizes) * dtype.itemsize
    document_indices = np.arange(len(sizes) + 1, dtype=np.int64)
    with open(f"{out_prefix}.idx", "wb") as idx:
        idx.write(INDEX_HEADER)
        idx.write(struct.pack("<Q", 1))
        idx.write(struct.pack("<B", DTYPE_CODES[dtype]))
        idx.write(struct.pack("<Q", len(sizes)))
        idx.write(struct.pack("<Q", len(document_indices)))
        idx.write(sizes.tobytes())
        idx.write(pointers.astype(np.int64).tobytes())
        idx.write(document_indices.tobytes())
    return {"documents": len(sizes), "tokens": int(sizes.sum())}

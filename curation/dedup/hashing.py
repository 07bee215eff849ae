"""64-bit hashing helpers: strings to uint64 (xxhash), uint64 mixing, global document numbers.

Strings are hashed once per distinct value (Arrow dictionary encoding), so a batch of millions of
words costs one xxhash call per vocabulary entry; everything after that is numpy on uint64.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

U64 = np.uint64
_C1, _C2 = U64(0xBF58476D1CE4E5B9), U64(0x94D049BB133111EB)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective avalanche of uint64 values."""
    x = x.astype(U64, copy=True)
    x ^= x >> U64(30)
    x *= _C1
    x ^= x >> U64(27)
    x *= _C2
    x ^= x >> U64(31)
    return x


def hash_strings(values: pa.Array | pa.ChunkedArray, seed: int = 0) -> np.ndarray:
    """xxh3-64 of every string (nulls hash like empty strings), computed once per distinct value."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if len(arr) == 0:
        return np.zeros(0, dtype=U64)
    encoded = pc.dictionary_encode(pc.fill_null(arr, ""))
    vocab = encoded.dictionary.cast(pa.large_binary()).to_pylist()
    table = np.fromiter((xxhash.xxh3_64_intdigest(v, seed) for v in vocab), dtype=U64, count=len(vocab))
    return table[encoded.indices.to_numpy(zero_copy_only=False)]


def hash_keys(values: list[str]) -> tuple[pa.Array, np.ndarray]:
    """128-bit xxh3 digests of exact-match keys (64-bit ones collide at web scale), as 16-byte
    binaries, and their first 64 bits as uint64 for partitioning."""
    blob = b"".join(xxhash.xxh3_128_digest(v.encode()) for v in values)
    digests = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(values), [None, pa.py_buffer(blob)])
    return digests, np.frombuffer(blob, dtype="<u8")[::2].astype(U64)


def node_ids(part_index: int, rows: int) -> np.ndarray:
    """Global document numbers: the part's index in the high 32 bits, the row in the low 32."""
    return (U64(part_index) << U64(32)) | np.arange(rows, dtype=U64)


def node_part(nodes: np.ndarray) -> np.ndarray:
    return (nodes >> U64(32)).astype(np.int64)


def node_row(nodes: np.ndarray) -> np.ndarray:
    return (nodes & U64(0xFFFFFFFF)).astype(np.int64)

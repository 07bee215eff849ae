"""MinHash signatures and LSH band keys, vectorised over a batch of shingle sets.

Each of the ``bands * rows`` hash functions is a random affine map ``a*x + b`` over uint64
(``a`` odd, so a bijection); the shingle hashes are already uniform 64-bit xxhash/splitmix
values, so the minimum of the mapped set is a MinHash. One permutation is one pass over every
shingle of the batch (``np.minimum.reduceat`` over document segments), not a Python loop per
shingle. A band key hashes the band's ``rows`` minima together with the band number.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curation.dedup.config import MinHashConfig
from curation.dedup.hashing import U64, mix64
from curation.dedup.shingles import shingle_sets

EMPTY = np.iinfo(np.uint64).max
_PRIME = U64(0x100000001B3)


class MinHasher:
    def __init__(self, bands: int, rows: int, seed: int):
        self.bands, self.rows = bands, rows
        rng = np.random.default_rng(seed)
        k = bands * rows
        self.a = rng.integers(0, np.iinfo(np.uint64).max, size=k, dtype=U64, endpoint=True) | U64(1)
        self.b = rng.integers(0, np.iinfo(np.uint64).max, size=k, dtype=U64, endpoint=True)

    def signatures(self, values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(docs, bands*rows) uint64 signatures; documents without shingles get ``EMPTY`` everywhere."""
        counts = np.diff(offsets)
        sig = np.full((counts.size, self.a.size), EMPTY, dtype=U64)
        nonempty = counts > 0
        if not nonempty.any():
            return sig
        starts = offsets[:-1][nonempty]
        buf = np.empty_like(values)
        minima = np.empty((self.a.size, starts.size), dtype=U64)  # one contiguous row per hash function
        for k in range(self.a.size):
            np.multiply(values, self.a[k], out=buf)
            np.add(buf, self.b[k], out=buf)
            minima[k] = np.minimum.reduceat(buf, starts)
        sig[nonempty] = minima.T
        return sig

    def band_keys(self, sig: np.ndarray) -> np.ndarray:
        """(docs, bands) uint64 keys; equal keys in the same band mean equal band minima."""
        keys = np.empty((sig.shape[0], self.bands), dtype=U64)
        for i in range(self.bands):
            h = np.full(sig.shape[0], U64(i + 1) * _PRIME, dtype=U64)
            for j in range(self.rows):
                h = (h ^ sig[:, i * self.rows + j]) * _PRIME
            keys[:, i] = mix64(h)
        return keys


def sketch(texts: pa.ChunkedArray, cfg: MinHashConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shingle values, offsets, band keys (docs x bands)) of ``texts``, batch by batch."""
    hasher = MinHasher(cfg.bands, cfg.rows, cfg.seed)
    values, sizes, keys = [np.zeros(0, dtype=U64)], [np.zeros(0, dtype=np.int64)], [np.zeros((0, cfg.bands), U64)]
    for start in range(0, len(texts), cfg.batch_docs):
        v, o = shingle_sets(texts.slice(start, cfg.batch_docs), cfg.ngram)
        keys.append(hasher.band_keys(hasher.signatures(v, o)))
        values.append(v)
        sizes.append(np.diff(o))
    offsets = np.concatenate([[0], np.cumsum(np.concatenate(sizes))]).astype(np.int64)
    return np.concatenate(values), offsets, np.concatenate(keys)


def shingle_table(values: np.ndarray, offsets: np.ndarray) -> pa.Table:
    return pa.table({"shingles": pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(values, type=pa.uint64()))})

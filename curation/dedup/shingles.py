"""Word n-gram shingles of whole batches of documents, as sorted uint64 sets in CSR layout.

Words are hashed once per distinct word (``hash_strings``); an n-gram's hash combines its word
hashes with numpy over every position of the batch at once. A document with fewer than ``n``
words gets one shingle of all its words, so short documents can still match.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curation.dedup.hashing import U64, hash_strings, mix64
from curation.dedup.normalize import words

_PRIME = U64(0x100000001B3)
_PAD = U64(0x9E3779B97F4A7C15)


def shingle_sets(texts: pa.Array | pa.ChunkedArray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, offsets): document ``d``'s distinct shingle hashes, sorted, are ``values[offsets[d]:offsets[d+1]]``."""
    w = words(texts)
    word_offsets = w.offsets.to_numpy().astype(np.int64)
    word_offsets -= word_offsets[0]
    word_hashes = hash_strings(w.flatten())
    counts = np.diff(word_offsets)
    ngrams = np.where(counts >= n, counts - n + 1, np.minimum(counts, 1))
    doc = np.repeat(np.arange(len(counts)), ngrams)
    first = np.concatenate([[0], np.cumsum(ngrams)])
    pos = word_offsets[doc] + np.arange(doc.size) - first[doc]
    end = word_offsets[doc + 1]
    h = np.zeros(doc.size, dtype=U64)
    last = max(word_hashes.size - 1, 0)
    for j in range(n):
        idx = pos + j
        term = np.where(idx < end, word_hashes[np.minimum(idx, last)] if word_hashes.size else _PAD, _PAD)
        h = (h ^ term) * _PRIME
    h = mix64(h)
    by_hash = np.argsort(h)  # then a stable (radix) sort by document: sorted sets per document
    order = by_hash[np.argsort(doc[by_hash].astype(_doc_dtype(len(counts))), kind="stable")]
    h, doc = h[order], doc[order]
    keep = np.ones(h.size, dtype=bool)
    keep[1:] = (h[1:] != h[:-1]) | (doc[1:] != doc[:-1])
    h, doc = h[keep], doc[keep]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(doc, minlength=len(counts)))]).astype(np.int64)
    return h, offsets


def _doc_dtype(n: int) -> type:
    return np.uint16 if n <= np.iinfo(np.uint16).max + 1 else np.int64


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted sets of distinct values."""
    if a.size == 0 and b.size == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)

"""Token-distribution KL divergence (Llama 3): how far a document's word distribution is from the
corpus's. Documents made of outlier tokens (tables of numbers, foreign scripts, spam) score high.

Words are lower-cased and hashed into ``buckets`` (a fixed-size, mergeable histogram; Llama 3 uses
its tokenizer's tokens, words are what every filter here already has). The reference is the
corpus's own histogram, add-``smoothing`` so no bucket has probability zero:
``KL(doc || ref) = sum_b p_doc(b) * log(p_doc(b) / q_ref(b))`` in nats.
"""

from __future__ import annotations

import numpy as np

from curation.filters.words import WordSplitter


def histogram(ids: np.ndarray, words: WordSplitter, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """(bucket ids, counts) of a document's words, sparse and sorted."""
    keys = (words.lower_hash[ids] % np.uint64(buckets)).astype(np.uint32)
    values, counts = np.unique(keys, return_counts=True)
    return values, counts.astype(np.uint32)


def log_reference(totals: np.ndarray, smoothing: float) -> np.ndarray:
    """log q(b) of the smoothed corpus histogram."""
    smoothed = totals.astype(np.float64) + smoothing
    return np.log(smoothed / smoothed.sum())


def divergences(offsets: np.ndarray, values: np.ndarray, counts: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """KL of every document at once; document i owns ``values[offsets[i]:offsets[i+1]]`` (Arrow lists)."""
    sizes = np.diff(offsets)
    doc = np.repeat(np.arange(len(sizes)), sizes)
    totals = np.bincount(doc, weights=counts, minlength=len(sizes))
    p = counts / totals[doc] if len(doc) else np.zeros(0)
    terms = p * (np.log(p) - log_q[values]) if len(doc) else np.zeros(0)
    return np.bincount(doc, weights=terms, minlength=len(sizes))

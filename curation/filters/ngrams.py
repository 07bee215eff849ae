"""Word n-gram statistics on token-id arrays (numpy), for the Gopher repetition and line filters.

N-grams are 64-bit polynomial hashes of token ids, so equal n-grams are found by one sort instead
of joining strings. datatrove compares joined strings: " ".join for top n-grams (same as comparing
ids) and "".join for duplicated n-grams, where ("ab", "c") also equals ("a", "bc"); that corner
case is ignored here (a deliberate, negligible difference).
"""

from __future__ import annotations

import numpy as np

_MULT = np.uint64(0x9E3779B97F4A7C15)


def ngram_hashes(ids: np.ndarray, max_n: int) -> dict[int, np.ndarray]:
    """{n: hash of the n-gram starting at each position} for n = 1..max_n."""
    x = ids.astype(np.uint64) + np.uint64(1)
    out = {1: x}
    h = x
    for n in range(2, max_n + 1):
        m = len(ids) - n + 1
        if m <= 0:
            out[n] = np.zeros(0, dtype=np.uint64)
            continue
        h = h[:m] * _MULT + x[n - 1 : n - 1 + m]
        out[n] = h
    return out


def top_ngram_chars(hashes: np.ndarray, char_cumsum: np.ndarray, n: int) -> int:
    """Characters of the most frequent n-gram (" "-joined) times its count (datatrove find_top_duplicate).

    Ties go to the n-gram seen first, as ``Counter.most_common(1)`` does.
    """
    if len(hashes) == 0:
        return 0
    _, first, counts = np.unique(hashes, return_index=True, return_counts=True)
    top = counts.max()
    p = int(first[counts == top].min())
    return int(char_cumsum[p + n] - char_cumsum[p] + (n - 1)) * int(top)


def duplicated_ngram_chars(hashes: np.ndarray, char_cumsum: np.ndarray, n: int) -> int:
    """Characters in duplicated n-grams, scanning left to right and skipping a duplicate's words
    (datatrove find_all_duplicate). Only positions whose n-gram occurred earlier need the scan."""
    m = len(hashes)
    if m == 0:
        return 0
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    repeats = np.flatnonzero(first[inverse] < np.arange(m))
    if len(repeats) == 0:
        return 0
    inverse = inverse.tolist()
    seen: set[int] = set()
    total = 0
    idx = 0
    for p in repeats.tolist():
        if p < idx:
            continue
        seen.update(inverse[idx:p])
        if inverse[p] in seen:
            total += int(char_cumsum[p + n] - char_cumsum[p])
            idx = p + n
        else:
            seen.add(inverse[p])
            idx = p + 1
    return total


def line_coverage(ids: np.ndarray, lengths: np.ndarray, line_of: np.ndarray, n_lines: int, n: int) -> np.ndarray:
    """Per line: the fraction of its word characters covered by n-grams seen more than once in the
    document (n-grams never cross lines). ``line_of`` gives each token's line."""
    coverage = np.zeros(n_lines)
    m = len(ids) - n + 1
    if m <= 0:
        return coverage
    hashes = ngram_hashes(ids, n)[n]
    same_line = line_of[:m] == line_of[n - 1 :]
    hashes = np.where(same_line, hashes, np.arange(m, dtype=np.uint64) | np.uint64(1 << 63))
    _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    dup_start = (counts[inverse] > 1) & same_line
    if not dup_start.any():
        return coverage
    delta = np.zeros(len(ids) + 1, dtype=np.int32)
    starts = np.flatnonzero(dup_start)
    np.add.at(delta, starts, 1)
    np.add.at(delta, starts + n, -1)
    covered = np.cumsum(delta[:-1]) > 0
    line_chars = np.bincount(line_of, weights=lengths, minlength=n_lines)
    covered_chars = np.bincount(line_of, weights=lengths * covered, minlength=n_lines)
    np.divide(covered_chars, line_chars, out=coverage, where=line_chars > 0)
    return coverage

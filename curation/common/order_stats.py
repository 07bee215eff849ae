"""Exact percentiles of a column spread over many parts, without collecting it on the driver.

A radix select over mergeable summaries: each float maps to a 64-bit key of the same order (its
IEEE-754 bits, sign folded); a task returns the sparse histogram of its keys' next digit inside a
prefix, the driver adds the tasks' histograms (O(distinct digits), never O(documents)), finds the
digit that holds the wanted rank and asks again one digit deeper. Once the bucket holding the rank
is small (``collect_limit``) its values are collected and the rank read off exactly; at full depth
every value of the bucket is the same and is its key. Four 16-bit digits: a histogram has at most
65,536 entries (in practice 16 per binade the values span), and a bucket of the first pass holds
1/16 of a binade, so up to a few million values one counting pass (fused into the phase that
computes the values) and one collecting pass suffice; each further pass divides the bucket by up
to 65,536. Percentiles interpolate as ``np.percentile`` (linear) and equal it bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from curation.runtime.context import RunContext, part_id
from curation.runtime.executor import Counters, Task

DIGITS = (16, 16, 16, 16)
COLLECT_LIMIT = 1 << 16
"""Values a collecting pass may return for one bucket (whole, on the driver)."""
Bucket = tuple[int, int]
"""(level, prefix): the keys whose first ``sum(DIGITS[:level])`` bits are ``prefix``; (0, 0) is all."""
SIGN = np.uint64(1 << 63)


def sortable(values: np.ndarray) -> np.ndarray:
    """uint64 keys in the order of the float64 values (negatives: all bits flipped; others: sign set)."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    return np.where(bits & SIGN, ~bits, bits | SIGN)


def unsortable(key: int) -> float:
    """The float64 of a key (inverse of ``sortable``)."""
    bits = np.uint64(key)
    return float(np.array(bits ^ SIGN if bits & SIGN else ~bits, dtype=np.uint64).view(np.float64))


def _prefix(keys: np.ndarray, level: int) -> np.ndarray:
    return keys >> np.uint64(64 - sum(DIGITS[:level]))


def in_bucket(keys: np.ndarray, bucket: Bucket) -> np.ndarray:
    """Mask of the keys inside ``bucket``."""
    level, prefix = bucket
    return _prefix(keys, level) == np.uint64(prefix) if level else np.ones(len(keys), bool)


def below_bucket(keys: np.ndarray, bucket: Bucket) -> np.ndarray:
    """Mask of the keys ordered before every key of ``bucket``."""
    level, prefix = bucket
    return _prefix(keys, level) < np.uint64(prefix) if level else np.zeros(len(keys), bool)


def child(bucket: Bucket, digit: int) -> Bucket:
    level, prefix = bucket
    return level + 1, (prefix << DIGITS[level]) | digit


def digit_counts(keys: np.ndarray, bucket: Bucket, weights: np.ndarray | None = None) -> list[list[int]]:
    """[digits, counts] (and, with ``weights``, their sums) of the next digit of the keys inside
    ``bucket``; sparse and sorted, so as large as the distinct digits present (at most 65,536)."""
    level = bucket[0]
    inside = in_bucket(keys, bucket)
    digits = (keys[inside] >> np.uint64(64 - sum(DIGITS[: level + 1]))) & np.uint64((1 << DIGITS[level]) - 1)
    uniq, index, counts = np.unique(digits, return_inverse=True, return_counts=True)
    if weights is None:
        return [uniq.tolist(), counts.tolist()]
    sums = np.bincount(index, weights=weights[inside], minlength=len(uniq)).astype(np.int64)
    return [uniq.tolist(), counts.tolist(), sums.tolist()]


def merge_counts(summaries: Sequence[Sequence[Sequence[int]]]) -> dict[int, int]:
    """Sum of ``digit_counts`` summaries of several tasks."""
    total: dict[int, int] = {}
    for digits, counts in summaries:
        for d, n in zip(digits, counts):
            total[d] = total.get(d, 0) + n
    return total


def pass_task(read: Callable[[str], np.ndarray], src: str, buckets: list[Bucket], collect: bool) -> Counters:
    """One part's summary per bucket: its values there (``collect``) or the next digit's histogram."""
    values = np.asarray(read(src), dtype=np.float64)
    keys = sortable(values)
    if collect:
        return {"values": [values[in_bucket(keys, b)].tolist() for b in buckets]}
    return {"digits": [digit_counts(keys, b) for b in buckets]}


def select(
    ranks: Sequence[int],
    count: Callable[[list[Bucket]], list[dict[int, int]]],
    collect: Callable[[list[Bucket]], list[list[float]]],
    first: dict[int, int] | None = None,
    collect_limit: int = COLLECT_LIMIT,
) -> list[float]:
    """The values at 0-based ``ranks`` of the sorted column.

    ``count(buckets)`` and ``collect(buckets)`` run one pass over every part and return, per bucket,
    the merged next-digit histogram or all values; ``first`` is the histogram of bucket (0, 0) when
    the values' own phase already counted it.
    """
    histograms: dict[Bucket, dict[int, int]] = {(0, 0): first} if first is not None else {}
    todo: dict[int, tuple[Bucket, int]] = {i: ((0, 0), r) for i, r in enumerate(ranks)}
    found: dict[int, float] = {}
    while todo:
        missing = sorted({b for b, _ in todo.values()} - set(histograms))
        if missing:
            histograms.update(zip(missing, count(missing)))
        small = []
        for i, ((level, prefix), rank) in list(todo.items()):
            histogram = histograms[(level, prefix)]
            for digit in sorted(histogram):
                if rank < histogram[digit]:
                    break
                rank -= histogram[digit]
            else:
                raise ValueError(f"rank {ranks[i]} is beyond the {sum(histogram.values())} values counted")
            inner = child((level, prefix), digit)
            if inner[0] == len(DIGITS):
                found[i] = unsortable(inner[1])
                del todo[i]
            else:
                todo[i] = (inner, rank)
                if histogram[digit] <= collect_limit:
                    small.append(i)
        if small:
            buckets = sorted({todo[i][0] for i in small})
            values = dict(zip(buckets, (np.sort(np.asarray(v, dtype=np.float64)) for v in collect(buckets))))
            for i in small:
                bucket, rank = todo.pop(i)
                found[i] = float(values[bucket][rank])
    return [found[i] for i in range(len(ranks))]


def percentile_ranks(n: int, q: float) -> tuple[int, int, float]:
    """(lower rank, upper rank, weight of the upper) of ``np.percentile``'s linear interpolation."""
    return quantile_ranks(n, np.float64(q) / 100)


def quantile_ranks(n: int, fraction: float) -> tuple[int, int, float]:
    """``percentile_ranks`` for ``np.quantile``'s ``fraction`` in [0, 1]."""
    virtual = (n - 1) * np.float64(fraction)
    if virtual >= n - 1:
        return n - 1, n - 1, 0.0
    lower = int(np.floor(virtual))
    return lower, lower + 1, float(virtual - lower)


def interpolate(lower: float, upper: float, gamma: float) -> float:
    """``np.percentile``'s lerp, in the same float operations."""
    a, b, t = np.float64(lower), np.float64(upper), np.float64(gamma)
    diff = b - a
    return float(b - diff * (1 - t) if t >= 0.5 else a + diff * t)


def percentile(
    ctx: RunContext,
    phase: str,
    parts: list[str],
    read: Callable[[str], np.ndarray],
    q: float,
    first: dict[int, int] | None = None,
    collect_limit: int = COLLECT_LIMIT,
) -> float | None:
    """The q-th percentile of ``read(part)`` over all ``parts`` (None when they hold no value), each
    pass a resumable phase of one task per part; ``first`` as in ``select``."""
    count, collect = part_passes(ctx, phase, parts, read)
    if first is None:
        first = count([(0, 0)])[0]
    n = sum(first.values())
    if not n:
        return None
    lower, upper, gamma = percentile_ranks(n, q)
    ranks = [lower] if upper == lower else [lower, upper]
    values = select(ranks, count, collect, first, collect_limit)
    return interpolate(values[0], values[-1], gamma)


def part_passes(
    ctx: RunContext, phase: str, parts: list[str], read: Callable[[str], np.ndarray], tag: Any = None
) -> tuple[Callable[[list[Bucket]], list[dict[int, int]]], Callable[[list[Bucket]], list[list[float]]]]:
    """``select``'s ``count`` and ``collect`` over ``read(part)`` of every part, each pass a resumable
    phase of one task per part; ``tag`` is what else decides the values (for the fingerprint)."""
    extra = [] if tag is None else [tag]

    def run(buckets: list[Bucket], collecting: bool) -> list:
        fp = ctx.fingerprint(phase, list(parts), *extra, buckets, collecting)
        kwargs = {"read": read, "buckets": buckets, "collect": collecting}
        results = ctx.run_phase(phase, fp, [Task(part_id(p), pass_task, {"src": p, **kwargs}) for p in parts])
        if collecting:
            return [[v for r in results for v in r["values"][k]] for k in range(len(buckets))]
        return [merge_counts([r["digits"][k] for r in results]) for k in range(len(buckets))]

    return (lambda buckets: run(buckets, False)), (lambda buckets: run(buckets, True))

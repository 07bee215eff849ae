"""Numeric summaries and group shares as small JSON-able dicts (what stats/*.json hold).

Every figure is computed from mergeable summaries (value -> count maps, per-group sums), so a
task per file can summarise it and the driver only adds the summaries.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.common.order_stats import interpolate, quantile_ranks

QUANTILES = (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
NONE_LABEL = "(none)"


def _round(x: float) -> float:
    return float(f"{x:.6g}")


def histogram(values: np.ndarray, weights: np.ndarray, bins: int = 30, log: bool = False) -> dict[str, list]:
    """Counts over ``bins`` edges; log-spaced edges suit lengths that span orders of magnitude."""
    lo, hi = float(values.min()), float(values.max())
    if log and lo >= 1 and hi > lo:
        edges = np.geomspace(lo, hi, bins + 1)
    else:
        edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    counts, edges = np.histogram(values, bins=edges, weights=weights)
    return {"edges": [_round(e) for e in edges], "counts": counts.astype(int).tolist()}


def value_counts(values: np.ndarray | pa.Array | pa.ChunkedArray) -> dict[float, int]:
    """Exact value -> count of the finite non-null values: a mergeable summary as large as the
    number of distinct values (lengths, rounded scores), never the number of documents."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        values = values.drop_null().to_numpy(zero_copy_only=False) if len(values) else np.array([])
    values = np.asarray(values, dtype=np.float64)
    uniq, counts = np.unique(values[np.isfinite(values)], return_counts=True)
    return dict(zip(uniq.tolist(), counts.tolist()))


def add_counts(total: dict, part: dict) -> dict:
    """Add the value -> count (or key -> number) map ``part`` into ``total``; returns ``total``."""
    for key, n in part.items():
        total[key] = total.get(key, 0) + n
    return total


def describe_counts(counts: dict[float, int], bins: int = 30, log: bool = False) -> dict[str, Any]:
    """``describe`` of the values a ``value_counts`` map stands for (the same figures, exactly)."""
    if not counts:
        return {"count": 0}
    values = np.array(sorted(counts), dtype=np.float64)
    weights = np.array([counts[v] for v in values.tolist()], dtype=np.int64)
    n = int(weights.sum())
    total = float((values * weights).sum())
    cumulative = np.cumsum(weights)
    out: dict[str, Any] = {
        "count": n,
        "sum": _round(total),
        "mean": _round(total / n),
        "min": _round(values[0]),
        "max": _round(values[-1]),
    }
    for q in QUANTILES:
        lower, upper, gamma = quantile_ranks(n, q)
        at = values[np.searchsorted(cumulative, [lower, upper], side="right")]
        out[f"p{round(q * 100)}"] = _round(interpolate(at[0], at[1], gamma))
    if bins:
        out["histogram"] = histogram(values, weights, bins=bins, log=log)
    return out


def describe(values: np.ndarray | pa.Array | pa.ChunkedArray, bins: int = 30, log: bool = False) -> dict[str, Any]:
    """count, sum, mean, min, max, quantiles and (unless ``bins`` is 0) a histogram of the non-null values."""
    return describe_counts(value_counts(values), bins=bins, log=log)


def int_counts(counts: dict[float, int]) -> dict[str, int]:
    """Exact value -> count of small integers (documents per row, cluster sizes), keyed as JSON strings."""
    return {str(int(v)): int(counts[v]) for v in sorted(counts)}


def group_sums(keys: pa.Array | pa.ChunkedArray, weights: dict[str, pa.Array | pa.ChunkedArray]) -> dict[str, dict]:
    """Per value of ``keys`` (nulls as ``(none)``): ``documents`` and the sum of each weight; mergeable
    with ``add_groups``."""
    keys = pc.fill_null(keys.cast(pa.string()), NONE_LABEL)
    grouped = pa.table({"key": keys, **weights}).group_by("key").aggregate(
        [("key", "count"), *[(w, "sum") for w in weights]]
    )
    return {
        row["key"]: {"documents": int(row["key_count"]), **{w: int(row[f"{w}_sum"] or 0) for w in weights}}
        for row in grouped.to_pylist()
    }


def add_groups(total: dict[str, dict], part: dict[str, dict]) -> dict[str, dict]:
    """Merge ``group_sums`` results; returns ``total``."""
    for key, sums in part.items():
        add_counts(total.setdefault(key, {}), sums)
    return total


def shares(groups: dict[str, dict[str, int]], weights: list[str]) -> dict[str, dict[str, float]]:
    """Per group: ``documents`` and each weight's sum, with their shares of the column totals."""
    names = ["documents", *weights]
    totals = {w: sum(g.get(w, 0) for g in groups.values()) for w in names}
    out: dict[str, dict[str, float]] = {}
    for key, sums in groups.items():
        entry: dict[str, float] = {w: sums.get(w, 0) for w in names}
        for name in names:
            entry[f"{name}_share"] = _round(entry[name] / totals[name]) if totals[name] else 0.0
        out[key] = entry
    return dict(sorted(out.items(), key=lambda kv: (-kv[1]["documents"], kv[0])))

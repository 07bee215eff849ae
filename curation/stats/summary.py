"""Numeric summaries and group shares as small JSON-able dicts (what stats/*.json hold)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

QUANTILES = (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
NONE_LABEL = "(none)"


def _round(x: float) -> float:
    return float(f"{x:.6g}")


def histogram(values: np.ndarray, bins: int = 30, log: bool = False) -> dict[str, list]:
    """Counts over ``bins`` edges; log-spaced edges suit lengths that span orders of magnitude."""
    lo, hi = float(values.min()), float(values.max())
    if log and lo >= 1 and hi > lo:
        edges = np.geomspace(lo, hi, bins + 1)
    else:
        edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    counts, edges = np.histogram(values, bins=edges)
    return {"edges": [_round(e) for e in edges], "counts": counts.astype(int).tolist()}


def describe(values: np.ndarray | pa.Array | pa.ChunkedArray, bins: int = 30, log: bool = False) -> dict[str, Any]:
    """count, sum, mean, min, max, quantiles and (unless ``bins`` is 0) a histogram of the non-null values."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        values = values.drop_null().to_numpy(zero_copy_only=False) if len(values) else np.array([])
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"count": 0}
    out: dict[str, Any] = {
        "count": int(values.size),
        "sum": _round(values.sum()),
        "mean": _round(values.mean()),
        "min": _round(values.min()),
        "max": _round(values.max()),
    }
    out.update({f"p{round(q * 100)}": _round(v) for q, v in zip(QUANTILES, np.quantile(values, QUANTILES))})
    if bins:
        out["histogram"] = histogram(values, bins=bins, log=log)
    return out


def int_counts(values: np.ndarray) -> dict[str, int]:
    """Exact value -> count for small integers (documents per row, cluster sizes)."""
    uniq, counts = np.unique(np.asarray(values, dtype=np.int64), return_counts=True)
    return {str(int(u)): int(c) for u, c in zip(uniq, counts)}


def shares(table: pa.Table, key: str, weights: list[str]) -> dict[str, dict[str, float]]:
    """Per value of ``key``: ``documents`` and the sum of each weight column, with their shares.

    Nulls are grouped as ``(none)``; shares are fractions of the column total.
    """
    keys = pc.fill_null(table.column(key).cast(pa.string()), NONE_LABEL)
    grouped = pa.table({"key": keys, **{w: table.column(w) for w in weights}}).group_by("key").aggregate(
        [("key", "count"), *[(w, "sum") for w in weights]]
    )
    totals = {"documents": table.num_rows, **{w: pc.sum(table.column(w)).as_py() or 0 for w in weights}}
    out: dict[str, dict[str, float]] = {}
    for row in grouped.to_pylist():
        entry: dict[str, float] = {"documents": int(row["key_count"])}
        entry.update({w: int(row[f"{w}_sum"] or 0) for w in weights})
        for name in list(entry):
            entry[f"{name}_share"] = _round(entry[name] / totals[name]) if totals[name] else 0.0
        out[row["key"]] = entry
    return dict(sorted(out.items(), key=lambda kv: (-kv[1]["documents"], kv[0])))

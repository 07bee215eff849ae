"""Which mix group each document belongs to, and how strongly it is preferred when sampled."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.mix.config import MixConfig
from curation.schema import get_signal


def column_values(docs: pa.Table, column: str) -> list[str | None]:
    """A document column or ``signals.<name>`` as strings (null stays None)."""
    if column.startswith("signals."):
        values = get_signal(docs, column.removeprefix("signals."))
    elif column in docs.column_names:
        values = docs.column(column)
    else:
        raise ValueError(f"mix: no column {column!r} to group by")
    return [None if v is None else str(v) for v in values.to_pylist()]


def _selector_matches(selector: str, group_by: str, docs: pa.Table, cache: dict[str, list]) -> np.ndarray:
    """Boolean mask of the documents a selector picks."""
    n = docs.num_rows
    if selector == "*":
        return np.ones(n, dtype=bool)
    negate = "!=" in selector
    column, value = selector.split("!=" if negate else "=", 1) if "=" in selector else (group_by, selector)
    values = cache.setdefault(column, column_values(docs, column))
    return np.fromiter(((v is not None) and ((v != value) if negate else (v == value)) for v in values), bool, n)


def assign_groups(docs: pa.Table, cfg: MixConfig) -> tuple[list[str | None], list[str | None]]:
    """(group of each document or None when unmapped, the document's group_by value)."""
    cache: dict[str, list] = {}
    values = cache.setdefault(cfg.group_by, column_values(docs, cfg.group_by))
    groups: list[str | None] = [v if v in cfg.targets else None for v in values]
    decided = np.zeros(docs.num_rows, dtype=bool)
    for group, selectors in cfg.groups.items():
        hit = np.zeros(docs.num_rows, dtype=bool)
        for selector in selectors:
            hit |= _selector_matches(selector, cfg.group_by, docs, cache)
        for i in np.flatnonzero(hit & ~decided):
            groups[i] = group
        decided |= hit
    return groups, values


def sampling_weights(docs: pa.Table, values: list[str | None], cfg: MixConfig) -> np.ndarray:
    """Weight of each document for weighted sampling without replacement (higher = taken first).

    ``value_weights`` of its group_by value times, when quality-weighted, ``quality ** alpha``;
    documents without a quality score are taken last.
    """
    weights = np.array([cfg.value_weights.get(v, 1.0) if v is not None else 1.0 for v in values], dtype=np.float64)
    if cfg.quality_weighted:
        quality = pc.fill_null(docs.column(cfg.quality_column).cast(pa.float64()), 0.0).to_numpy()
        weights *= np.maximum(quality, 1e-6) ** cfg.quality_alpha
    return np.maximum(weights, 1e-12)

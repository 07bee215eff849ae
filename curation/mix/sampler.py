"""How many copies of each document the mix takes, decided on token counts before any copying.

Each group gets ``share x budget`` tokens, capped at ``max_epochs`` times what it has. The quota
is met with whole epochs of the group plus a weighted sample without replacement for the
remainder (Efraimidis and Spirakis 2006: the documents with the largest ``log(1-u)/w``, ``u``
hashed from seed and id), so the choice does not depend on order or workers. The last document
is taken only if that brings the group closer to its quota, which keeps each group within half a
document of its target.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from curation.mix.config import MixConfig


@dataclass(frozen=True)
class GroupPlan:
    group: str
    target_share: float
    target_tokens: float
    available_docs: int
    available_tokens: int
    max_epochs: float
    full_epochs: int  # copies every document of the group gets
    extra_tokens: int  # tokens of the documents that get one more copy
    threshold_key: float | None  # documents ranked at or before (key, id) get the extra copy
    threshold_id: str | None

    @property
    def planned_tokens(self) -> int:
        return self.full_epochs * self.available_tokens + self.extra_tokens

    def as_dict(self) -> dict:
        return asdict(self)


def sampling_keys(uniform: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Efraimidis-Spirakis keys: a weighted sample without replacement takes the largest keys."""
    return np.log1p(-uniform) / weights


def plan_group(
    group: str, share: float, budget: float, cap: float, tokens: np.ndarray, keys: np.ndarray, ids: np.ndarray
) -> GroupPlan:
    available = int(tokens.sum())
    quota = share * budget
    allowed = min(quota, cap * available)
    full = math.floor(allowed / available + 1e-12) if available else 0
    remainder = allowed - full * available
    order = np.lexsort((ids, -keys))  # key descending, id ascending on ties
    cumulative = np.cumsum(tokens[order])
    n = int(np.searchsorted(cumulative, remainder, side="right"))
    before = cumulative[n - 1] if n else 0
    if n < len(order) and cumulative[n] - remainder < remainder - before:
        n += 1
    last = order[n - 1] if n else None
    return GroupPlan(
        group=group,
        target_share=share,
        target_tokens=quota,
        available_docs=len(tokens),
        available_tokens=available,
        max_epochs=cap,
        full_epochs=full,
        extra_tokens=int(cumulative[n - 1]) if n else 0,
        threshold_key=float(keys[last]) if last is not None else None,
        threshold_id=str(ids[last]) if last is not None else None,
    )


def plan_mix(counts: pa.Table, cfg: MixConfig) -> tuple[float, dict[str, GroupPlan]]:
    """(token budget, plan per target group) from a table of ``group``, ``tokens``, ``key``, ``id``."""
    groups = np.array(counts.column("group").to_pylist(), dtype=object)
    tokens = counts.column("tokens").to_numpy()
    keys = counts.column("key").to_numpy()
    ids = np.array(counts.column("id").to_pylist(), dtype=str)
    mapped = np.isin(groups, list(cfg.targets))
    budget = float(cfg.budget_tokens if cfg.budget_tokens is not None else tokens[mapped].sum())
    plans = {}
    for group, share in cfg.shares().items():
        rows = groups == group
        plans[group] = plan_group(group, share, budget, cfg.epochs_cap(group), tokens[rows], keys[rows], ids[rows])
    return budget, plans


def copies(plan: GroupPlan, keys: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Copies of each document of the group in this plan (``full_epochs``, +1 for the sampled ones)."""
    extra = np.zeros(len(keys), dtype=bool)
    if plan.threshold_key is not None:
        tied = (keys == plan.threshold_key) & np.array([i <= plan.threshold_id for i in ids], dtype=bool)
        extra = (keys > plan.threshold_key) | tied
    return plan.full_epochs + extra.astype(np.int64)

"""How many copies of each document the mix takes, decided on token counts before any copying.

Each group gets ``share x budget`` tokens, capped at ``max_epochs`` times what it has. The quota
is met with whole epochs of the group plus a weighted sample without replacement for the
remainder (Efraimidis and Spirakis 2006: the documents with the largest ``log(1-u)/w``, ``u``
hashed from seed and id), so the choice does not depend on order or workers. The last document
is taken only if that brings the group closer to its quota, which keeps each group within half a
document of its target.

The plan needs, per group, its documents and tokens (sums) and where the remainder's cut falls in
the order of the sampling keys: found as in ``common.order_stats``, from histograms of tokens
over the digits of the keys, narrowed until the bucket holding the cut is small enough to collect.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from curation.common.order_stats import COLLECT_LIMIT, DIGITS, Bucket, child, sortable
from curation.mix.config import MixConfig

END: Bucket = (-1, 0)
"""The bucket past a group's last document (every document is before it)."""


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


def rank_keys(keys: np.ndarray) -> np.ndarray:
    """uint64 keys in the plan's order (sampling key descending; ties are then ordered by id)."""
    return sortable(-np.asarray(keys, dtype=np.float64) + 0.0)  # + 0.0: -0.0 and 0.0 tie, as in a sort


Row = tuple[float, str, int]
"""(sampling key, id, tokens) of one document."""
Totals = dict[str, list[int]]
"""group -> [documents, tokens] of the documents the mix may take."""


@dataclass
class Cut:
    """Where a group's extra copies stop: the search state of one group over the plan's order."""

    remainder: float  # tokens the extra copies should reach
    bucket: Bucket = (0, 0)
    before: int = 0  # tokens of the documents ordered before ``bucket``
    rows: list[Row] | None = None  # the documents of ``bucket`` once collected
    previous: Row | None = None  # the last document before ``bucket``

    def settle(self) -> tuple[Row | None, int]:
        """(last document that gets an extra copy, tokens of the extra copies), as if the whole group
        were sorted: documents are taken while the running total stays at or below ``remainder``,
        plus the next one when that brings the total closer to it."""
        rows = sorted(self.rows or [], key=lambda r: (-r[0], r[1]))
        cumulative = self.before + np.cumsum([r[2] for r in rows], dtype=np.int64)
        n = int(np.searchsorted(cumulative, self.remainder, side="right"))
        before = int(cumulative[n - 1]) if n else self.before
        if n < len(rows) and cumulative[n] - self.remainder < self.remainder - before:
            n += 1
        return (rows[n - 1], int(cumulative[n - 1])) if n else (self.previous, self.before)


def locate(cuts: dict[str, Cut], histograms: dict[str, list[list[int]]], collect_limit: int) -> list[str]:
    """Move each group's cut one digit down its histogram (``[digits, documents, tokens]`` of its
    bucket); return the groups whose new bucket is small enough (or deep enough) to collect."""
    ready = []
    for group, cut in cuts.items():
        digits, docs, tokens = histograms.get(group, [[], [], []])
        for digit, n, t in zip(digits, docs, tokens):
            if cut.before + t > cut.remainder:
                cut.bucket = child(cut.bucket, digit)
                if n <= collect_limit or cut.bucket[0] == len(DIGITS):
                    ready.append(group)
                break
            cut.before += t
        else:  # the remainder reaches past the group's last document
            cut.bucket = END
            ready.append(group)
    return ready


def find_cuts(
    remainders: dict[str, float],
    first: dict[str, list[list[int]]],
    count: Callable[[dict[str, Bucket]], dict[str, list[list[int]]]],
    collect: Callable[[dict[str, Bucket]], dict[str, tuple[list[Row], Row | None]]],
    collect_limit: int = COLLECT_LIMIT,
) -> dict[str, tuple[Row | None, int]]:
    """Per group, ``Cut.settle`` of its remainder, found from token histograms over the plan's order:
    ``first`` holds each group's histogram of the first digit, ``count`` returns the next digit's
    inside given buckets, ``collect`` a bucket's documents and the last document before it."""
    cuts = {g: Cut(r) for g, r in remainders.items()}
    histograms = first
    settled: dict[str, tuple[Row | None, int]] = {}
    while cuts:
        ready = locate(cuts, histograms, collect_limit)
        if ready:
            found = collect({g: cuts[g].bucket for g in ready})
            for group in ready:
                cut = cuts.pop(group)
                cut.rows, cut.previous = found[group]
                settled[group] = cut.settle()
        if cuts:
            histograms = count({g: c.bucket for g, c in cuts.items()})
    return settled


def plan_mix(totals: Totals, cfg: MixConfig, cut: Callable[[dict[str, float]], dict[str, tuple[Row | None, int]]]
             ) -> tuple[float, dict[str, GroupPlan]]:
    """(token budget, plan per target group) from each group's [documents, tokens]; ``cut`` finds
    each group's last extra copy for its remainder (``find_cuts``)."""
    budget = float(cfg.budget_tokens if cfg.budget_tokens is not None else
                   sum(t for g, (_, t) in totals.items() if g in cfg.targets))
    quotas = {}
    for group, share in cfg.shares().items():
        docs, available = totals.get(group, [0, 0])
        quota = share * budget
        allowed = min(quota, cfg.epochs_cap(group) * available)
        full = math.floor(allowed / available + 1e-12) if available else 0
        quotas[group] = (share, quota, docs, available, full, allowed - full * available)
    cuts = cut({g: q[5] for g, q in quotas.items()})
    plans = {}
    for group, (share, quota, docs, available, full, _) in quotas.items():
        last, extra = cuts[group]
        plans[group] = GroupPlan(
            group=group,
            target_share=share,
            target_tokens=quota,
            available_docs=docs,
            available_tokens=available,
            max_epochs=cfg.epochs_cap(group),
            full_epochs=full,
            extra_tokens=extra,
            threshold_key=float(last[0]) if last is not None else None,
            threshold_id=str(last[1]) if last is not None else None,
        )
    return budget, plans


def copies(plan: GroupPlan, keys: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Copies of each document of the group in this plan (``full_epochs``, +1 for the sampled ones)."""
    extra = np.zeros(len(keys), dtype=bool)
    if plan.threshold_key is not None:
        tied = (keys == plan.threshold_key) & np.array([i <= plan.threshold_id for i in ids], dtype=bool)
        extra = (keys > plan.threshold_key) | tied
    return plan.full_epochs + extra.astype(np.int64)

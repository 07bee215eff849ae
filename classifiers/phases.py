"""The pipeline's quality stage: score and tag documents, keep by threshold or top-k% per group.

Threshold mode (FineWeb-Edu: score >= 3) is one per-document phase. Top-k% mode (DCLM: top 10%)
needs every score first: phase ``quality_score`` tags all documents, then each group's cut is found
exactly from mergeable per-task summaries (``common.order_stats``: histograms of the scores, then
of a seeded hash of the id among documents tied at the cut score), so no per-document value reaches
the driver; phase ``quality_select`` keeps what ranks at or above the cut (score desc, then hash).
Models are loaded once per worker process.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from classifiers.config import QualityConfig
from classifiers.model import Classifier, ClassifierInfo, model_digest
from curation.common import order_stats
from curation.common.hashing import uniform
from curation.io import fs
from curation.runtime.context import RunContext, part_id
from curation.runtime.executor import Counters, Task
from curation.runtime.worker_cache import cached
from curation.schema import split_by_reason, with_column, with_signals

Cut = tuple[float, float]  # the last kept (score, tie hash) of a group
CUT_PHASE = "quality_cut"


def _model(model_dir: str) -> Classifier:
    return cached(("classifiers.model", model_dir), lambda: Classifier(model_dir))


@dataclass(frozen=True)
class Tagger:
    """Sets ``quality_score``/``domain`` and their signals; keeps every document."""

    model: str | None
    domain_model: str | None
    batch_size: int
    reference_model: str | None = None

    def __call__(self, docs: pa.Table) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
        texts = [t or "" for t in docs.column("text").to_pylist()]
        counters: dict[str, Any] = {}
        if self.domain_model:
            labels, probs = _predict(_model(self.domain_model), texts, self.batch_size)
            docs = with_signals(with_column(docs, "domain", labels), {"domain_score": pa.array(probs, pa.float32())})
            counters.update({f"domain.{k}": v for k, v in sorted(Counter(labels).items())})
        if self.model:
            _, scores = _predict(_model(self.model), texts, self.batch_size)
            docs = with_column(docs, "quality_score", pa.array(scores, pa.float32()))
            docs = with_signals(docs, {"quality_score": pa.array(scores, pa.float32())})
        if self.reference_model:
            _, scores = _predict(_model(self.reference_model), texts, self.batch_size)
            docs = with_signals(docs, {"reference_score": pa.array(scores, pa.float32())})
        kept, rejected = split_by_reason(docs, [None] * docs.num_rows)
        return kept, rejected, counters


def _predict(clf: Classifier, texts: list[str], batch_size: int) -> tuple[list[str], np.ndarray]:
    labels: list[str] = []
    scores: list[np.ndarray] = []
    for start in range(0, len(texts), batch_size):
        pred = clf.predict(texts[start : start + batch_size])
        labels += pred.labels
        scores.append(pred.scores)
    return labels, np.concatenate(scores) if scores else np.zeros(0, np.float32)


@dataclass(frozen=True)
class Selector:
    """Keeps ``quality_score >= threshold``, or documents ranked at or above their group's cut."""

    threshold: float | None
    group_by: tuple[str, ...] = ()
    cuts: tuple[tuple[str, Cut], ...] = ()
    seed: int = 0

    def __call__(self, docs: pa.Table) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
        scores = docs.column("quality_score").to_pylist()
        if self.threshold is not None:
            reasons = [None if s is not None and s >= self.threshold else "quality.below_threshold" for s in scores]
        else:
            cuts = dict(self.cuts)
            ties = tie_hashes(docs, self.seed).tolist()
            reasons = [
                None if _ranks_at_or_above(s, h, cuts.get(g)) else "quality.below_top_percent"
                for s, h, g in zip(scores, ties, group_keys(docs, self.group_by))
            ]
        kept, rejected = split_by_reason(docs, reasons)
        return kept, rejected, {}


def _ranks_at_or_above(score: float | None, tie: float, cut: Cut | None) -> bool:
    if cut is None or score is None:
        return False
    return score > cut[0] or (score == cut[0] and tie <= cut[1])


def group_keys(docs: pa.Table, group_by: tuple[str, ...]) -> list[str]:
    columns = [docs.column(c).to_pylist() for c in group_by]
    return [json.dumps(list(values)) for values in zip(*columns)] if columns else ["[]"] * docs.num_rows


def tie_hashes(docs: pa.Table, seed: int) -> Any:
    """The tie-break of equal scores: a seeded hash of the id in [0, 1) (lower ranks first)."""
    return uniform(seed, "quality.top_percent", docs.column("id").to_pylist())


def _scored(part: str, group_by: tuple[str, ...], seed: int) -> tuple[list[str], Any, Any]:
    """(group keys, scores, tie hashes) of the scored documents of one part."""
    table = fs.read_parquet(part, columns=["id", "quality_score", *group_by])
    table = table.filter(pc.is_valid(table.column("quality_score")))
    scores = table.column("quality_score").to_numpy(zero_copy_only=False).astype("float64")
    return group_keys(table, group_by), scores, tie_hashes(table, seed)


def _values(part: str, group_by: tuple[str, ...], seed: int, group: str, tied_at: float | None) -> Any:
    """Negated scores of a group (ascending = best first), or with ``tied_at`` the tie hashes of its
    documents scoring exactly that."""
    keys, scores, ties = _scored(part, group_by, seed)
    inside = [k == group for k in keys]
    if tied_at is None:
        return -scores[inside]
    return ties[inside & (scores == tied_at)]


def count_task(src: str, group_by: tuple[str, ...], seed: int, cuts: dict[str, float] | None) -> Counters:
    """Per group of one part: how many scores (and their first histogram); with ``cuts``, how many
    score above the group's cut score and the first histogram of the tie hashes of those at it."""
    keys, scores, ties = _scored(src, group_by, seed)
    out: dict[str, Any] = {}
    for group in sorted(set(keys)):
        inside = [k == group for k in keys]
        if cuts is None:
            out[group] = [int(sum(inside)), order_stats.digit_counts(order_stats.sortable(-scores[inside]), (0, 0))]
        elif group in cuts:
            tied = ties[inside & (scores == cuts[group])]
            above = int((scores[inside] > cuts[group]).sum())
            out[group] = [above, order_stats.digit_counts(order_stats.sortable(tied), (0, 0))]
    return {"groups": out}


def _merge(results: list[Counters]) -> dict[str, tuple[int, dict[int, int]]]:
    merged: dict[str, list] = {}
    for result in results:
        for group, (n, digits) in result["groups"].items():
            total = merged.setdefault(group, [0, []])
            total[0] += n
            total[1].append(digits)
    return {g: (n, order_stats.merge_counts(d)) for g, (n, d) in sorted(merged.items())}


def _select(ctx: RunContext, parts: list[str], read: Callable[[str], Any], rank: int, first: dict, tag: Any) -> float:
    """The value at ``rank`` of ``read`` over ``parts``, each further pass a resumable phase."""
    count, collect = order_stats.part_passes(ctx, CUT_PHASE, parts, read, tag)
    return order_stats.select([rank], count, collect, first)[0]


def top_percent_cuts(
    ctx: RunContext, parts: list[str], group_by: tuple[str, ...], percent: float, seed: int = 0
) -> dict[str, Cut]:
    """Per group, the (score, tie hash) of the last document kept when ranking by score desc, then
    tie hash: exact, from per-part histograms (one counting pass, then usually one collecting pass
    per group; ties at the cut score are ranked the same way by their hash)."""
    settings = {"group_by": group_by, "seed": seed}

    def counting(cut_scores: dict[str, float] | None) -> dict[str, tuple[int, dict[int, int]]]:
        fp = ctx.fingerprint(CUT_PHASE, list(parts), settings, cut_scores)
        tasks = [Task(part_id(p), count_task, {"src": p, "group_by": group_by, "seed": seed, "cuts": cut_scores})
                 for p in parts]
        return _merge(ctx.run_phase(CUT_PHASE, fp, tasks))

    wanted, scores = {}, {}
    for group, (n, first) in counting(None).items():
        wanted[group] = max(1, math.ceil(n * percent / 100))
        read = partial(_values, group_by=group_by, seed=seed, group=group, tied_at=None)
        scores[group] = -_select(ctx, parts, read, wanted[group] - 1, first, [settings, group])
    cuts = {}
    for group, (above, first) in counting(scores).items():
        tied = sum(first.values())
        need = wanted[group] - above  # 1 <= need <= tied
        if need == tied:
            cuts[group] = (scores[group], 1.0)  # every tied document is kept (hashes are < 1)
            continue
        read = partial(_values, group_by=group_by, seed=seed, group=group, tied_at=scores[group])
        cuts[group] = (scores[group], _select(ctx, parts, read, need - 1, first, [settings, group, scores[group]]))
    return cuts


def run(ctx: Any, parts: list[str]) -> list[str]:
    """Score and tag ``parts`` (phase ``quality_score``), then keep the best (``quality_select``).

    Scores are computed once: changing the threshold or the top-k% reruns only the selection.
    """
    cfg: QualityConfig = ctx.config.quality
    models = {"model": cfg.model, "domain_model": cfg.domain_model, "reference_model": cfg.reference_model}
    digests = {k: model_digest(v) for k, v in models.items() if v}
    tagger = Tagger(cfg.model, cfg.domain_model, cfg.batch_size, cfg.reference_model)
    settings = {k: v for k, v in models.items() if v}  # a new model kind leaves old fingerprints as they were
    scored = ctx.map_documents("quality_score", parts, tagger, {**settings, "digests": digests, "batch": cfg.batch_size})
    if not cfg.model:
        return scored
    info = ClassifierInfo.load(cfg.model)
    if info.target == "multiclass":
        raise ValueError(f"quality.model {cfg.model} is a multiclass model; set it as quality.domain_model")
    if cfg.top_percent is None:
        threshold = cfg.threshold if cfg.threshold is not None else info.threshold
        return ctx.map_documents("quality_select", scored, Selector(threshold), {"threshold": threshold})
    group_by = tuple(cfg.group_by)
    seed = int(getattr(ctx.config, "seed", 0))
    cuts = top_percent_cuts(ctx, scored, group_by, cfg.top_percent, seed)
    selector = Selector(None, group_by, tuple(sorted(cuts.items())), seed)
    return ctx.map_documents("quality_select", scored, selector, {"top_percent": cfg.top_percent, "cuts": cuts})

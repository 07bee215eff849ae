"""The pipeline's quality stage: score and tag documents, keep by threshold or top-k% per group.

Threshold mode (FineWeb-Edu: score >= 3) is one per-document phase. Top-k% mode (DCLM: top 10%)
needs every score first: phase ``quality_score`` tags all documents, the driver computes each
group's cut from the stored scores (ranked by score, then id: deterministic and exact), and
phase ``quality_select`` keeps what is above it. Models are loaded once per worker process.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from classifiers.config import QualityConfig
from classifiers.model import Classifier, ClassifierInfo, model_digest
from curation.io import fs
from curation.runtime.worker_cache import cached
from curation.schema import split_by_reason, with_column, with_signals

Cut = tuple[float, str]  # the last kept (score, id) of a group


def _model(model_dir: str) -> Classifier:
    return cached(("classifiers.model", model_dir), lambda: Classifier(model_dir))


@dataclass(frozen=True)
class Tagger:
    """Sets ``quality_score``/``domain`` and their signals; keeps every document."""

    model: str | None
    domain_model: str | None
    batch_size: int

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

    def __call__(self, docs: pa.Table) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
        scores = docs.column("quality_score").to_pylist()
        if self.threshold is not None:
            reasons = [None if s is not None and s >= self.threshold else "quality.below_threshold" for s in scores]
        else:
            cuts = dict(self.cuts)
            ids = docs.column("id").to_pylist()
            reasons = [
                None if _ranks_at_or_above(s, i, cuts.get(g)) else "quality.below_top_percent"
                for s, i, g in zip(scores, ids, group_keys(docs, self.group_by))
            ]
        kept, rejected = split_by_reason(docs, reasons)
        return kept, rejected, {}


def _ranks_at_or_above(score: float | None, doc_id: str, cut: Cut | None) -> bool:
    if cut is None or score is None:
        return False
    return score > cut[0] or (score == cut[0] and doc_id <= cut[1])


def group_keys(docs: pa.Table, group_by: tuple[str, ...]) -> list[str]:
    columns = [docs.column(c).to_pylist() for c in group_by]
    return [json.dumps(list(values)) for values in zip(*columns)] if columns else ["[]"] * docs.num_rows


def top_percent_cuts(parts: list[str], group_by: tuple[str, ...], percent: float) -> dict[str, Cut]:
    """Per group, the (score, id) of the last document kept when ranking by score desc, then id."""
    groups: dict[str, list[tuple[float, str]]] = {}
    for part in parts:
        table = fs.read_parquet(part, columns=["id", "quality_score", *group_by])
        scores = table.column("quality_score").to_pylist()
        for key, doc_id, score in zip(group_keys(table, group_by), table.column("id").to_pylist(), scores):
            if score is not None:
                groups.setdefault(key, []).append((score, doc_id))
    cuts = {}
    for key, rows in sorted(groups.items()):
        rows.sort(key=lambda r: (-r[0], r[1]))
        cuts[key] = rows[max(1, math.ceil(len(rows) * percent / 100)) - 1]
    return cuts


def run(ctx: Any, parts: list[str]) -> list[str]:
    """Score and tag ``parts`` (phase ``quality_score``), then keep the best (``quality_select``).

    Scores are computed once: changing the threshold or the top-k% reruns only the selection.
    """
    cfg: QualityConfig = ctx.config.quality
    models = {"model": cfg.model, "domain_model": cfg.domain_model}
    digests = {k: model_digest(v) for k, v in models.items() if v}
    tagger = Tagger(cfg.model, cfg.domain_model, cfg.batch_size)
    scored = ctx.map_documents("quality_score", parts, tagger, {**models, "digests": digests, "batch": cfg.batch_size})
    if not cfg.model:
        return scored
    info = ClassifierInfo.load(cfg.model)
    if info.target == "multiclass":
        raise ValueError(f"quality.model {cfg.model} is a multiclass model; set it as quality.domain_model")
    if cfg.top_percent is None:
        threshold = cfg.threshold if cfg.threshold is not None else info.threshold
        return ctx.map_documents("quality_select", scored, Selector(threshold), {"threshold": threshold})
    group_by = tuple(cfg.group_by)
    cuts = top_percent_cuts(scored, group_by, cfg.top_percent)
    selector = Selector(None, group_by, tuple(sorted(cuts.items())))
    return ctx.map_documents("quality_select", scored, selector, {"top_percent": cfg.top_percent, "cuts": cuts})

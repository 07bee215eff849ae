"""What ``notebooks/classifier_report.ipynb`` reads: the run's scores, the model's report and held-out truth.

Everything returns None when the piece is absent, so the notebook can say what it could not show
(no classifier in this run, no labels) instead of failing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from curation.common.files import read_columns
from curation.io import fs

SCORE_COLUMNS = ["id", "quality_score", "source", "lang", "domain"]


def classifier_dir(run_dir: str) -> str | None:
    """The quality model the run used (``quality.model`` of ``DIR/config.yaml``), if any."""
    path = fs.join(run_dir, "config.yaml")
    if not fs.exists(path):
        return None
    quality = (yaml.safe_load(fs.read_bytes(path)) or {}).get("quality") or {}
    return quality.get("model") if quality.get("enabled") else None


def run_scores(run_dir: str) -> pa.Table | None:
    """``quality_score`` of kept documents and of those the quality phase dropped (``kept`` tells which).

    None when no document has a score, i.e. no quality classifier ran.
    """
    tables = []
    for path in fs.listdir(fs.join(run_dir, "docs"), ".parquet", recursive=True):
        part = read_columns(path, SCORE_COLUMNS)
        tables.append(part.append_column("reason", pa.nulls(part.num_rows, pa.string())))
    for path in fs.listdir(fs.join(run_dir, "rejects"), ".parquet", recursive=True):
        part = read_columns(path, [*SCORE_COLUMNS, "reason"])
        reasons = pc.fill_null(part.column("reason").cast(pa.string()), "")
        tables.append(part.filter(pc.starts_with(reasons, "quality.")))
    if not tables:
        return None
    table = pa.concat_tables(tables, promote_options="permissive")
    table = table.filter(pc.is_valid(table.column("quality_score")))
    if table.num_rows == 0:
        return None
    return table.append_column("kept", pc.is_null(table.column("reason")))


def eval_report(model_dir: str | None) -> dict[str, Any] | None:
    """The model's held-out evaluation (``eval.json`` written by ``curate eval-classifier``)."""
    if not model_dir:
        return None
    from classifiers.evaluate import REPORT_FILE

    path = fs.join(model_dir, REPORT_FILE)
    return fs.read_json(path) if fs.exists(path) else None


def heldout_truth_and_scores(model_dir: str) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(is-high truth, model score, decision threshold) on the model's held-out labels; not for multiclass."""
    from classifiers.evaluate import HELDOUT_FILE
    from classifiers.model import Classifier, is_high, make_targets

    path = fs.join(model_dir, HELDOUT_FILE)
    if not fs.exists(path):
        return None
    clf = Classifier(model_dir)
    info = clf.info
    if info.target == "multiclass":
        return None
    labels = fs.read_parquet(path)
    labels = labels.filter(pc.equal(labels.column("status"), "ok"))
    targets = make_targets(labels, info.target, info.score_threshold)
    truth = is_high(targets, info)
    scores = clf.predict(labels.column("text").to_pylist()).scores
    return truth, scores.astype(np.float64), float(info.threshold)


def labelled_truth_and_scores(
    scores: pa.Table, labels_path: str, score_threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """(truth, run score) of the labelled documents found in the run: truth is label ``score >= score_threshold``."""
    labels = fs.read_parquet(labels_path)
    if "status" in labels.column_names:  # the labeller's unparseable or failed answers carry no truth
        labels = labels.filter(pc.equal(labels.column("status"), "ok"))
    labels = labels.select(["id", "score"]).rename_columns(["id", "label_score"])
    joined = scores.select(["id", "quality_score"]).join(labels, "id", join_type="inner")
    joined = joined.filter(pc.is_valid(joined.column("label_score"))).sort_by("id")
    truth = joined.column("label_score").to_numpy(zero_copy_only=False) >= score_threshold
    return truth, joined.column("quality_score").to_numpy(zero_copy_only=False).astype(np.float64)

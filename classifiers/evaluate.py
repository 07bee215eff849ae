"""Evaluate a classifier against held-out LLM labels; write ``eval.json`` and ``MODEL_CARD.md``.

Binary, soft and regression models are judged as "high quality or not" at the decision threshold
(precision, recall, F1 of the high class) and by ranking (ROC AUC of the score against the
labeller's high/low), multiclass models per class; every report has the confusion matrix, the
agreement with the labeller (accuracy and Cohen's kappa) and a score histogram.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.compute as pc

from classifiers.model import HIGH, LOW, Classifier, ClassifierInfo, is_high, make_targets
from curation.io import fs

HELDOUT_FILE = "heldout.parquet"
REPORT_FILE = "eval.json"
CARD_FILE = "MODEL_CARD.md"


def eval_classifier(model_dir: str, labels: str | None = None, threshold: float | None = None) -> dict[str, Any]:
    """Score ``labels`` (default: the model's held-out labels) and save the report and model card."""
    clf = Classifier(model_dir)
    info = clf.info
    path = labels or fs.join(model_dir, HELDOUT_FILE)
    table = fs.read_parquet(path)
    table = table.filter(pc.equal(table.column("status"), "ok"))
    if table.num_rows == 0:
        raise ValueError(f"{path}: no parsed labels to evaluate on")
    cut = info.threshold if threshold is None else threshold
    pred = clf.predict(table.column("text").to_pylist(), threshold=cut)
    truth = make_targets(table, info.target, info.score_threshold)
    if info.target == "multiclass":
        report = multiclass_metrics(list(truth), pred.labels, info.classes)
    else:
        high = is_high(truth, info)
        report = binary_metrics([HIGH if h else LOW for h in high], pred.labels)
        report["auc"] = roc_auc(high, pred.scores)
        if info.target == "soft":
            p = np.asarray(truth, np.float64)
            report["soft"] = {"mae": round(float(np.abs(p - pred.scores).mean()), 4), "mean_label": round(float(p.mean()), 4)}
        if info.target == "regression":
            report["regression"] = regression_metrics(np.asarray(truth, np.float64), pred.scores.astype(np.float64))
    report.update(
        {
            "labels": path,
            "n": table.num_rows,
            "threshold": cut,
            "score_histogram": histogram(pred.scores, info),
        }
    )
    fs.write_json(fs.join(model_dir, REPORT_FILE), report)
    fs.atomic_write_bytes(fs.join(model_dir, CARD_FILE), model_card(info, report).encode())
    return report


def roc_auc(truth: np.ndarray, scores: np.ndarray) -> float | None:
    """P(a random positive scores above a random negative), ties counting half (Mann-Whitney U);
    None when one class is missing."""
    truth = np.asarray(truth, bool)
    pos, neg = int(truth.sum()), int((~truth).sum())
    if not pos or not neg:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores, np.float64)[order]
    ranks = np.empty(len(scores), np.float64)
    i = 0
    while i < len(order):  # average ranks over ties
        j = i
        while j + 1 < len(order) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return round(float((ranks[truth].sum() - pos * (pos + 1) / 2) / (pos * neg)), 4)


def confusion(truth: list[str], pred: list[str], classes: list[str]) -> list[list[int]]:
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(truth, pred):
        matrix[index[t], index[p]] += 1
    return matrix.tolist()


def cohen_kappa(matrix: list[list[int]]) -> float:
    m = np.asarray(matrix, dtype=float)
    total = m.sum()
    observed = np.trace(m) / total
    expected = float((m.sum(0) * m.sum(1)).sum() / total**2)
    return 1.0 if expected == 1 else float((observed - expected) / (1 - expected))


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def binary_metrics(truth: list[str], pred: list[str]) -> dict[str, Any]:
    """Metrics of the "high" class; the matrix rows are the labeller's, columns the model's."""
    matrix = confusion(truth, pred, [LOW, HIGH])
    (tn, fp), (fn, tp) = matrix
    return {
        **_prf(tp, fp, fn),
        "accuracy": round((tp + tn) / len(truth), 4),
        "agreement": {"accuracy": round((tp + tn) / len(truth), 4), "cohen_kappa": round(cohen_kappa(matrix), 4)},
        "confusion_matrix": {"classes": [LOW, HIGH], "rows": "labeller", "columns": "model", "matrix": matrix},
        "support": {LOW: tn + fp, HIGH: fn + tp},
    }


def multiclass_metrics(truth: list[str], pred: list[str], classes: list[str]) -> dict[str, Any]:
    classes = sorted(set(classes) | set(truth))
    matrix = confusion(truth, pred, classes)
    m = np.asarray(matrix)
    per_class = {
        c: {**_prf(int(m[i, i]), int(m[:, i].sum() - m[i, i]), int(m[i].sum() - m[i, i])), "support": int(m[i].sum())}
        for i, c in enumerate(classes)
    }
    present = [v for v in per_class.values() if v["support"]]
    accuracy = round(float(np.trace(m)) / len(truth), 4)
    return {
        "macro": {k: round(float(np.mean([v[k] for v in present])), 4) for k in ("precision", "recall", "f1")},
        "per_class": per_class,
        "accuracy": accuracy,
        "agreement": {"accuracy": accuracy, "cohen_kappa": round(cohen_kappa(matrix), 4)},
        "confusion_matrix": {"classes": classes, "rows": "labeller", "columns": "model", "matrix": matrix},
    }


def regression_metrics(truth: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    pearson = float(np.corrcoef(truth, pred)[0, 1]) if len(truth) > 1 and truth.std() and pred.std() else 0.0
    return {
        "mae": round(float(np.abs(truth - pred).mean()), 4),
        "rmse": round(float(np.sqrt(((truth - pred) ** 2).mean())), 4),
        "pearson": round(pearson, 4),
        "rounded_agreement": round(float((np.clip(np.round(pred), truth.min(), truth.max()) == truth).mean()), 4),
    }


def histogram(scores: np.ndarray, info: ClassifierInfo, bins: int = 10) -> dict[str, list[float]]:
    if info.target == "regression":
        lo, hi = float(min(scores.min(), 0.0)), float(max(scores.max(), info.score_threshold or 1.0))
    else:
        lo, hi = 0.0, 1.0
    counts, edges = np.histogram(scores, bins=bins, range=(lo, hi))
    return {"edges": [round(float(e), 4) for e in edges], "counts": counts.tolist()}


def model_card(info: ClassifierInfo, report: dict[str, Any]) -> str:
    """A short markdown card: what the model is, what it was trained on, how well it agrees."""
    cm = report["confusion_matrix"]
    header = "| labeller \\ model | " + " | ".join(cm["classes"]) + " |"
    rows = [f"| {c} | " + " | ".join(str(v) for v in row) + " |" for c, row in zip(cm["classes"], cm["matrix"])]
    if "macro" in report:
        scores = f"macro precision {report['macro']['precision']}, recall {report['macro']['recall']}, " \
                 f"F1 {report['macro']['f1']}"
    else:
        scores = f"precision {report['precision']}, recall {report['recall']}, F1 {report['f1']} (class `high`)"
    hist = report["score_histogram"]
    hist_rows = [
        f"| {lo:g} - {hi:g} | {n} |" for lo, hi, n in zip(hist["edges"], hist["edges"][1:], hist["counts"])
    ]
    lines = [
        f"# {info.target} {info.kind} classifier",
        "",
        f"- Labels: prompt `{info.prompt}` answered by `{info.labeller}`",
        f"- Target: {info.target}"
        + (f"; `high` means label score >= {info.score_threshold}" if info.score_threshold is not None else ""),
        f"- Classes: {', '.join(info.classes)}",
        f"- Model: {'fastText supervised' if info.kind == 'fasttext' else 'linear head on embeddings of '}"
        + (f"{info.encoder or 'bundled all-MiniLM-L6-v2'}" if info.kind == "embedding" else ""),
        f"- Hyperparameters: {', '.join(f'{k}={v}' for k, v in sorted(info.params.items()))}",
        f"- Decision threshold: {report['threshold']}",
        "",
        f"## Held-out evaluation ({report['n']} labels, `{report['labels'].rsplit('/', 1)[-1]}`)",
        "",
        f"- {scores}; accuracy {report['accuracy']}" + (f"; ROC AUC {report['auc']}" if report.get("auc") else ""),
        f"- Agreement with the labeller: Cohen's kappa {report['agreement']['cohen_kappa']}",
        *(
            ["- Regression: " + ", ".join(f"{k} {v}" for k, v in report["regression"].items())]
            if "regression" in report
            else []
        ),
        "",
        header,
        "|" + "---|" * (len(cm["classes"]) + 1),
        *rows,
        "",
        "## Score histogram",
        "",
        "| score | documents |",
        "|---|---|",
        *hist_rows,
        "",
        "## Limitations",
        "",
        "The labels are an LLM's judgement, not ground truth: the model can only be as good as the",
        "labeller and prompt, and inherits their biases (topic, language, style). Check agreement on",
        "a fresh labelled sample before trusting it on a new crawl or language.",
        "",
    ]
    return "\n".join(lines)

"""Training and evaluation on labels whose truth is known (seeded good vs spam documents)."""

from __future__ import annotations

import json

import pytest

from classifiers.config import EmbeddingParams, FastTextParams, TrainConfig
from classifiers.evaluate import eval_classifier
from classifiers.model import Classifier
from classifiers.synthetic import make_corpus, truth_labels
from classifiers.train import stratified_split, train_classifier
from curation.io import fs


def write_labels(path, docs, target="quality") -> str:
    """Labels as the labeller would write them, with the known truth as the LLM's answer."""
    fs.write_parquet(truth_labels(docs, target), str(path))
    return str(path)


def test_fasttext_learns_known_quality(tmp_path):
    labels = write_labels(tmp_path / "labels.parquet", make_corpus(600, seed=1))
    model_dir = str(tmp_path / "model")
    report = train_classifier(labels, model_dir, TrainConfig(kind="fasttext", seed=3))

    assert report["f1"] >= 0.9, report
    assert report["n"] == 120  # 20% held out, stratified
    assert sum(map(sum, report["confusion_matrix"]["matrix"])) == 120
    assert report["agreement"]["cohen_kappa"] > 0.8
    assert sum(report["score_histogram"]["counts"]) == 120
    saved = json.loads((tmp_path / "model" / "eval.json").read_text())
    assert saved["f1"] == report["f1"]
    card = (tmp_path / "model" / "MODEL_CARD.md").read_text()
    assert "llama3_quality@1" in card and "F1" in card

    # A fresh labelled sample (other seed) scores just as well through eval_classifier.
    fresh = write_labels(tmp_path / "fresh.parquet", make_corpus(200, seed=2))
    assert eval_classifier(model_dir, labels=fresh)["f1"] >= 0.9


def test_fasttext_training_is_reproducible(tmp_path):
    labels = write_labels(tmp_path / "labels.parquet", make_corpus(200, seed=4))
    for name in ("a", "b"):
        train_classifier(labels, str(tmp_path / name), TrainConfig(seed=7))
    assert (tmp_path / "a" / "model.bin").read_bytes() == (tmp_path / "b" / "model.bin").read_bytes()


def test_multiclass_domain_model(tmp_path):
    labels = write_labels(tmp_path / "labels.parquet", make_corpus(500, seed=5), target="domain")
    cfg = TrainConfig(target="multiclass", fasttext=FastTextParams(lr=0.5, epoch=25))
    report = train_classifier(labels, str(tmp_path / "domain"), cfg)
    assert report["macro"]["f1"] >= 0.9, report
    pred = Classifier(str(tmp_path / "domain")).predict(["def f(x):\n    return x + 1\nThe function shows recursion."])
    assert pred.labels == ["code"]


def test_stratified_split_is_seeded_and_stratified():
    ids = [f"d{i}" for i in range(100)]
    strata = ["a"] * 80 + ["b"] * 20
    train, val = stratified_split(ids, strata, 0.25, seed=0)
    assert sorted(train + val) == list(range(100))
    assert sum(strata[i] == "b" for i in val) == 5 and len(val) == 25
    assert stratified_split(ids, strata, 0.25, seed=0) == (train, val)
    assert stratified_split(ids, strata, 0.25, seed=1) != (train, val)


def test_rejects_bad_requests(tmp_path):
    labels = write_labels(tmp_path / "labels.parquet", make_corpus(50, seed=6), target="domain")
    with pytest.raises(ValueError, match="numeric label scores"):
        train_classifier(labels, str(tmp_path / "m"), TrainConfig(target="binary", score_threshold=0.5))
    with pytest.raises(ValueError, match="kind=embedding"):
        train_classifier(labels, str(tmp_path / "m"), TrainConfig(kind="fasttext", target="regression"))


@pytest.mark.slow
def test_embedding_regression_head(tmp_path):
    """MiniLM embeddings + a linear regression head (FineWeb-Edu recipe) on the 0/1 quality score."""
    labels = write_labels(tmp_path / "labels.parquet", make_corpus(240, seed=8))
    cfg = TrainConfig(kind="embedding", target="regression", score_threshold=0.5,
                      embedding=EmbeddingParams(epochs=60, lr=1e-2, batch_size=32))
    report = train_classifier(labels, str(tmp_path / "emb"), cfg)
    assert report["f1"] >= 0.9, report
    assert "regression" in report and report["regression"]["pearson"] > 0.7

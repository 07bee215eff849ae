"""Training and evaluation on labels whose truth is known (seeded good vs spam documents)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pyarrow as pa
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


def soft_labels(path, docs, p_good: float, p_spam: float) -> str:
    """Logprob-style labels: the LLM's P(yes) is ``p_good`` on good documents and ``p_spam`` on spam."""
    table = truth_labels(docs)
    probs = [p_good if d["good"] else p_spam for d in docs]
    table = table.set_column(table.schema.get_field_index("score"), "score", pa.array(probs, pa.float32()))
    blobs = [json.dumps({"yes": p, "no": 1 - p}) for p in probs]
    table = table.set_column(table.schema.get_field_index("label_probs"), "label_probs", pa.array(blobs))
    fs.write_parquet(table, str(path))
    return str(path)


def test_soft_labels_train_a_calibrated_fasttext_model(tmp_path):
    """Soft targets are learnt as probabilities: P(yes) of 0.8 vs 0.3 (both "no" and "yes" would be
    one class each under a hard cut at 0.5) come back as scores near 0.8 and 0.3."""
    labels = soft_labels(tmp_path / "soft.parquet", make_corpus(600, seed=1), 0.8, 0.3)
    report = train_classifier(labels, str(tmp_path / "soft"), TrainConfig(seed=0, fasttext=FastTextParams(epoch=20)))
    assert report["auc"] >= 0.95 and report["soft"]["mae"] < 0.15, report
    fresh = make_corpus(200, seed=2)
    scores = Classifier(str(tmp_path / "soft")).predict([d["text"] for d in fresh]).scores
    good = np.mean([s for s, d in zip(scores, fresh) if d["good"]])
    spam = np.mean([s for s, d in zip(scores, fresh) if not d["good"]])
    assert abs(good - 0.8) < 0.12 and abs(spam - 0.3) < 0.12, (good, spam)
    # The same labels cut hard at 0.5 lose the spam's 0.3: binary targets give near-0 scores there.
    hard = train_classifier(labels, str(tmp_path / "hard"), TrainConfig(target="binary", seed=0,
                                                                         fasttext=FastTextParams(epoch=20)))
    assert hard["auc"] >= 0.95


def test_reference_classifier_from_positives_and_negatives(tmp_path):
    """Llama 3's "referenced by Wikipedia" classifier: reference texts (JSONL) against crawl documents."""
    from curation.schema import make_documents
    from helpers import BIN

    docs = make_corpus(400, seed=9)
    positives = tmp_path / "reference.jsonl"
    positives.write_text("".join(json.dumps({"id": d["id"], "text": d["text"]}) + "\n" for d in docs if d["good"]))
    crawl = [d for d in make_corpus(800, seed=10) if not d["good"]]
    fs.write_parquet(make_documents({"id": [d["id"] for d in crawl], "text": [d["text"] for d in crawl]}),
                     str(tmp_path / "run" / "docs" / "part-000000.parquet"))
    result = subprocess.run([str(BIN / "curate"), "train-classifier", "--positives", str(positives), "--negatives",
                             str(tmp_path / "run"), "--out", str(tmp_path / "ref")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["auc"] >= 0.95 and report["f1"] >= 0.9
    labels = fs.read_parquet(str(tmp_path / "ref" / "reference_labels.parquet"))
    assert labels.column("label").to_pylist().count("no") == labels.column("label").to_pylist().count("yes")
    missing = subprocess.run([str(BIN / "curate"), "train-classifier", "--positives", str(positives), "--out",
                              str(tmp_path / "x")], capture_output=True, text=True)
    assert missing.returncode == 2 and "--negatives" in missing.stderr

"""Classifier scoring throughput: fastText documents/s per core.

``Classifier.predict`` (one batched fastText call per list, as the quality stage runs it) against
the anchor, fastText's plain per-document ``predict`` loop, on the same documents, single thread
each. LLM labelling speed is ``benchmarks/label.py``. Saves ``results/classifier.json``.

    python benchmarks/classifier.py [--small]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from common import save

from classifiers.model import Classifier, normalize_for_fasttext
from classifiers.synthetic import make_corpus, truth_labels
from classifiers.train import train_classifier
from curation.io import fs


def bench_scoring(tmp: str, n_train: int, n_score: int) -> dict:
    fs.write_parquet(truth_labels(make_corpus(n_train, seed=1)), f"{tmp}/labels.parquet")
    train_classifier(f"{tmp}/labels.parquet", f"{tmp}/model")
    clf = Classifier(f"{tmp}/model")
    texts = [d["text"] for d in make_corpus(n_score, seed=2)]
    mean_chars = sum(map(len, texts)) / len(texts)

    start = time.perf_counter()
    for text in texts:  # anchor: the library's per-document call
        clf.ft.predict(normalize_for_fasttext(text), k=-1)
    anchor = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(0, len(texts), 512):  # ours: the quality stage's batched call (batch_size 512)
        clf.predict(texts[i : i + 512])
    ours = len(texts) / (time.perf_counter() - start)
    print(f"fastText scoring: {n_score} docs, {mean_chars:.0f} chars mean, 1 thread, bigrams, dim 100")
    print(f"  per-document predict (anchor): {anchor:10.0f} docs/s/core")
    print(f"  Classifier.predict batched   : {ours:10.0f} docs/s/core  ({ours / anchor:.2f}x anchor)")
    return {
        "docs": n_score,
        "mean_chars": round(mean_chars),
        "anchor_per_document_predict_docs_per_s": round(anchor),
        "ours_batched_predict_docs_per_s": round(ours),
        "ratio": round(ours / anchor, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="a quick run (shared machines)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        n_train, n_score = (1000, 5000) if args.small else (5000, 100_000)
        result = bench_scoring(tmp, n_train=n_train, n_score=n_score)
    print(f"saved {save('classifier-small' if args.small else 'classifier', {'benchmark': 'classifier', **result})}")


if __name__ == "__main__":
    main()

"""Classifier throughput: fastText scoring (documents/s per core) and LLM labelling (documents/s).

- Scoring: ``Classifier.predict`` (one batched fastText call per list, as the quality stage runs
  it) against the anchor, fastText's plain per-document ``predict`` loop. Single thread each.
- Labelling: ``label()`` against ``classifiers.serve`` (SmolLM2-135M on CPU) with concurrent
  requests batched by the server, against the anchor of one request at a time.

    python benchmarks/classifier.py [--small]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from classifiers.backends import OpenAIBackend
from classifiers.label import label
from classifiers.model import Classifier, normalize_for_fasttext
from classifiers.prompts import LLAMA3_QUALITY_BINARY
from classifiers.synthetic import make_corpus, truth_labels
from classifiers.train import train_classifier
from curation.io import fs
from curation.schema import make_documents

ROOT = Path(__file__).resolve().parents[1]


def bench_scoring(tmp: str, n_train: int, n_score: int) -> None:
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


def bench_labelling(tmp: str, n_docs: int, concurrency: int, max_tokens: int) -> None:
    docs = make_corpus(n_docs, seed=3)
    table = make_documents({"id": [d["id"] for d in docs], "text": [d["text"][:300] for d in docs]})
    fs.write_parquet(table, f"{tmp}/run/docs/part-0.parquet")
    server = subprocess.Popen(
        [sys.executable, "-m", "classifiers.serve", "--port", "0", "--batch-size", str(concurrency)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        url = server.stdout.readline().split(" on ", 1)[1].strip()
        rates = {}
        for c in (1, concurrency):
            backend = OpenAIBackend(url, concurrency=c, max_tokens=max_tokens)
            out = label(
                f"{tmp}/run", f"{tmp}/labels-{c}.parquet", prompt=LLAMA3_QUALITY_BINARY, backend=backend,
                samples=n_docs, max_tokens=max_tokens, stratify_by=(),
            )  # fmt: skip
            rates[c] = out["requested"] / out["seconds"]
            parsed = out["ok"] / out["sampled"]
        print(f"labelling: SmolLM2-135M-Instruct (GGUF Q4_1 de-quantized, CPU) via classifiers.serve, "
              f"{n_docs} docs of <=300 chars, llama3_quality prompt, max_tokens {max_tokens}, {os.cpu_count()} CPUs")
        print(f"  1 request at a time (anchor) : {rates[1]:8.2f} docs/s")
        print(f"  {concurrency} concurrent, server-batched: {rates[concurrency]:8.2f} docs/s  "
              f"({rates[concurrency] / rates[1]:.2f}x anchor); {parsed:.0%} answers parsed")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="a quick run (shared machines)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.small:
            bench_scoring(tmp, n_train=1000, n_score=5000)
            bench_labelling(tmp, n_docs=8, concurrency=4, max_tokens=8)
        else:
            bench_scoring(tmp, n_train=5000, n_score=100_000)
            bench_labelling(tmp, n_docs=64, concurrency=8, max_tokens=16)


if __name__ == "__main__":
    main()

"""Labels for the "would this be referenced by Wikipedia" classifier (Llama 3, section 3.1.1).

Llama 3 trains a fastText classifier with reference text (pages cited by Wikipedia) as positives
and random crawl documents as negatives; its score is one more quality signal. Positives are any
JSONL/Parquet the user gives (e.g. Wikipedia articles); negatives a run folder's documents or files,
sampled as ``curate label`` samples. The result is a labels table like the LLM labeller's (label
``yes``/``no``, score 1/0), so training, evaluation and the model card are the same code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pyarrow as pa

from classifiers.label import LABEL_SCHEMA, document_files, sample_files, text_hash
from curation.io import fs

PROMPT_NAME = "reference"


def read_texts(paths: Sequence[str]) -> list[tuple[str, str]]:
    """(id, text) of JSONL (``.jsonl``, one object with ``text`` per line) or Parquet files and folders."""
    files: list[str] = []
    for path in paths:
        files += [path] if path.endswith((".jsonl", ".parquet")) else fs.listdir(path, (".jsonl", ".parquet"))
    if not files:
        raise FileNotFoundError(f"no .jsonl or .parquet files in {', '.join(paths)}")
    rows: list[tuple[str, str]] = []
    for path in files:
        if path.endswith(".parquet"):
            table = fs.read_parquet(path)
            if "text" not in table.column_names:
                raise ValueError(f"{path}: no 'text' column")
            texts = table.column("text").to_pylist()
            ids = table.column("id").to_pylist() if "id" in table.column_names else [None] * len(texts)
        else:
            records = [json.loads(line) for line in fs.read_bytes(path).decode().splitlines() if line.strip()]
            texts = [r.get("text") for r in records]
            ids = [r.get("id") for r in records]
        rows += [(str(i) if i is not None else f"{path}#{n}", t) for n, (i, t) in enumerate(zip(ids, texts)) if t]
    return rows


def reference_labels(positives: Sequence[str], negatives: Sequence[str], seed: int = 0) -> pa.Table:
    """Positives labelled ``yes``, as many negatives labelled ``no`` (a seeded sample when the
    negatives are a run folder or document parts, else all of them)."""
    pos = read_texts(positives)
    try:
        sample = sample_files(document_files(negatives), len(pos), seed, ())
        neg = list(zip(sample.column("id").to_pylist(), sample.column("text").to_pylist()))
    except FileNotFoundError:
        neg = read_texts(negatives)
    rows = [(f"pos:{i}", t, "yes") for i, t in pos] + [(f"neg:{i}", t, "no") for i, t in neg]
    n = len(rows)
    return pa.Table.from_pydict(
        {
            "id": [r[0] for r in rows],
            "text_hash": [text_hash(r[1]) for r in rows],
            "label": [r[2] for r in rows],
            "score": [1.0 if r[2] == "yes" else 0.0 for r in rows],
            "status": ["ok"] * n,
            "raw_answer": [None] * n,
            "model": ["reference:" + ",".join(positives)] * n,
            "prompt": [PROMPT_NAME] * n,
            "prompt_version": ["1"] * n,
            "source": ["positives" if r[2] == "yes" else "negatives" for r in rows],
            "lang": [None] * n,
            "text": [r[1] for r in rows],
            "mode": [None] * n,
            "label_probs": [None] * n,
            "label_mass": [None] * n,
        },
        schema=LABEL_SCHEMA,
    )

"""Train a quality or domain classifier on LLM labels: fastText (DCLM) or embeddings + head (FineWeb-Edu).

The labels are split into train and held-out sets by a seeded, stratified hash split; the
held-out rows are saved with the model so ``eval_classifier`` can be re-run on them at any time.

The default target is soft: the LLM's P(high quality) from its label probabilities. fastText
learns it as a weighted binary target: each line carries ``SOFT_COPIES`` labels in the LLM's
proportions, and fastText's softmax loss trains on one of a line's labels drawn at random, so
the expected loss is the cross-entropy against the soft label. The embedding head takes the
probabilities as its cross-entropy target directly.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from classifiers.config import EmbeddingParams, FastTextParams, TrainConfig
from classifiers.evaluate import HELDOUT_FILE, eval_classifier
from classifiers.model import HIGH, LOW, ClassifierInfo, embed, load_encoder, make_targets, normalize_for_fasttext
from classifiers.prompts import PROMPTS
from curation.common.hashing import hash_order
from curation.io import fs

SOFT_COPIES = 10
"""Labels per fastText line for a soft target: P(high) is learnt in steps of 1/10."""


def stratified_split(
    ids: Sequence[str], strata: Sequence[Any], val_fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """(train rows, held-out rows): each stratum sends round(n * val_fraction) rows, ranked by a
    seeded hash of the id, to the held-out set (at least one when the stratum has two rows)."""
    groups: dict[Any, list[int]] = defaultdict(list)
    for i, s in enumerate(strata):
        groups[s].append(i)
    position = {row: rank for rank, row in enumerate(hash_order(seed, "train.split", ids))}
    train, val = [], []
    for rows in groups.values():
        rows.sort(key=position.__getitem__)
        n_val = min(len(rows) - 1, max(1, round(len(rows) * val_fraction))) if len(rows) > 1 else 0
        val += rows[:n_val]
        train += rows[n_val:]
    return sorted(train), sorted(val)


def load_labels(path: str) -> pa.Table:
    """Labelled rows usable for training (parsed answers only)."""
    table = fs.read_parquet(path)
    return table.filter(pc.equal(table.column("status"), "ok"))


def train_classifier(labels_path: str, out_dir: str, config: TrainConfig | None = None) -> dict[str, Any]:
    """Train on ``labels_path``; write the model, held-out labels, eval report and model card to ``out_dir``.

    Returns the evaluation report on the held-out labels.
    """
    config = config or TrainConfig()
    if config.kind == "fasttext" and config.target == "regression":
        raise ValueError("fastText classifies; use kind=embedding for target=regression")
    labels = load_labels(labels_path)
    if labels.num_rows < 4:
        raise ValueError(f"{labels_path}: {labels.num_rows} parsed labels; need at least 4 to train and evaluate")
    prompt_name = labels.column("prompt")[0].as_py()
    score_threshold = config.score_threshold
    if config.target != "multiclass" and score_threshold is None:
        prompt = PROMPTS.get(prompt_name)
        if prompt is None or prompt.threshold is None:
            raise ValueError(f"prompt {prompt_name!r} has no default score threshold; set train.score_threshold")
        score_threshold = prompt.threshold
    y = make_targets(labels, config.target, score_threshold)
    strata = np.round(y).astype(int).tolist() if config.target in ("regression", "soft") else y
    train_rows, val_rows = stratified_split(labels.column("id").to_pylist(), strata, config.val_fraction, config.seed)
    texts = labels.column("text").to_pylist()
    fs.makedirs(out_dir)
    classes = [LOW, HIGH] if config.target != "multiclass" else sorted(set(y))
    train_texts, train_y = [texts[i] for i in train_rows], [y[i] for i in train_rows]
    if config.kind == "fasttext":
        files, params = _train_fasttext(train_texts, train_y, out_dir, config.fasttext, config.seed)
    else:
        files, params = _train_embedding(
            train_texts, train_y, classes, out_dir, config.embedding, config.target, config.seed
        )
    threshold = 0.5 if config.target in ("binary", "soft") else (score_threshold if config.target == "regression" else None)
    ClassifierInfo(
        kind=config.kind,
        target=config.target,
        classes=classes,
        threshold=threshold,
        score_threshold=score_threshold if config.target != "multiclass" else None,
        prompt=f"{prompt_name}@{labels.column('prompt_version')[0].as_py()}",
        labeller=labels.column("model")[0].as_py(),
        files=files,
        params={**params, "seed": config.seed, "val_fraction": config.val_fraction, "train_rows": len(train_rows)},
        encoder=config.embedding.encoder if config.kind == "embedding" else None,
    ).save(out_dir)
    fs.write_parquet(labels.take(val_rows), fs.join(out_dir, HELDOUT_FILE))
    return eval_classifier(out_dir)


def fasttext_labels(target: Any) -> str:
    """The labels of one fastText line: the class, or for a soft target P(high) in SOFT_COPIES labels."""
    if isinstance(target, str):
        return f"__label__{target}"
    high = int(round(float(target) * SOFT_COPIES))
    return " ".join([f"__label__{HIGH}"] * high + [f"__label__{LOW}"] * (SOFT_COPIES - high))


def _train_fasttext(
    texts: list[str], y: Sequence[Any], out_dir: str, params: FastTextParams, seed: int
) -> tuple[list[str], dict[str, Any]]:
    import fasttext

    with tempfile.TemporaryDirectory() as tmp:
        train_file = os.path.join(tmp, "train.txt")
        with open(train_file, "w") as f:
            for text, target in zip(texts, y):
                f.write(f"{fasttext_labels(target)} {normalize_for_fasttext(text)}\n")
        model = fasttext.train_supervised(
            input=train_file,
            lr=params.lr,
            epoch=params.epoch,
            dim=params.dim,
            wordNgrams=params.word_ngrams,
            minCount=params.min_count,
            thread=params.threads,
            seed=seed,
            verbose=0,
        )
        local = os.path.join(tmp, "model.bin")
        model.save_model(local)
        fs.atomic_write_bytes(fs.join(out_dir, "model.bin"), Path(local).read_bytes())
    return ["model.bin"], params.model_dump()


def _train_embedding(
    texts: list[str],
    y: Sequence[Any],
    classes: list[str],
    out_dir: str,
    params: EmbeddingParams,
    target: str,
    seed: int,
) -> tuple[list[str], dict[str, Any]]:
    """Frozen encoder embeddings, then a linear head trained with AdamW (seeded batches)."""
    import torch
    from safetensors.torch import save

    encoder = load_encoder(params.encoder, params.max_length)
    x = torch.from_numpy(embed(encoder, texts, params.batch_size))
    if target == "regression":
        t = torch.tensor(np.asarray(y, dtype=np.float32)).unsqueeze(1)
        loss_fn: Any = torch.nn.MSELoss()
    elif target == "soft":  # probabilities of [low, high] as the cross-entropy target
        p = torch.tensor(np.asarray(y, dtype=np.float32))
        t = torch.stack([1 - p, p], dim=1)
        loss_fn = torch.nn.CrossEntropyLoss()
    else:
        t = torch.tensor([classes.index(v) for v in y])
        loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    head = torch.nn.Linear(x.shape[1], 1 if target == "regression" else len(classes))
    optimizer = torch.optim.AdamW(head.parameters(), lr=params.lr)
    for _ in range(params.epochs):
        for batch in torch.randperm(len(x), generator=generator).split(params.batch_size):
            optimizer.zero_grad()
            loss_fn(head(x[batch]), t[batch]).backward()
            optimizer.step()
    weights = {k: v.contiguous() for k, v in head.state_dict().items()}
    fs.atomic_write_bytes(fs.join(out_dir, "head.safetensors"), save(weights))
    return ["head.safetensors"], params.model_dump()

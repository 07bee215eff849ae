"""The notebooks run top to bottom on a run folder and save non-trivial PNG figures into DIR/stats/figures."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pyarrow as pa
import yaml
from nbclient import NotebookClient
from PIL import Image

from classifiers.config import TrainConfig
from classifiers.label import LABEL_SCHEMA, text_hash
from classifiers.synthetic import make_corpus
from classifiers.train import train_classifier
from curation.io import fs
from stats_run import make_run

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"


def execute(name: str, run_dir: Path, monkeypatch, **env: str) -> str:
    """Run a notebook with its parameters from the environment; return the text of all its outputs."""
    monkeypatch.setenv("CURATE_RUN_DIR", str(run_dir))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(run_dir.parent / "hf-cache"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    texts = []
    for cell in book.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts += [v for k, v in output.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(texts)


def assert_figures(run_dir: Path, names: set[str]) -> None:
    figures = run_dir / "stats" / "figures"
    assert {p.stem for p in figures.glob("*.png")} >= names
    for name in names:
        image = Image.open(figures / f"{name}.png").convert("L")
        assert image.width > 300 and image.height > 200
        assert max(image.getextrema()) - min(image.getextrema()) > 100  # drawn, not a blank canvas
        assert (figures / f"{name}.png").stat().st_size > 10_000


def test_shard_stats_notebook(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    make_run(run_dir)
    out = execute("shard_stats.ipynb", run_dir, monkeypatch)
    assert_figures(run_dir, {"documents_per_row", "document_lengths", "mix", "tokens_per_source"})
    assert "position_ids restart at" in out
    assert (run_dir / "stats" / "shards.json").exists()


def write_labels(path: Path, n: int, seed: int) -> str:
    rows = [
        {"id": d["id"], "text_hash": text_hash(d["text"]), "label": "yes" if d["good"] else "no",
         "score": 1.0 if d["good"] else 0.0, "status": "ok", "raw_answer": "", "model": "truth",
         "prompt": "llama3_quality", "prompt_version": "1", "source": "synthetic", "lang": "en", "text": d["text"]}
        for d in make_corpus(n, seed=seed)
    ]
    fs.write_parquet(pa.Table.from_pylist(rows, schema=LABEL_SCHEMA), str(path))
    return str(path)


def test_classifier_report_with_a_trained_model(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    make_run(run_dir)
    model = tmp_path / "model"
    train_classifier(write_labels(tmp_path / "labels.parquet", 300, seed=1), str(model), TrainConfig(seed=0))
    (run_dir / "config.yaml").write_text(yaml.safe_dump({"quality": {"enabled": True, "model": str(model)}}))
    out = execute("classifier_report.ipynb", run_dir, monkeypatch)
    assert_figures(run_dir, {"score_distribution", "heldout_evaluation", "precision_recall"})
    assert "No classifier ran" not in out and "model held-out labels" in out


def test_classifier_report_from_labels_and_run_scores(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    make_run(run_dir)
    out = execute("classifier_report.ipynb", run_dir, monkeypatch, CURATE_LABELS=str(run_dir / "labels.parquet"))
    assert_figures(run_dir, {"score_distribution", "precision_recall"})
    assert "labels labels.parquet (score >= 3)" in out  # 0-4 label scores: the FineWeb-Edu cut


def test_classifier_report_without_a_classifier(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    make_run(run_dir, quality=False)
    out = execute("classifier_report.ipynb", run_dir, monkeypatch)
    assert "No classifier ran in this run" in out
    assert not list((run_dir / "stats" / "figures").glob("*.png"))

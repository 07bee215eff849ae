"""``curate label | train-classifier | eval-classifier | serve-llm``: the classifier commands.

Defaults come from the ``quality.label`` / ``quality.train`` sections of ``--config`` (or the
built-in defaults); options given on the command line win. Errors are one line, exit code 2
(1 when some labelling requests failed: the labels are written, re-run to retry those).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

ConfigOpt = Annotated[
    Optional[Path], typer.Option("--config", "-c", help="pipeline config YAML with a quality: section")
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


def _section(config: Path | None, name: str, given: dict[str, Any], overrides: list[str] | None = None) -> Any:
    """The ``quality.<name>`` section of ``config`` with the options that were given applied."""
    from classifiers.config import QualityConfig
    from curation.config_base import ConfigError, apply_override, load_section

    try:
        base = load_section(config, "quality", QualityConfig)
        data = getattr(base, name).model_dump()
        for assignment in overrides or []:
            apply_override(data, assignment)
        data.update({k: v for k, v in given.items() if v is not None})
        return type(getattr(base, name)).model_validate(data)
    except ConfigError as err:
        raise _fail(str(err)) from None
    except ValueError as err:  # pydantic: name the first bad key
        first = err.errors()[0] if hasattr(err, "errors") else None
        where = ".".join(str(p) for p in first["loc"]) if first else name
        raise _fail(f"quality.{name}.{where}: {first['msg'] if first else err}") from None


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True))


def label_command(
    source: Annotated[list[str], typer.Argument(help="run folder (uses DIR/docs), docs folder or parquet files")],
    out: Annotated[str, typer.Option("--out", "-o", help="labels parquet to write")],
    prompt: Annotated[Optional[str], typer.Option(help="llama3_quality[_graded], fineweb_edu or domain")] = None,
    mode: Annotated[
        Optional[str], typer.Option(help="logprob (label probabilities, one forward pass) or generate")
    ] = None,
    backend: Annotated[Optional[str], typer.Option(help="openai (any compatible server) or transformers")] = None,
    base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible URL, e.g. http://host:8000/v1")] = None,
    model: Annotated[Optional[str], typer.Option(help="served model name, or HF id/folder/.gguf (local)")] = None,
    samples: Annotated[Optional[int], typer.Option(help="documents to label (stratified sample)")] = None,
    seed: Annotated[Optional[int], typer.Option(help="sampling seed")] = None,
    max_chars: Annotated[Optional[int], typer.Option(help="document characters sent")] = None,
    max_tokens: Annotated[Optional[int], typer.Option(help="answer token limit (generate mode)")] = None,
    temperature: Annotated[Optional[float], typer.Option(help="0 = greedy")] = None,
    concurrency: Annotated[Optional[int], typer.Option(help="requests in flight (openai backend)")] = None,
    timeout: Annotated[Optional[float], typer.Option(help="seconds per request")] = None,
    retries: Annotated[Optional[int], typer.Option(help="retries per request, exponential backoff")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="documents per forward pass (transformers backend)")] = None,
    cache: Annotated[Optional[str], typer.Option(help="answer cache file (default: <out>.cache.jsonl)")] = None,
    config: ConfigOpt = None,
) -> None:
    """Label a stratified sample of documents with an LLM (label probabilities by default); resumable."""
    from classifiers.backends import OpenAIBackend, RequestFailed, TransformersBackend
    from classifiers.label import document_files, label
    from classifiers.prompts import get_prompt

    given = {
        "prompt": prompt, "mode": mode, "backend": backend, "base_url": base_url, "model": model, "samples": samples, "seed": seed,
        "max_chars": max_chars, "max_tokens": max_tokens, "temperature": temperature, "concurrency": concurrency,
        "timeout_s": timeout, "max_retries": retries, "batch_size": batch_size, "cache": cache,
    }  # fmt: skip
    cfg = _section(config, "label", given)
    try:
        chosen = get_prompt(cfg.prompt)
        document_files(source)
        if cfg.backend == "openai":
            llm: Any = OpenAIBackend(
                cfg.base_url, cfg.model, os.environ.get(cfg.api_key_env), cfg.concurrency, cfg.timeout_s,
                cfg.max_retries, cfg.backoff_s, cfg.max_tokens, cfg.temperature,
            )  # fmt: skip
        else:
            llm = TransformersBackend(cfg.model, cfg.batch_size, cfg.max_tokens, cfg.temperature)
        summary = label(
            source, out, prompt=chosen, backend=llm, samples=cfg.samples, seed=cfg.seed,
            stratify_by=cfg.stratify_by, max_chars=cfg.max_chars, max_tokens=cfg.max_tokens,
            temperature=cfg.temperature, cache=cfg.cache, mode=cfg.mode,
        )  # fmt: skip
    except KeyError as err:
        raise _fail(str(err.args[0])) from None
    except (FileNotFoundError, RequestFailed, OSError) as err:
        raise _fail(str(err)) from None
    _print(summary)
    if summary["failed"]:
        raise _fail(f"{summary['failed']} requests failed ({summary['errors'][0]}); re-run to retry them", code=1)


def train_command(
    labels: Annotated[Optional[str], typer.Argument(help="labels parquet written by `label`")] = None,
    out: Annotated[str, typer.Option("--out", "-o", help="model folder to write")] = "",
    positives: Annotated[
        Optional[list[str]], typer.Option(help="reference texts (JSONL/Parquet with `text`), e.g. Wikipedia")
    ] = None,
    negatives: Annotated[
        Optional[list[str]], typer.Option(help="random crawl documents: a run folder, parts, or JSONL/Parquet")
    ] = None,
    kind: Annotated[Optional[str], typer.Option(help="fasttext or embedding")] = None,
    target: Annotated[Optional[str], typer.Option(help="soft (default), binary, multiclass or regression")] = None,
    score_threshold: Annotated[Optional[float], typer.Option(help="binary target: score >= this is high")] = None,
    val_fraction: Annotated[Optional[float], typer.Option(help="held-out share")] = None,
    seed: Annotated[Optional[int], typer.Option(help="split and training seed")] = None,
    set_: Annotated[
        Optional[list[str]], typer.Option("--set", help="hyperparameter, e.g. fasttext.lr=0.5 or embedding.epochs=30")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Train a fastText or embedding+head classifier on LLM labels (or on --positives vs --negatives, the
    Llama 3 "referenced by Wikipedia" classifier); writes model, eval.json and MODEL_CARD.md."""
    from classifiers.train import train_classifier

    if not out:
        raise _fail("--out is required")
    if bool(positives) != bool(negatives) or bool(positives) == bool(labels):
        raise _fail("give a labels file, or both --positives and --negatives")
    given = {
        "kind": kind, "target": target, "score_threshold": score_threshold, "val_fraction": val_fraction, "seed": seed
    }
    cfg = _section(config, "train", given, set_)
    try:
        if positives:
            from classifiers.reference import reference_labels
            from curation.io import fs

            labels = fs.join(out, "reference_labels.parquet")
            fs.makedirs(out)
            fs.write_parquet(reference_labels(positives, negatives or [], cfg.seed), labels)
            if cfg.score_threshold is None:
                cfg = cfg.model_copy(update={"score_threshold": 0.5})
        report = train_classifier(labels, out, cfg)
    except (FileNotFoundError, ValueError) as err:
        raise _fail(str(err)) from None
    _print({k: v for k, v in report.items() if k != "per_class"})


def eval_command(
    model_dir: Annotated[str, typer.Argument(help="model folder written by train-classifier")],
    labels: Annotated[Optional[str], typer.Option(help="labels parquet (default: the model's held-out labels)")] = None,
    threshold: Annotated[Optional[float], typer.Option(help="decision threshold (default: the model's)")] = None,
) -> None:
    """Evaluate a classifier against LLM labels; rewrites eval.json and MODEL_CARD.md in the model folder."""
    from classifiers.evaluate import eval_classifier

    try:
        report = eval_classifier(model_dir, labels, threshold)
    except (FileNotFoundError, ValueError, KeyError) as err:
        raise _fail(str(err)) from None
    _print(report)


def serve_command(
    model: Annotated[Optional[str], typer.Option(help="HF id, folder or .gguf (default: bundled SmolLM2-135M)")] = None,
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="0 = any free port")] = 8000,
    batch_size: Annotated[int, typer.Option(min=1, help="requests generated together")] = 8,
    batch_wait_ms: Annotated[float, typer.Option(min=0, help="wait for more requests to batch")] = 20.0,
) -> None:
    """Serve a local model over an OpenAI-compatible HTTP API (for CPU users and tests)."""
    from classifiers.serve import serve

    try:
        serve(model, host, port, batch_size, batch_wait_ms)
    except OSError as err:
        raise _fail(str(err)) from None


def register(app: typer.Typer) -> None:
    """Add the classifier commands to ``app`` (the ``curate`` CLI)."""
    app.command("label")(label_command)
    app.command("train-classifier")(train_command)
    app.command("eval-classifier")(eval_command)
    app.command("serve-llm")(serve_command)

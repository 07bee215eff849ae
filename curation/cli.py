"""The ``curate`` command line."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

app = typer.Typer(
    help="Curate pretraining data: WARC/WET/JSONL/Parquet in, packed document-masked shards out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear error line and return the exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="pipeline config YAML (see configs/)")],
    input: Annotated[Optional[list[str]], typer.Option("--input", "-i", help="input path/URI/glob (repeatable); replaces input.paths")] = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="run folder (local path or fsspec URI)")] = None,
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address (default: RAY_ADDRESS or embedded local Ray)")] = None,
    workers: Annotated[Optional[int], typer.Option(help="concurrent tasks (default: all CPUs)")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="override a config key: key.path=value (repeatable)")] = None,
) -> None:
    """Run the configured pipeline; re-running the same command resumes unfinished work."""
    from curation.config import ConfigError, load_config
    from curation.io.readers import InputError
    from curation.pipeline import run_pipeline
    from curation.runtime.executor import TaskFailed
    from curation.stats.funnel import print_funnel

    overrides = list(set_ or [])
    if input:
        overrides.append("input.paths=" + json.dumps(input))
    if output:
        overrides.append("output.dir=" + json.dumps(output))
    if address:
        overrides.append("runtime.address=" + json.dumps(address))
    if workers:
        overrides.append(f"runtime.workers={workers}")
    try:
        cfg = load_config(config, overrides)
        if not cfg.input.paths:
            raise ConfigError("no input: set input.paths in the config or pass --input")
        if not cfg.output.dir:
            raise ConfigError("no output folder: set output.dir in the config or pass --output")
        manifest = run_pipeline(cfg, cfg.output.dir)
    except (ConfigError, InputError) as err:
        raise fail(str(err)) from None
    except TaskFailed as err:
        raise fail(f"{err}; finished tasks are kept, re-run the same command to resume", code=1) from None
    except OSError as err:
        raise fail(f"{err.strerror or err} ({err.filename or ''}); finished work is kept", code=1) from None
    print_funnel(manifest)
    Console().print(f"run folder: {cfg.output.dir}")


@app.command("sample-crawl")
def sample_crawl(
    out: Annotated[Path, typer.Argument(help="output .warc.gz (ground truth is written next to it)")],
    docs: Annotated[int, typer.Option(min=1, help="number of pages")] = 2000,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same bytes)")] = 0,
) -> None:
    """Write a synthetic, realistic crawl with known duplicates, spam, languages and broken records."""
    from curation.testing import write_sample_crawl

    try:
        summary = write_sample_crawl(str(out), docs=docs, seed=seed)
    except ValueError as err:
        raise fail(str(err)) from None
    Console().print_json(json.dumps(summary))


@app.command()
def stats(
    run_dir: Annotated[str, typer.Argument(help="run folder (or a shard folder)")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
) -> None:
    """Print a run's funnel, document distributions, dedup clusters and shard statistics."""
    from curation.stats import StatsError, stats_command

    try:
        stats_command(run_dir, as_json)
    except StatsError as err:
        raise fail(str(err)) from None


@app.command()
def explain(
    run_dir: Annotated[str, typer.Argument(help="run folder")],
    doc_id: Annotated[str, typer.Argument(help="document id (see the docs/ or rejects/ parquet)")],
) -> None:
    """Show a document's signals, the rules it passed or failed, and whether it was kept."""
    from curation.filters.explain import explain as explain_document

    try:
        report = explain_document(run_dir, doc_id)
    except (KeyError, FileNotFoundError) as err:
        raise fail(str(err).strip("'\"")) from None
    Console().print_json(json.dumps(report, default=str))


def _register_stage_commands() -> None:
    """Commands the registered stages add (the classifier commands), imported by name from the registry."""
    from curation.stages import STAGES

    for stage in STAGES:
        if stage.commands is not None:
            importlib.import_module(stage.commands).register(app)


_register_stage_commands()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted; re-run the same command to resume")
        sys.exit(130)


if __name__ == "__main__":
    main()

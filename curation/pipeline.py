"""The whole run, phase by phase: read+extract -> filters -> dedup -> quality -> mix -> pack.

This module only sequences phases; each phase lives in its own package and exposes
``run(ctx, parts) -> parts``. Every phase is fingerprinted and resumable, so re-running the
same command after a crash redoes only unfinished tasks.
"""

from __future__ import annotations

import dataclasses
import importlib
import platform
from typing import Any

import pyarrow as pa

from curation.config import PipelineConfig, dump_config
from curation.extract import Extractor
from curation.io import fs
from curation.io.readers import plan_input_tasks, read_task
from curation.runtime.context import RunContext
from curation.runtime.executor import Counters, Task
from curation.runtime.ray_session import ray_session
from curation.schema import reject_counts
from curation.stats import compute_run_stats

DOCUMENT_PHASES: list[tuple[str, str]] = [
    ("filters", "curation.filters.phases"),
    ("dedup", "curation.dedup.phases"),
    ("quality", "classifiers.phases"),
]
"""(config section, module) of the phases that take and return document parts, in order."""


def extract_task(task: Any, input_cfg: Any, extract_cfg: Any, out_dir: str, write_rejects: bool) -> Counters:
    """Read one input task and extract its documents; write ``part-<id>`` and ``rejects-<id>``."""
    raw, read_rejects, read_counters = read_task(task, input_cfg)
    kept, extract_rejects, _ = Extractor(extract_cfg)(raw)
    rejects = pa.concat_tables([read_rejects, extract_rejects], promote_options="permissive")
    if write_rejects and rejects.num_rows:
        fs.write_parquet(rejects, fs.join(out_dir, f"rejects-{task.task_id}.parquet"))
    fs.write_parquet(kept, fs.join(out_dir, f"part-{task.task_id}.parquet"))
    rejected = reject_counts(rejects)
    skipped = read_counters.get("skipped", {})
    for reason, n in skipped.items():
        rejected[reason] = rejected.get(reason, 0) + n
    other = {k: v for k, v in read_counters.items() if k != "skipped"}
    return {"in": kept.num_rows + sum(rejected.values()), "out": kept.num_rows, "rejected": rejected, **other}


def extract_phase(ctx: RunContext, tasks: list[Any] | None = None) -> list[str]:
    """Read and extract every input task (default: all tasks planned from ``input``)."""
    cfg: PipelineConfig = ctx.config
    tasks = plan_input_tasks(cfg.input) if tasks is None else tasks
    described = [dataclasses.asdict(t) if dataclasses.is_dataclass(t) else repr(t) for t in tasks]
    fp = ctx.fingerprint("extract", cfg.input.model_dump(), cfg.extract.model_dump(), described)
    out_dir = ctx.work_dir("extract", fp)
    kwargs = {"input_cfg": cfg.input, "extract_cfg": cfg.extract, "out_dir": out_dir}
    ctx.run_phase(
        "extract",
        fp,
        [Task(t.task_id, extract_task, {"task": t, "write_rejects": cfg.output.write_rejects, **kwargs}) for t in tasks],
    )
    return [fs.join(out_dir, f"part-{t.task_id}.parquet") for t in tasks]


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("curation", "ray", "pyarrow", "trafilatura", "resiliparse", "datatrove", "tokenizers", "fasttext"):
        try:
            out[name] = importlib.metadata.version(name if name != "fasttext" else "fasttext-numpy2")
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def publish_documents(ctx: RunContext, parts: list[str]) -> None:
    """``docs/`` gets the curated parts, ``rejects/`` every phase's rejects (stale files removed)."""
    ctx.publish("docs", [(p.rsplit("/", 1)[-1], p) for p in parts])
    rejects = [(f"{phase}-{path.rsplit('/', 1)[-1].removeprefix('rejects-')}", path) for phase, path in ctx.reject_files()]
    ctx.publish("rejects", rejects)


def run_pipeline(config: PipelineConfig, run_dir: str) -> dict[str, Any]:
    """Run every enabled phase into ``run_dir``; return (and write) the manifest."""
    fs.makedirs(run_dir)
    fs.atomic_write_bytes(fs.join(run_dir, "config.yaml"), dump_config(config).encode())
    ctx = RunContext(config, run_dir)
    outputs: dict[str, Any] = {}
    with ray_session(config.runtime):
        parts = extract_phase(ctx)
        for section, module in DOCUMENT_PHASES:
            if getattr(config, section).enabled:
                parts = importlib.import_module(module).run(ctx, parts)
        publish_documents(ctx, parts)
        if config.mix.enabled:
            parts = importlib.import_module("curation.mix.phases").run(ctx, parts)
        if config.pack.enabled:
            outputs["shards"] = importlib.import_module("curation.pack.phases").run(ctx, parts)
    manifest = ctx.manifest({"versions": versions(), "outputs": outputs})
    fs.write_json(fs.join(run_dir, "manifest.json"), manifest)
    compute_run_stats(run_dir)
    return manifest

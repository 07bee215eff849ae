"""The whole run, phase by phase: read+extract -> filters -> dedup -> quality -> mix -> pack.

This module only sequences phases; each stage lives in its own package, is named in the stage
registry (``curation.stages``) and exposes ``run(ctx, parts) -> parts``. Every phase is fingerprinted and resumable, so re-running the
same command after a crash redoes only unfinished tasks.
"""

from __future__ import annotations

import dataclasses
import importlib
import platform
from contextlib import nullcontext
from typing import Any

import pyarrow as pa

from curation.common.tokenizer import get_tokenizer
from curation.config import PipelineConfig, dump_config
from curation.extract.html import Extractor, trafilatura_module
from curation.filters.gates import Gates
from curation.filters.url import ut1_lists, ut1_parsed_aside
from curation.filters.words import word_splitter
from curation.io import fs
from curation.io.readers import plan_input_tasks, read_task
from curation.runtime.context import RunContext
from curation.runtime.executor import Counters, Task
from curation.runtime.ray_session import ray_session
from curation.schema import reject_counts
from curation.stages import STAGES, stage
from curation.stats import compute_run_stats



def extract_task(
    task: Any, input_cfg: Any, extract_cfg: Any, out_dir: str, write_rejects: bool, gates: Gates | None = None
) -> Counters:
    """Read one input task and extract its documents; write ``part-<id>`` and ``rejects-<id>``.

    ``gates`` (the filters' rules, settings only) turns on the gates before extraction."""
    raw, read_rejects, read_counters = read_task(task, input_cfg)
    kept, extract_rejects, _ = Extractor(extract_cfg, gates)(raw)
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


def extraction_gates(cfg: PipelineConfig) -> Gates | None:
    """The gates before extraction (settings only): the filters' URL and language rules, None when none applies."""
    gates = Gates(cfg.extract.gates, cfg.filters, load=False)
    return gates if gates.active else None


def extract_phase(ctx: RunContext, tasks: list[Any] | None = None, wait: bool = True) -> list[str]:
    """Read and extract every input task (default: all tasks planned from ``input``). Without ``wait``, the
    next phase's per-part tasks start as each part is extracted (``RunContext.start_phase``): the
    extraction's last, longest tasks no longer leave the other workers idle."""
    cfg: PipelineConfig = ctx.config
    tasks = plan_input_tasks(cfg.input) if tasks is None else tasks
    described = [dataclasses.asdict(t) if dataclasses.is_dataclass(t) else repr(t) for t in tasks]
    gates = extraction_gates(cfg)
    filters = cfg.filters if gates else None
    gated_by = filters and {**gates.settings(), "url": filters.url.model_dump(), "lid_model": filters.lid.model_path}
    fp = ctx.fingerprint("extract", cfg.input.model_dump(), cfg.extract.model_dump(), described, gated_by)
    out_dir = ctx.work_dir("extract", fp)
    kwargs = {"input_cfg": cfg.input, "extract_cfg": cfg.extract, "gates": gates, "out_dir": out_dir}
    run = ctx.run_phase if wait else ctx.start_phase
    run(
        "extract",
        fp,
        [Task(t.task_id, extract_task, {"task": t, "write_rejects": cfg.output.write_rejects, **kwargs}) for t in tasks],
        kind="extract",
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


def warm_up(config: PipelineConfig, forks_workers: bool) -> None:
    """What would otherwise be waited for later: the on-disk UT1 lists each worker of this machine maps
    (~0.5 CPU-seconds to parse, decompression) and this driver's tokenizer (pack's fingerprint and pad
    id). ``forks_workers``: the tasks run in workers forked from this process, which inherit what it
    loads, so it also loads what each of them would load for itself (``load_task_models``, the gates),
    on one core while a forked child parses UT1 on the other: 0.6 s less per 2-worker run of the shared
    crawl (6 alternating pairs, 9.12 against 9.73 s). A one-worker run loads them in its first tasks
    instead: loaded before, they made it no faster."""
    url_lists = config.filters.enabled and config.filters.url.enabled
    with ut1_parsed_aside() if url_lists and forks_workers else nullcontext():
        if config.pack.enabled:
            get_tokenizer(config.pack.tokenizer, config.pack.add_bos, config.pack.add_eos)
        if forks_workers:
            load_task_models(config)
    if url_lists:
        ut1_lists()
    if forks_workers and config.extract.enabled:
        gates = Extractor(config.extract, extraction_gates(config)).gates()  # UT1 lists, lid
        if gates is not None:
            gates.check_url("https://example.com/")  # tldextract builds its suffix trie on first use (0.12 s)


def load_task_models(config: PipelineConfig) -> None:
    """What each task process loads on its first task (0.7 s on 2 cores): trafilatura (with justext's
    stoplists), the filters' word splitters, and pandas (pyarrow imports it as it builds the first table of
    raw records)."""
    import pandas  # noqa: F401

    if config.extract.enabled and config.extract.backend == "trafilatura":
        trafilatura_module()
    if config.filters.enabled:
        for language in config.filters.lid.languages or ("en",):
            word_splitter(language)


def run_pipeline(config: PipelineConfig, run_dir: str) -> dict[str, Any]:
    """Run every enabled phase into ``run_dir``; return (and write) the manifest."""
    env = fs.configure_storage(config.storage.options)
    shared = [("run folder", run_dir), *(("input", path) for path in config.input.paths)]
    outputs: dict[str, Any] = {}
    with ray_session(config.runtime, env=env, shared_paths=shared, warm_up=lambda here: warm_up(config, here)):
        fs.makedirs(run_dir)
        fs.atomic_write_bytes(fs.join(run_dir, "config.yaml"), dump_config(config).encode())
        ctx = RunContext(config, run_dir)
        parts = extract_phase(ctx, wait=False)
        for document_stage in (s for s in STAGES if s.documents):
            if getattr(config, document_stage.section).enabled:
                parts = document_stage.phase_module().run(ctx, parts)
        publish_documents(ctx, parts)
        if config.mix.enabled:
            parts = stage("mix").phase_module().run(ctx, parts)
        if config.pack.enabled:
            outputs["shards"] = stage("pack").phase_module().run(ctx, parts)
        manifest = ctx.manifest({"versions": versions(), "outputs": outputs})
        fs.write_json(fs.join(run_dir, "manifest.json"), manifest)
        compute_run_stats(run_dir)  # inside the session: per-file summaries run where the tasks run
    return manifest

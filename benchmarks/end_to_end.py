"""The whole pipeline on a real crawl against an equivalent datatrove pipeline, same pages, same run.

Input: the response records of ``../shared/data/crawl/*.warc.gz`` (a generated sample crawl when
absent), copied byte for byte into ``--files`` WARC files so that both systems see the same pages
and can split them over their workers (datatrove parallelises over files). Each measurement runs in
its own interpreter and starts cold: at 2 workers ``runtime.executor: auto`` forks 2 worker processes
from the driver after its warm-up (``curation/runtime/forked.py``), as datatrove's LocalPipelineExecutor
forks its pool, and the warm-up, the fork and what the workers load lazily are inside the clock; at 1
worker it runs the tasks in the measured process, as datatrove does, and the lazy imports and loads happen
inside the clock there. The clock also covers our UT1 blocklist parse (``CURATION_CACHE`` points to an
empty folder, so nothing comes from an on-disk cache), as it covers datatrove's pool start and its
per-task blocklist parse. The imports of the measuring process and the copy of the crawl are outside the
timings for both.
Both sides run compiled bytecode (``common.compile_ours``: pip compiled datatrove's at install).

- ours, ``default``: ``run_pipeline`` with the default config (gates -> extract -> filters -> dedup ->
  tokenize + pack) and ``runtime.workers`` = W;
- ours, ``nogates`` (1 worker): the default config with the gates off; its kept documents are compared
  with the default run's (ids, tokens, and the extracted text of every page both extract; every
  difference listed) and its language IDs define the English-only subset of the crawl (pages whose
  extracted text fastText labels ``en``), on which ours (default) and datatrove run again;
- ours, ``equivalent``: the same with the work datatrove does not do switched off (see EQUIVALENT);
- datatrove 0.10, ``LocalPipelineExecutor`` (tasks = workers = W, fork start): WarcReader ->
  Trafilatura (favour precision, no comments, tables, no dedup) -> URLFilter -> LanguageFilter(en,
  0.65, the same lid.176) -> GopherRepetition -> GopherQuality -> C4Quality (FineWeb settings) ->
  FineWebQuality -> PIIFormatter -> ParquetWriter -> MinhashDedupSignature; MinhashDedupBuckets (one
  task per band); MinhashDedupCluster; ParquetReader -> MinhashDedupFilter -> DocumentTokenizer
  (Llama 3, BOS + text + EOS as ours). MinHash uses our settings (5-grams, 20 bands x 6 rows).

Documents/s counts the crawl's response records (the same number for both); tokens/s counts the
tokens each system wrote (ours: the shard manifest; datatrove: DocumentTokenizer's ``tokens`` stat).
Per core = throughput / W. Per CPU-second = over the user + system time of the measured process tree
(driver, Ray's daemons and workers / datatrove's pool, extraction sandboxes and manager), which other
load on a shared machine does not inflate; it is also split by process kind (driver, Ray daemons,
workers), and ours' phase timeline (start and end of each phase; extract and the phase after it
overlap) and wall time outside every phase (Ray's start and stop, planning, publishing, run
statistics) are reported. Tokenizers' own thread pool is off for both (TOKENIZERS_PARALLELISM=false)
so that W workers use W cores. Peak memory: the largest summed RSS of that process tree, sampled
every 0.25 s. A 2-core machine's timings vary by 10-20% from run to run (Ray's start alone has taken
1.6 or 2.6 s): each measurement runs ``--repeat`` times, in rounds that run every configuration once,
and the run of median wall time is reported with every run's seconds.

    python benchmarks/end_to_end.py [--small] [--workers 1 2] [--repeat 3] [--limit-pages N] [--files K]
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil
from common import SHARED_DATA, compile_ours, machine, peak_rss_mib, save, timer

GOAL_PER_CORE_RATIO = 3.0  # issue 15: mixed-language crawl, default config, both cold
GOAL_ENGLISH_RATIO = 2.0  # issue 15: the English-only subset
NO_GATES = ["extract.gates.url=false", "extract.gates.lid=false"]
ALL_ON_RAY = ["runtime.executor=ray"]  # an embedded Ray instead of forked workers (benchmarks/forked_workers.py)
MINHASH = {"n_grams": 5, "bands": 20, "rows": 6}  # ours' defaults (curation/dedup/config.py), given to datatrove
EQUIVALENT = [
    "filters.kl.enabled=false",
    "filters.dirty_words.enabled=false",
    "filters.line_ngrams.enabled=false",
    "dedup.url.enabled=false",
    "dedup.exact.enabled=false",
    "dedup.lines.enabled=false",
    "dedup.minhash.verify=false",
    "extract.keep_alt_text=false",
    "extract.strip_markdown=false",
]
"""Overrides that leave ours doing datatrove's work (datatrove's Trafilatura cannot keep images)."""
STILL_DIFFERENT = [
    (
        "ours packs the tokens into shuffled 8,192-token rows (best-fit) and writes Parquet shards; "
        "datatrove's DocumentTokenizer writes one shuffled token file per task (no packing, no merge)"
    ),
    (
        "ours writes Parquet (zstd) after every phase, rejects, a manifest and run statistics; datatrove "
        "writes Parquet (zstd) once after the filters, then MinHash signatures and buckets"
    ),
    "ours' MinHash also picks the newest document of a cluster; datatrove keeps the first one",
]


def crawl_sources(tmp: Path, docs: int) -> list[Path]:
    """The shared crawl's WARC files, or a generated sample crawl when the shared data is absent."""
    shared = sorted(Path(p) for p in glob.glob(str(SHARED_DATA / "crawl" / "*.warc.gz")))
    if shared:
        return shared
    from curation.testing import write_sample_crawl

    path = tmp / "sample-crawl.warc.gz"
    write_sample_crawl(str(path), docs=docs, seed=0)
    return [path]


def response_records(paths: list[Path]) -> list[tuple[Path, int, int, str]]:
    """``(file, offset, length, WARC-Record-ID)`` of every response record (each its own gzip member)."""
    from warcio.archiveiterator import ArchiveIterator

    records = []
    for path in paths:
        with path.open("rb") as f:
            it = ArchiveIterator(f)
            for record in it:
                if record.rec_type == "response":
                    record.content_stream().read()
                    rid = record.rec_headers.get_header("WARC-Record-ID")
                    records.append((path, it.get_record_offset(), it.get_record_length(), rid))
    return records


def write_crawl(paths: list[Path], out_dir: Path, files: int, limit: int | None, ids: set[str] | None = None) -> dict:
    """Copy (up to ``limit``, evenly spread; only ``ids`` if given) response records into ``files``
    contiguous WARC files."""
    records = response_records(paths)
    if ids is not None:
        records = [r for r in records if r[3] in ids]
    if limit and limit < len(records):
        records = [records[i * len(records) // limit] for i in range(limit)]
    files = min(files, len(records))
    out_dir.mkdir(parents=True)
    handles: dict[Path, object] = {}
    size = 0
    for k in range(files):
        with (out_dir / f"crawl-{k:03d}.warc.gz").open("wb") as out:
            for path, offset, length, _ in records[k * len(records) // files : (k + 1) * len(records) // files]:
                f = handles.setdefault(path, path.open("rb"))
                f.seek(offset)
                out.write(f.read(length))
                size += length
    for f in handles.values():
        f.close()
    return {
        "pages": len(records),
        "files": files,
        "compressed_mb": round(size / 2**20, 1),
        "sources": [p.name for p in paths],
    }


RAY_DAEMONS = ("gcs_server", "raylet", "dashboard", "monitor.py", "log_monitor", "DashboardAgent", "RuntimeEnvAgent")


def process_kind(proc: psutil.Process, me: psutil.Process) -> str:
    """``driver``, ``ray daemons`` (GCS, raylet, dashboard, monitors, agents) or ``workers`` (Ray's
    workers and their extraction children; datatrove's pool)."""
    if proc.pid == me.pid:
        return "driver"
    cmdline = " ".join(proc.cmdline())
    return "ray daemons" if any(name in cmdline for name in RAY_DAEMONS) else "workers"


@contextmanager
def process_tree(interval: float = 0.25):
    """Yields a dict kept up to date by a sampling thread over this process and its descendants:
    ``peak_mib`` (largest summed RSS), ``largest_mib`` (biggest single process) and, at the end,
    ``cpu_seconds`` (user + system time they spent inside the block, as last seen per process) and
    ``cpu_seconds_by_kind`` (the same split by ``process_kind``)."""
    out = {"peak_mib": 0.0, "largest_mib": 0.0, "cpu_seconds": 0.0}
    me = psutil.Process()
    cpu: dict[tuple[int, float], float] = {}
    kinds: dict[tuple[int, float], str] = {}

    def sample() -> None:
        rss = []
        for proc in [me, *me.children(recursive=True)]:
            try:
                with proc.oneshot():
                    rss.append(proc.memory_info().rss / 2**20)
                    times = proc.cpu_times()
                    key = (proc.pid, proc.create_time())
                    kind = kinds.get(key)
                    if kind in (None, "workers"):  # a fresh process may not have its final name yet
                        kind = process_kind(proc, me)  # raises if the process has just exited: nothing kept
                    kinds[key], cpu[key] = kind, times.user + times.system
            except psutil.Error:
                continue
        out["peak_mib"] = max(out["peak_mib"], sum(rss))
        out["largest_mib"] = max(out["largest_mib"], max(rss, default=0.0))

    sample()
    before = dict(cpu)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            sample()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield out
    finally:
        stop.set()
        thread.join()
        sample()
        spent = {k: v - before.get(k, 0.0) for k, v in cpu.items()}
        out["cpu_seconds"] = sum(spent.values())
        by_kind: dict[str, float] = collections.defaultdict(float)
        for key, seconds in spent.items():
            by_kind[kinds[key]] += seconds
        out["cpu_seconds_by_kind"] = {k: round(v, 2) for k, v in sorted(by_kind.items())}


def run_ours(crawl: str, work: str, workers: int, variant: str) -> dict:
    from curation.config import parse_config
    from curation.pipeline import run_pipeline

    paths = sorted(str(p) for p in Path(crawl).glob("*.warc.gz"))
    config = parse_config(
        {"input": {"paths": paths}, "runtime": {"workers": workers, "progress": False}, "output": {"dir": work}},
        {"equivalent": EQUIVALENT, "nogates": NO_GATES, "allray": ALL_ON_RAY}.get(variant, []),
    )
    with process_tree() as tree, timer() as t:  # cold: run_pipeline starts Ray and its workers
        manifest = run_pipeline(config, work)
    phases = {p["name"]: p for p in manifest["phases"]}
    counts = manifest["outputs"]["shards"]["counts"]
    return {
        "seconds": t["seconds"],
        "pages_read": phases["extract"]["in"],
        "docs_out": counts["docs"],
        "tokens": counts["tokens"],
        "process_tree": tree,
        "phase_seconds": {name: p["wall_seconds"] for name, p in phases.items()},
        # (start, end) in seconds after the run's start (after Ray's); extract and the phase after it overlap
        "phase_timeline": {name: [p["started_seconds"], round(p["started_seconds"] + p["wall_seconds"], 3)]
                           for name, p in phases.items()},
        # Ray's start and stop, planning, publishing and run statistics
        "outside_phases_seconds": round(t["seconds"] - covered_seconds(list(phases.values())), 2),
    }


def covered_seconds(phases: list[dict]) -> float:
    """Wall seconds during which at least one phase ran (the union of their intervals)."""
    total, end = 0.0, float("-inf")
    for p in sorted(phases, key=lambda p: p["started_seconds"]):
        start, stop = p["started_seconds"], p["started_seconds"] + p["wall_seconds"]
        total += max(0.0, stop - max(start, end))
        end = max(end, stop)
    return total


def datatrove_pipelines(crawl: str, work: str) -> list[tuple[str, list, int | None]]:
    """datatrove's stages as ``(name, pipeline, tasks)``; ``None`` tasks = the worker count."""
    from dedup_quality import patch_datatrove_xxhash
    from filters import datatrove_filters

    from curation.common.tokenizer import llama3_tokenizer_path

    patch_datatrove_xxhash()

    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import ParquetReader, WarcReader
    from datatrove.pipeline.tokens import DocumentTokenizer
    from datatrove.pipeline.writers import ParquetWriter
    from tokenizers import Tokenizer
    from tokenizers.processors import TemplateProcessing

    filters, pii = datatrove_filters()
    minhash = MinhashConfig(n_grams=MINHASH["n_grams"], num_buckets=MINHASH["bands"], hashes_per_bucket=MINHASH["rows"])
    tokenizer = DocumentTokenizer(
        f"{work}/tokens", tokenizer_name_or_path=llama3_tokenizer_path(), local_working_dir=f"{work}/tokens-tmp"
    )
    bos, eos = "<|begin_of_text|>", "<|end_of_text|>"  # Llama 3 framing, as ours: BOS text EOS
    vocab = Tokenizer.from_file(llama3_tokenizer_path())
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(t, vocab.token_to_id(t)) for t in (bos, eos)]
    )
    main = [
        WarcReader(crawl, glob_pattern="*.warc.gz"),
        # timeout as ours' extract.timeout_s; trafilatura's include_tables defaults to True, as ours
        Trafilatura(favour_precision=True, deduplicate=False, timeout=10.0),
        *filters,
        pii,
        ParquetWriter(f"{work}/filtered", compression="zstd"),
        MinhashDedupSignature(output_folder=f"{work}/sigs", config=minhash),
    ]
    return [
        ("extract_filter_signatures", main, None),
        ("buckets", [MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=minhash)], minhash.num_buckets),
        ("cluster", [MinhashDedupCluster(f"{work}/buckets", f"{work}/remove", config=minhash)], 1),
        (
            "dedup_filter_tokenize",
            [ParquetReader(f"{work}/filtered"), MinhashDedupFilter(f"{work}/remove"), tokenizer],
            None,
        ),
    ]


def step_stat(stats: list[dict], step: str, key: str) -> int:
    """A counter of one step in datatrove's ``stats.json`` (0 when absent)."""
    for entry in stats:
        if step in entry["name"]:
            value = entry["stats"].get(key, 0)
            return int(value["total"] if isinstance(value, dict) else value)
    return 0


def run_datatrove(crawl: str, work: str, workers: int) -> dict:
    from datatrove.executor import LocalPipelineExecutor

    stages = datatrove_pipelines(crawl, work)
    seconds = {}
    with process_tree() as tree, timer() as t:
        for name, pipeline, tasks in stages:
            executor = LocalPipelineExecutor(
                pipeline=pipeline,
                tasks=tasks or workers,
                workers=workers,
                logging_dir=f"{work}/logs/{name}",
                skip_completed=False,
                start_method="fork",
            )
            with timer() as stage:
                executor.run()
            seconds[name] = round(stage["seconds"], 3)
    main_stats = json.loads(Path(f"{work}/logs/extract_filter_signatures/stats.json").read_text())
    last_stats = json.loads(Path(f"{work}/logs/dedup_filter_tokenize/stats.json").read_text())
    return {
        "seconds": t["seconds"],
        "pages_read": step_stat(main_stats, "Warc", "documents"),
        "docs_out": step_stat(last_stats, "MinHash stage 4", "forwarded"),
        "tokens": step_stat(last_stats, "TOKENIZER", "tokens"),
        "process_tree": tree,
        "phase_seconds": seconds,
    }


def child(method: str, crawl: str, work: str, workers: int) -> dict:
    """One measurement in a fresh interpreter, cold (an empty ``CURATION_CACHE``); its JSON report is the
    last stdout line."""
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "CURATION_CACHE": f"{work}-cache"}
    cmd = [sys.executable, __file__, "--worker", method, "--input", crawl, "--work", work, "--workers", str(workers)]
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"{method} with {workers} worker(s) failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarise(r: dict, pages: int, workers: int) -> dict:
    """Throughputs: per core = per wall second / workers; per CPU second = over the tree's CPU time
    (robust to other load on a shared machine)."""
    docs_s, tokens_s = pages / r["seconds"], r["tokens"] / r["seconds"]
    cpu = r["process_tree"]["cpu_seconds"]
    return {
        **r,
        "seconds": round(r["seconds"], 2),
        "cpu_seconds": round(cpu, 2),
        "docs_per_s": round(docs_s, 2),
        "docs_per_s_per_core": round(docs_s / workers, 2),
        "tokens_per_s": round(tokens_s),
        "tokens_per_s_per_core": round(tokens_s / workers),
        "docs_per_cpu_s": round(pages / cpu, 2),
        "tokens_per_cpu_s": round(r["tokens"] / cpu),
        "peak_memory_mib": round(r["process_tree"]["peak_mib"]),
        "largest_process_mib": round(r["process_tree"]["largest_mib"]),
    }


def kept_documents(work: str) -> dict[str, str]:
    """``{id: text}`` of a run's curated documents (``docs/``)."""
    import pyarrow.parquet as pq

    table = pq.read_table(f"{work}/docs", columns=["id", "text"])
    return dict(zip(table.column("id").to_pylist(), table.column("text").to_pylist()))


def extracted_texts(work: str) -> dict[str, str]:
    """``{id: text}`` of every page the run's extract phase kept."""
    import pyarrow.parquet as pq

    out: dict[str, str] = {}
    for path in glob.glob(f"{work}/work/extract/*/part-*.parquet"):
        table = pq.read_table(path, columns=["id", "text"])
        out.update(zip(table.column("id").to_pylist(), table.column("text").to_pylist()))
    return out


def reasons(work: str) -> dict[str, str]:
    """``{id: reason}`` of a run's rejects."""
    import pyarrow.parquet as pq

    table = pq.read_table(f"{work}/rejects", columns=["id", "reason"])
    return dict(zip(table.column("id").to_pylist(), table.column("reason").to_pylist()))


def compare_gates(gated: str, ungated: str) -> dict:
    """The default run's kept documents against the same run with the gates off: shares of ids and
    tokens kept, every difference with its reasons, and whether each page both runs extracted has
    byte-identical text."""
    from curation.common.tokenizer import get_tokenizer

    with_gates, without = kept_documents(gated), kept_documents(ungated)
    texts = {**without, **with_gates}
    encoded = get_tokenizer("llama3", add_bos=False, add_eos=False).encode(list(texts.values()))
    tokens = {i: len(ids) for i, ids in zip(texts, encoded)}
    why_gated, why_ungated = reasons(gated), reasons(ungated)
    lost = sorted(set(without) - set(with_gates))
    gained = sorted(set(with_gates) - set(without))
    ext_gated, ext_ungated = extracted_texts(gated), extracted_texts(ungated)
    both = set(ext_gated) & set(ext_ungated)
    common_kept = set(with_gates) & set(without)
    return {
        "kept_without_gates": len(without),
        "kept_with_gates": len(with_gates),
        "ids_kept_share": round(len(common_kept) / max(len(without), 1), 4),
        "tokens_kept_share": round(sum(tokens[i] for i in common_kept) / max(sum(tokens[i] for i in without), 1), 4),
        "lost": [{"id": i, "tokens": tokens[i], "reason_with_gates": why_gated.get(i)} for i in lost],
        "gained": [{"id": i, "tokens": tokens[i], "reason_without_gates": why_ungated.get(i)} for i in gained],
        "kept_text_identical": all(with_gates[i] == without[i] for i in common_kept),
        "pages_extracted_by_both": len(both),
        "extraction_byte_identical": all(ext_gated[i] == ext_ungated[i] for i in both),
        "extraction_differences": sorted(i for i in both if ext_gated[i] != ext_ungated[i]),
        "gated": {r: n for r, n in sorted(collections.Counter(
            v for v in why_gated.values() if v.startswith("gate.")).items())},
    }


def english_ids(ungated: str) -> set[str]:
    """Pages whose extracted text fastText labels English in the run without gates (kept or rejected
    by any filter after language ID)."""
    import pyarrow.parquet as pq

    ids: set[str] = set()
    for folder in ("docs", "rejects"):
        table = pq.read_table(f"{ungated}/{folder}", columns=["id", "lang"])
        ids |= {i for i, lang in zip(table.column("id").to_pylist(), table.column("lang").to_pylist()) if lang == "en"}
    return ids


ROWS = (
    ("ours_default", "ours (default config)"),
    ("ours_equivalent", "ours (equivalent work)"),
    ("datatrove", "datatrove 0.10"),
    ("english_ours_default", "English subset: ours (default config)"),
    ("english_datatrove", "English subset: datatrove 0.10"),
)


def markdown_table(results: dict, workers: list[int], crawl: dict, english: dict) -> str:
    m = machine()
    head = (
        f"End to end, both cold, on {crawl['pages']} crawl pages ({crawl['compressed_mb']} MB WARC; English subset "
        f"{english['pages']} pages), {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB:\n\n"
        "| pipeline | workers | docs/s per core | tokens/s per core | ours / datatrove per core "
        "| docs per CPU-second (ratio) | peak memory |\n"
        "|---|---|---|---|---|---|---|"
    )
    rows = []
    for w in workers:
        for name, label in ROWS:
            base = results[f"{'english_' if name.startswith('english_') else ''}datatrove_{w}w"]
            r = results[f"{name}_{w}w"]
            ratio = r["docs_per_s_per_core"] / base["docs_per_s_per_core"]
            cpu_ratio = r["docs_per_cpu_s"] / base["docs_per_cpu_s"]
            rows.append(
                f"| {label} | {w} | {r['docs_per_s_per_core']:.1f} | {r['tokens_per_s_per_core']:,} | "
                f"{ratio:.2f}x | {r['docs_per_cpu_s']:.1f} ({cpu_ratio:.2f}x) | {r['peak_memory_mib']:,} MiB |"
            )
    return "\n".join([head, *rows])


def measure(results: dict, jobs: list[tuple[str, str, Path, Path, int, int]], repeat: int) -> None:
    """Run every job ``(key, method, crawl, work, workers, pages)`` ``repeat`` times, in rounds (each round
    runs every job once, so ours and datatrove share whatever load the machine had then), and keep for
    each key the run of median wall time, with every run's seconds beside it. Round 0's run folders are
    kept (the gates comparison reads them); the others are removed."""
    runs: dict[str, list[dict]] = collections.defaultdict(list)
    for round_ in range(repeat):
        for key, method, crawl_dir, work, workers, pages in jobs:
            folder = work if round_ == 0 else work.with_name(f"{work.name}-r{round_}")
            r = summarise(child(method, str(crawl_dir), str(folder), workers), pages, workers)
            if round_:
                shutil.rmtree(folder, ignore_errors=True)
                shutil.rmtree(f"{folder}-cache", ignore_errors=True)
            runs[key].append(r)
            report(f"{key} ({round_ + 1}/{repeat})", r)
    for key, measured in runs.items():
        median = sorted(measured, key=lambda r: r["seconds"])[len(measured) // 2]
        results[key] = {**median, "seconds_of_each_run": [r["seconds"] for r in measured],
                        "cpu_seconds_of_each_run": [r["cpu_seconds"] for r in measured]}


def report(label: str, r: dict) -> None:
    print(
        f"{label:32s} {r['seconds']:7.1f} s ({r['cpu_seconds']:6.1f} CPU-s)  "
        f"{r['docs_per_s_per_core']:7.2f} docs/s/core  {r['tokens_per_s_per_core']:8,} tokens/s/core  "
        f"{r['docs_per_cpu_s']:7.2f} docs/CPU-s  peak {r['peak_memory_mib']:,} MiB  "
        f"(read {r['pages_read']}, kept {r['docs_out']} docs, {r['tokens']:,} tokens); CPU-s by process: "
        + ", ".join(f"{k} {v:.1f}" for k, v in r["process_tree"]["cpu_seconds_by_kind"].items())
        + (f"; outside phases {r['outside_phases_seconds']:.1f} s" if "outside_phases_seconds" in r else ""),
        flush=True,
    )


def ratio_of(ours: dict, base: dict) -> dict:
    return {
        "docs_per_core": round(ours["docs_per_s_per_core"] / base["docs_per_s_per_core"], 2),
        "tokens_per_core": round(ours["tokens_per_s_per_core"] / base["tokens_per_s_per_core"], 2),
        "docs_per_cpu_s": round(ours["docs_per_cpu_s"] / base["docs_per_cpu_s"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Ray workers / datatrove tasks")
    parser.add_argument("--small", action="store_true", help="120 pages in 4 files (a couple of minutes)")
    parser.add_argument("--limit-pages", type=int, help="use this many pages, spread over the crawl")
    parser.add_argument("--files", type=int, default=8, help="WARC files the pages are split into")
    parser.add_argument("--docs", type=int, default=2000, help="sample-crawl size when ../shared/data is absent")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each measurement, in rounds; the run of median wall time is reported")
    parser.add_argument("--worker", choices=["ours_default", "ours_equivalent", "ours_nogates", "ours_allray",
                                             "datatrove"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        w = args.workers[0]
        if args.worker == "datatrove":
            report = run_datatrove(args.input, args.work, w)
        else:
            report = run_ours(args.input, args.work, w, args.worker.removeprefix("ours_"))
        print(json.dumps({**report, "driver_peak_rss_mib": round(peak_rss_mib())}))
        return

    compile_ours()
    limit = args.limit_pages or (120 if args.small else None)
    files = 4 if args.small and args.files == 8 else args.files
    load = os.getloadavg()
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp_name:
        tmp = Path(tmp_name)
        sources = crawl_sources(tmp, args.docs)
        crawl = write_crawl(sources, tmp / "crawl", files, limit)
        print(
            f"crawl: {crawl['pages']} pages in {crawl['files']} WARC files ({crawl['compressed_mb']} MB) "
            f"from {', '.join(crawl['sources'])}; load average {load[0]:.1f}",
            flush=True,
        )
        measure(results, [(f"{method}_{w}w", method, tmp / "crawl", tmp / f"{method}-{w}", w, crawl["pages"])
                          for w in args.workers for method in ("ours_default", "ours_equivalent", "datatrove")],
                args.repeat)
        measure(results, [("ours_nogates_1w", "ours_nogates", tmp / "crawl", tmp / "nogates", 1, crawl["pages"])], 1)
        first = min(args.workers)
        gates = compare_gates(str(tmp / f"ours_default-{first}"), str(tmp / "nogates"))
        english = write_crawl(sources, tmp / "english", files, limit, ids=english_ids(str(tmp / "nogates")))
        print(f"English subset: {english['pages']} pages", flush=True)
        measure(results, [(f"english_{method}_{w}w", method, tmp / "english", tmp / f"english-{method}-{w}", w,
                           english["pages"]) for w in args.workers for method in ("ours_default", "datatrove")],
                args.repeat)

    ratios = {}
    for w in args.workers:
        for variant in ("default", "equivalent"):
            ratios[f"{variant}_{w}w"] = ratio_of(results[f"ours_{variant}_{w}w"], results[f"datatrove_{w}w"])
        ratios[f"english_default_{w}w"] = ratio_of(results[f"english_ours_default_{w}w"],
                                                   results[f"english_datatrove_{w}w"])
    scaling = {}
    if 1 in args.workers and 2 in args.workers:
        for name in ("ours_default", "ours_equivalent", "datatrove"):
            scaling[name] = round(results[f"{name}_2w"]["docs_per_s"] / results[f"{name}_1w"]["docs_per_s"], 2)

    print("\nours / datatrove: documents per core, tokens per core, documents per CPU-second")
    for key, r in ratios.items():
        goal = GOAL_ENGLISH_RATIO if key.startswith("english") else GOAL_PER_CORE_RATIO
        verdict = "met" if r["docs_per_core"] >= goal else "NOT met"
        print(
            f"  {key:20s} {r['docs_per_core']:.2f}x  {r['tokens_per_core']:.2f}x  {r['docs_per_cpu_s']:.2f}x  "
            f"(goal >= {goal}x per core: {verdict})"
        )
    if scaling:
        print("scaling 1 -> 2 workers (documents/s): " + ", ".join(f"{k} {v:.2f}x" for k, v in scaling.items()))
    print(
        f"gates: kept {gates['kept_with_gates']} documents vs {gates['kept_without_gates']} without; "
        f"{gates['ids_kept_share']:.2%} of ids, {gates['tokens_kept_share']:.2%} of tokens; "
        f"extraction byte-identical on {gates['pages_extracted_by_both']} pages: {gates['extraction_byte_identical']}; "
        f"gated {gates['gated']}; ours without gates {results['ours_nogates_1w']['docs_per_s_per_core']:.1f} docs/s"
    )
    for d in gates["lost"] + gates["gained"]:
        print(f"  difference: {d}")
    print("equivalent-work overrides for ours: " + " ".join(EQUIVALENT))
    print("still different:\n" + "\n".join(f"  - {d}" for d in STILL_DIFFERENT))
    table = markdown_table(results, args.workers, crawl, english)
    print("\n" + table + "\n")
    name = "end_to_end-small" if args.small else "end_to_end"
    path = save(
        name,
        {
            "crawl": crawl,
            "english_subset": english,
            "cold": "clock covers the driver's warm-up and its forked workers' start (2 workers; 1 worker runs "
                    "in-process; runtime.executor auto) and what they load; UT1 blocklist parsed (empty "
                    "CURATION_CACHE)",
            "load_average_at_start": load,
            "repeat": args.repeat,
            "results": results,
            "ratios": ratios,
            "goals": {"docs_per_core": GOAL_PER_CORE_RATIO, "english_docs_per_core": GOAL_ENGLISH_RATIO},
            "scaling_1_to_2_workers": scaling,
            "gates": gates,
            "equivalent_overrides": EQUIVALENT,
            "still_different": STILL_DIFFERENT,
            "markdown": table,
        },
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()

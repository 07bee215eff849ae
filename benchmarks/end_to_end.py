"""The whole pipeline on a real crawl against an equivalent datatrove pipeline, same pages, same run.

Input: the response records of ``../shared/data/crawl/*.warc.gz`` (a generated sample crawl when
absent), copied byte for byte into ``--files`` WARC files so that both systems see the same pages
and can split them over their workers (datatrove parallelises over files). Each measurement runs in
its own interpreter; Ray start-up, datatrove's import and the copy are outside the timings.

- ours, ``default``: ``run_pipeline`` with the default config (extract -> filters -> dedup -> tokenize
  + pack), on an already initialised Ray with ``runtime.workers`` = W;
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
load on a shared machine does not inflate. Tokenizers' own thread pool is off for both
(TOKENIZERS_PARALLELISM=false) so that W workers use W cores. Peak memory: the largest summed RSS of
that process tree, sampled every 0.25 s.

    python benchmarks/end_to_end.py [--small] [--workers 1 2] [--limit-pages N] [--files K]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil
from common import SHARED_DATA, machine, peak_rss_mib, save, timer

GOAL_PER_CORE_RATIO = 1.5
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


def response_records(paths: list[Path]) -> list[tuple[Path, int, int]]:
    """``(file, offset, length)`` of every response record (each its own gzip member)."""
    from warcio.archiveiterator import ArchiveIterator

    records = []
    for path in paths:
        with path.open("rb") as f:
            it = ArchiveIterator(f)
            for record in it:
                if record.rec_type == "response":
                    record.content_stream().read()
                    records.append((path, it.get_record_offset(), it.get_record_length()))
    return records


def write_crawl(paths: list[Path], out_dir: Path, files: int, limit: int | None) -> dict:
    """Copy (up to ``limit``, evenly spread) response records into ``files`` contiguous WARC files."""
    records = response_records(paths)
    if limit and limit < len(records):
        records = [records[i * len(records) // limit] for i in range(limit)]
    files = min(files, len(records))
    out_dir.mkdir(parents=True)
    handles: dict[Path, object] = {}
    size = 0
    for k in range(files):
        with (out_dir / f"crawl-{k:03d}.warc.gz").open("wb") as out:
            for path, offset, length in records[k * len(records) // files : (k + 1) * len(records) // files]:
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


@contextmanager
def process_tree(interval: float = 0.25):
    """Yields a dict kept up to date by a sampling thread over this process and its descendants:
    ``peak_mib`` (largest summed RSS), ``largest_mib`` (biggest single process) and, at the end,
    ``cpu_seconds`` (user + system time they spent inside the block, as last seen per process)."""
    out = {"peak_mib": 0.0, "largest_mib": 0.0, "cpu_seconds": 0.0}
    me = psutil.Process()
    cpu: dict[tuple[int, float], float] = {}

    def sample() -> None:
        rss = []
        for proc in [me, *me.children(recursive=True)]:
            try:
                with proc.oneshot():
                    rss.append(proc.memory_info().rss / 2**20)
                    times = proc.cpu_times()
                    cpu[(proc.pid, proc.create_time())] = times.user + times.system
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
        out["cpu_seconds"] = sum(v - before.get(k, 0.0) for k, v in cpu.items())


def run_ours(crawl: str, work: str, workers: int, variant: str) -> dict:
    import logging

    import ray

    from curation.config import parse_config
    from curation.pipeline import run_pipeline

    paths = sorted(str(p) for p in Path(crawl).glob("*.warc.gz"))
    config = parse_config(
        {"input": {"paths": paths}, "runtime": {"workers": workers, "progress": False}, "output": {"dir": work}},
        EQUIVALENT if variant == "equivalent" else [],
    )
    ray.init(num_cpus=workers, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)

    @ray.remote
    def ready() -> None:
        return None

    ray.get([ready.remote() for _ in range(workers)])  # workers up before the clock starts
    try:
        with process_tree() as tree, timer() as t:
            manifest = run_pipeline(config, work)
    finally:
        ray.shutdown()
    phases = {p["name"]: p for p in manifest["phases"]}
    counts = manifest["outputs"]["shards"]["counts"]
    return {
        "seconds": t["seconds"],
        "pages_read": phases["extract"]["in"],
        "docs_out": counts["docs"],
        "tokens": counts["tokens"],
        "process_tree": tree,
        "phase_seconds": {name: p["wall_seconds"] for name, p in phases.items()},
    }


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
    """One measurement in a fresh interpreter; its JSON report is the last stdout line."""
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
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


def markdown_table(results: dict, workers: list[int], crawl: dict) -> str:
    m = machine()
    head = (
        f"End to end on {crawl['pages']} crawl pages ({crawl['compressed_mb']} MB WARC), "
        f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB:\n\n"
        "| pipeline | workers | docs/s per core | tokens/s per core | ours / datatrove per core "
        "| docs per CPU-second (ratio) | peak memory |\n"
        "|---|---|---|---|---|---|---|"
    )
    rows = []
    for w in workers:
        base = results[f"datatrove_{w}w"]
        for name, label in (
            ("ours_default", "ours (default config)"),
            ("ours_equivalent", "ours (equivalent work)"),
            ("datatrove", "datatrove 0.10"),
        ):
            r = results[f"{name}_{w}w"]
            ratio = r["docs_per_s_per_core"] / base["docs_per_s_per_core"]
            cpu_ratio = r["docs_per_cpu_s"] / base["docs_per_cpu_s"]
            rows.append(
                f"| {label} | {w} | {r['docs_per_s_per_core']:.1f} | {r['tokens_per_s_per_core']:,} | "
                f"{ratio:.2f}x | {r['docs_per_cpu_s']:.1f} ({cpu_ratio:.2f}x) | {r['peak_memory_mib']:,} MiB |"
            )
    return "\n".join([head, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Ray workers / datatrove tasks")
    parser.add_argument("--small", action="store_true", help="120 pages in 4 files (a couple of minutes)")
    parser.add_argument("--limit-pages", type=int, help="use this many pages, spread over the crawl")
    parser.add_argument("--files", type=int, default=8, help="WARC files the pages are split into")
    parser.add_argument("--docs", type=int, default=2000, help="sample-crawl size when ../shared/data is absent")
    parser.add_argument("--worker", choices=["ours_default", "ours_equivalent", "datatrove"], help=argparse.SUPPRESS)
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

    limit = args.limit_pages or (120 if args.small else None)
    files = 4 if args.small and args.files == 8 else args.files
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        crawl = write_crawl(crawl_sources(Path(tmp), args.docs), Path(tmp) / "crawl", files, limit)
        print(
            f"crawl: {crawl['pages']} pages in {crawl['files']} WARC files ({crawl['compressed_mb']} MB) "
            f"from {', '.join(crawl['sources'])}; load average {load[0]:.1f}"
        )
        results = {}
        for w in args.workers:
            for method in ("ours_default", "ours_equivalent", "datatrove"):
                r = child(method, str(Path(tmp) / "crawl"), str(Path(tmp) / f"{method}-{w}"), w)
                results[f"{method}_{w}w"] = r = summarise(r, crawl["pages"], w)
                print(
                    f"{method:16s} {w} worker(s): {r['seconds']:7.1f} s ({r['cpu_seconds']:6.1f} CPU-s)  "
                    f"{r['docs_per_s_per_core']:7.2f} docs/s/core  {r['tokens_per_s_per_core']:8,} tokens/s/core  "
                    f"{r['docs_per_cpu_s']:7.2f} docs/CPU-s  peak {r['peak_memory_mib']:,} MiB  "
                    f"(read {r['pages_read']}, kept {r['docs_out']} docs, {r['tokens']:,} tokens)"
                )

    ratios = {}
    for w in args.workers:
        base = results[f"datatrove_{w}w"]
        for variant in ("default", "equivalent"):
            ours = results[f"ours_{variant}_{w}w"]
            ratios[f"{variant}_{w}w"] = {
                "docs_per_core": round(ours["docs_per_s_per_core"] / base["docs_per_s_per_core"], 2),
                "tokens_per_core": round(ours["tokens_per_s_per_core"] / base["tokens_per_s_per_core"], 2),
                "docs_per_cpu_s": round(ours["docs_per_cpu_s"] / base["docs_per_cpu_s"], 2),
            }
    scaling = {}
    if 1 in args.workers and 2 in args.workers:
        for name in ("ours_default", "ours_equivalent", "datatrove"):
            scaling[name] = round(results[f"{name}_2w"]["docs_per_s"] / results[f"{name}_1w"]["docs_per_s"], 2)

    print("\nours / datatrove: documents per core, tokens per core, documents per CPU-second")
    for key, r in ratios.items():
        verdict = "met" if r["docs_per_core"] >= GOAL_PER_CORE_RATIO else "NOT met"
        print(
            f"  {key:14s} {r['docs_per_core']:.2f}x  {r['tokens_per_core']:.2f}x  {r['docs_per_cpu_s']:.2f}x  "
            f"(goal >= {GOAL_PER_CORE_RATIO}x per core: {verdict})"
        )
    if scaling:
        print("scaling 1 -> 2 workers (documents/s): " + ", ".join(f"{k} {v:.2f}x" for k, v in scaling.items()))
    print("equivalent-work overrides for ours: " + " ".join(EQUIVALENT))
    print("still different:\n" + "\n".join(f"  - {d}" for d in STILL_DIFFERENT))
    table = markdown_table(results, args.workers, crawl)
    print("\n" + table + "\n")
    name = "end_to_end-small" if args.small else "end_to_end"
    path = save(
        name,
        {
            "crawl": crawl,
            "load_average_at_start": load,
            "results": results,
            "ratios": ratios,
            "scaling_1_to_2_workers": scaling,
            "equivalent_overrides": EQUIVALENT,
            "still_different": STILL_DIFFERENT,
            "markdown": table,
        },
    )
    print(f"saved {path}")


if __name__ == "__main__":
    main()

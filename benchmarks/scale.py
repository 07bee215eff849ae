"""Scale: files, bytes and seconds as tasks grow; driver memory and time as documents grow.

``tasks`` (default): the 1,217 real pages of ``../shared/data/crawl/bench-pages.warc.gz`` (33.7 MB)
as 1, 32, 256 and 1,024 tasks (the largest ``input.split_bytes`` planning that many), the whole
default pipeline on an embedded local Ray. Per run: wall seconds, files and bytes under ``DIR/work/``
(per phase and in all), the overhead per extra task against the 1-task run of the same invocation,
and the 1-minute load average before and after the run (the machine is shared; wall time grows
with its load). Goals (issue 11):
files per phase <= 2 x tasks + a constant, work bytes <= 3x input, overhead <= 0.25 s per extra
task (all phases together).

``docs``: 100,000 and 1,000,000 short generated documents (sentences of the shared Wikipedia
texts, ~70 words each, 2% exact and 2% near copies) through filters + dedup + pack. The driver runs
in its own process and reports its own peak RSS (Ray's workers are other processes). Goals: driver
peak RSS at 1M within 1.2x of 100k, time at 1M at most 11x the 100k time.

    python benchmarks/scale.py tasks [--tasks 1 32 256 1024] [--workers 2]
    python benchmarks/scale.py docs [--docs 100000 1000000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, SHARED_DATA, save

CRAWL = SHARED_DATA / "crawl" / "bench-pages.warc.gz"
TEXTS = [SHARED_DATA / "text" / "wikipedia-211.jsonl", SHARED_DATA / "text" / "wikitext2-valid-test.jsonl"]
CONFIG = ROOT / "configs" / "quickstart.yaml"
GOAL_FILES_PER_TASK = 2
GOAL_BYTES_RATIO = 3.0
GOAL_OVERHEAD_S = 0.25
GOAL_RSS_RATIO = 1.2
GOAL_TIME_RATIO = 11.0
DOCS_SPLIT_BYTES = 16 * 1024 * 1024
"""Input tasks of the documents sweep: 16 MiB of JSONL each (~40k short documents)."""


def driver(config: str, out: str, overrides: list[str]) -> None:
    """Run the pipeline in this process; print its wall seconds and this process's peak RSS."""
    from curation.config import load_config
    from curation.pipeline import run_pipeline

    start = time.perf_counter()
    manifest = run_pipeline(load_config(config, overrides), out)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "driver_peak_rss_mib": peak, "phases": manifest["phases"]}))


def run_driver(inputs: Path, out: Path, workers: int, overrides: list[str]) -> dict:
    cmd = [sys.executable, __file__, "driver", "--config", str(CONFIG), "--out", str(out),
           "--set", f"input.paths=[{inputs}]", f"runtime.workers={workers}", "runtime.progress=false", *overrides]  # fmt: skip
    before = os.getloadavg()[0]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    load = [round(before, 2), round(os.getloadavg()[0], 2)]
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "load_1m": load}


def work_usage(work: Path) -> dict[str, dict[str, int]]:
    """Files and bytes per phase (``work/<phase>/``)."""
    out: dict[str, dict[str, int]] = {}
    for phase in sorted(p for p in work.iterdir() if p.is_dir()):
        files = [p for p in phase.rglob("*") if p.is_file()]
        out[phase.name] = {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}
    return out


def split_for(tasks: int) -> int:
    """The largest ``input.split_bytes`` that plans at least ``tasks`` tasks (splits end at record bounds)."""
    from curation.config import parse_config
    from curation.io.planning import plan_input_tasks

    def planned(split: int) -> int:
        return len(plan_input_tasks(parse_config({"input": {"paths": [str(CRAWL)], "split_bytes": split}}).input))

    lo, hi = 1, CRAWL.stat().st_size + 1  # planned(lo) >= tasks > planned(hi), unless tasks is out of reach
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if planned(mid) >= tasks else (lo, mid)
    return lo


def tasks_run(tasks: int, workers: int, folder: Path) -> dict:
    size = CRAWL.stat().st_size
    out = folder / f"run-{tasks}"
    r = run_driver(CRAWL, out, workers, [f"input.split_bytes={split_for(tasks)}"])
    phases = work_usage(out / "work")
    for p in r["phases"]:
        phases.setdefault(p["name"], {"files": 0, "bytes": 0}).update(tasks=p["tasks"], seconds=p["wall_seconds"])
    over = {k: v["files"] - GOAL_FILES_PER_TASK * v.get("tasks", 0) for k, v in phases.items()}
    worst = max(over, key=over.get)
    total = sum(p["bytes"] for p in phases.values())
    return {
        "tasks": phases["extract"]["tasks"],
        "seconds": round(r["seconds"], 2),
        "load_1m": r["load_1m"],
        "driver_peak_rss_mib": round(r["driver_peak_rss_mib"], 1),
        "work_files": sum(p["files"] for p in phases.values()),
        "work_bytes": total,
        "work_bytes_ratio": round(total / size, 3),
        "worst_phase": worst,
        "worst_phase_files": phases[worst]["files"],
        "worst_phase_files_minus_2_tasks": over[worst],
        "phases": phases,
        "docs_out": r["phases"][-1]["out"],
    }


def sweep_tasks(args: argparse.Namespace, folder: Path) -> dict:
    size = CRAWL.stat().st_size
    print(f"input: {CRAWL.name}, {size / 1e6:.1f} MB")
    runs = []
    for tasks in args.tasks:
        r = tasks_run(tasks, args.workers, folder)
        if runs:
            extra = max(r["tasks"] - runs[0]["tasks"], 1)
            r["overhead_per_extra_task_s"] = round((r["seconds"] - runs[0]["seconds"]) / extra, 4)
        runs.append(r)
        print(f"{r['tasks']:>5} tasks {r['seconds']:>8.1f} s {r['work_files']:>7} files "
              f"{r['work_bytes'] / 1e6:>7.1f} MB ({r['work_bytes_ratio']:.2f}x input); most files vs 2 x tasks: "
              f"{r['worst_phase']} {r['worst_phase_files']} ({r['worst_phase_files_minus_2_tasks']:+d}); "
              f"overhead/extra task {r.get('overhead_per_extra_task_s', 0):.3f} s; load {r['load_1m']}")  # fmt: skip
    goals = {
        "max_files_over_2_tasks_per_phase": max(r["worst_phase_files_minus_2_tasks"] for r in runs),
        "max_work_bytes_ratio": max(r["work_bytes_ratio"] for r in runs),
        "max_overhead_per_extra_task_s": max(r.get("overhead_per_extra_task_s", 0) for r in runs),
        "goal_work_bytes_ratio": GOAL_BYTES_RATIO,
        "goal_overhead_per_extra_task_s": GOAL_OVERHEAD_S,
    }
    return {"input": CRAWL.name, "input_bytes": size, "workers": args.workers, "runs": runs, "goals": goals}


def sentences() -> list[str]:
    out = []
    for path in TEXTS:
        for line in path.read_text().splitlines():
            for s in re.split(r"(?<=[.!?])\s+", json.loads(line)["text"]):
                if 8 <= len(s.split()) <= 40 and not re.search(r"[{}\[\]|=<>]", s):
                    out.append(s.strip())
    return out


def write_docs(path: Path, n: int, seed: int = 0) -> None:
    """``n`` short documents of ~70 words from real sentences; 2% exact and 2% near copies of earlier ones."""
    rng = random.Random(seed)
    pool = sentences()
    texts: list[str] = []
    with path.open("w") as f:
        for i in range(n):
            roll = rng.random()
            if texts and roll < 0.02:
                text = rng.choice(texts)
            elif texts and roll < 0.04:
                words = rng.choice(texts).split()
                words[rng.randrange(len(words))] = rng.choice(pool).split()[0]
                text = " ".join(words)
            else:
                picked: list[str] = []
                while sum(len(s.split()) for s in picked) < 70:
                    picked.append(rng.choice(pool))
                text = " ".join(picked)
            if len(texts) < 10_000:
                texts.append(text)
            f.write(json.dumps({"id": f"d{i:08d}", "text": text, "url": f"https://gen.example/{i}"}) + "\n")


def sweep_docs(args: argparse.Namespace, folder: Path) -> dict:
    runs = []
    for n in args.docs:
        corpus = folder / f"docs-{n}.jsonl"
        write_docs(corpus, n)
        r = run_driver(corpus, folder / f"docs-run-{n}", args.workers,
                       [f"input.split_bytes={DOCS_SPLIT_BYTES}"])
        run = {"docs": n, "input_bytes": corpus.stat().st_size, "seconds": round(r["seconds"], 2), "load_1m": r["load_1m"],
               "driver_peak_rss_mib": round(r["driver_peak_rss_mib"], 1),
               "phases": {p["name"]: {"tasks": p["tasks"], "out": p["out"], "seconds": p["wall_seconds"]}
                          for p in r["phases"]}}  # fmt: skip
        runs.append(run)
        print(f"{n:>9} docs {run['seconds']:>8.1f} s  driver peak RSS {run['driver_peak_rss_mib']:.0f} MiB")
        corpus.unlink()
    ratios = {}
    if len(runs) > 1:
        ratios = {
            "docs_ratio": runs[-1]["docs"] / runs[0]["docs"],
            "time_ratio": round(runs[-1]["seconds"] / runs[0]["seconds"], 3),
            "driver_rss_ratio": round(runs[-1]["driver_peak_rss_mib"] / runs[0]["driver_peak_rss_mib"], 3),
            "goal_time_ratio": GOAL_TIME_RATIO,
            "goal_driver_rss_ratio": GOAL_RSS_RATIO,
        }
        print(json.dumps(ratios))
    return {"workers": args.workers, "runs": runs, "ratios": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    t = sub.add_parser("tasks")
    t.add_argument("--tasks", type=int, nargs="+", default=[1, 32, 256, 1024])
    d = sub.add_parser("docs")
    d.add_argument("--docs", type=int, nargs="+", default=[100_000, 1_000_000])
    for p in (t, d):
        p.add_argument("--workers", type=int, default=2)
        p.add_argument("--json", default=None, help="results name under benchmarks/results/ (default: scale_<mode>)")
    w = sub.add_parser("driver")
    w.add_argument("--config", required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--set", nargs="*", default=[])
    args = parser.parse_args()
    if args.mode == "driver":
        driver(args.config, args.out, args.set)
        return
    if not SHARED_DATA.exists():
        print(f"skipped: {SHARED_DATA} is absent")
        return
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        result = (sweep_tasks if args.mode == "tasks" else sweep_docs)(args, Path(tmp))
    print(f"saved {save(args.json or f'scale_{args.mode}', result)}")


if __name__ == "__main__":
    main()

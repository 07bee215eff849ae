"""Scale: the same documents as 1, 32, 256 and 1,024 tasks; files, bytes and seconds of DIR/work/.

Real text (the Wikipedia and WikiText articles of ``../shared/data/text``, cut into paragraphs of
about 2,500 characters, each a document with its own URL) is written once as one JSONL; each run
splits it into N tasks with ``input.split_bytes`` and runs ``curate run`` (filters, dedup, pack on
an embedded local Ray) in a fresh process. Reported per run: wall seconds, files and bytes under
``DIR/work/`` (total and the largest phase), and the overhead per extra task against the 1-task
run measured in the same invocation. Goals (issue 11): files per phase <= 2 x tasks + a constant,
work bytes <= 3x input, overhead <= 0.25 s per extra task (all phases together).

    python benchmarks/scale.py [--tasks 1 32 256 1024] [--workers 2] [--json NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SHARED_DATA, save

TEXTS = ["wikipedia-211.jsonl", "wikitext2-valid-test.jsonl"]
DOC_CHARS = 2500
GOAL_FILES_PER_TASK = 2
GOAL_BYTES_RATIO = 3.0
GOAL_OVERHEAD_S = 0.25


def write_corpus(out: Path) -> int:
    """Cut the shared articles into ~DOC_CHARS paragraphs of real text; return the document count."""
    n = 0
    with out.open("w") as f:
        for name in TEXTS:
            for line in (SHARED_DATA / "text" / name).read_text().splitlines():
                article = json.loads(line)
                chunk: list[str] = []
                for para in article["text"].split("\n"):
                    chunk.append(para)
                    if sum(map(len, chunk)) >= DOC_CHARS:
                        doc = {"id": f"{article['id']}-{n}", "text": "\n".join(chunk), "url": f"https://w.example/{n}"}
                        f.write(json.dumps(doc) + "\n")
                        n, chunk = n + 1, []
    return n


def work_usage(work: Path) -> dict[str, dict[str, int]]:
    """Files and bytes per phase (``work/<phase>/``)."""
    out: dict[str, dict[str, int]] = {}
    for phase in sorted(p for p in work.iterdir() if p.is_dir()):
        files = [p for p in phase.rglob("*") if p.is_file()]
        out[phase.name] = {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}
    return out


def run_once(corpus: Path, tasks: int, workers: int, folder: Path) -> dict:
    size = corpus.stat().st_size
    out = folder / f"run-{tasks}"
    cmd = [
        sys.executable, "-m", "curation.cli", "run", str(Path(__file__).resolve().parents[1] / "configs/quickstart.yaml"),
        "--input", str(corpus), "--output", str(out), "--workers", str(workers),
        "--set", f"input.split_bytes={-(-size // tasks)}", "--set", "runtime.progress=false",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    seconds = time.perf_counter() - start
    manifest = json.loads((out / "manifest.json").read_text())
    phases = work_usage(out / "work")
    task_counts = {p["name"]: p["tasks"] for p in manifest["phases"]}
    worst = max(phases, key=lambda k: phases[k]["files"] - GOAL_FILES_PER_TASK * task_counts.get(k, 0))
    return {
        "tasks_requested": tasks,
        "tasks": task_counts.get("extract", 0),
        "seconds": round(seconds, 2),
        "work_files": sum(p["files"] for p in phases.values()),
        "work_bytes": sum(p["bytes"] for p in phases.values()),
        "work_bytes_ratio": round(sum(p["bytes"] for p in phases.values()) / size, 3),
        "max_phase_files": phases[worst]["files"],
        "max_phase_files_name": worst,
        "max_phase_files_minus_2_tasks": phases[worst]["files"] - GOAL_FILES_PER_TASK * task_counts.get(worst, 0),
        "phases": phases,
        "docs_out": manifest["phases"][-1]["out"] if manifest["phases"] else 0,
        "shards": manifest.get("outputs", {}).get("shards"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[1, 32, 256, 1024])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default="scale", help="results name under benchmarks/results/")
    args = parser.parse_args()
    if not (SHARED_DATA / "text").exists():
        print(f"skipped: {SHARED_DATA / 'text'} is absent")
        return
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        folder = Path(tmp)
        corpus = folder / "corpus.jsonl"
        docs = write_corpus(corpus)
        size = corpus.stat().st_size
        print(f"corpus: {docs} documents, {size / 1e6:.1f} MB")
        runs = []
        for tasks in args.tasks:
            r = run_once(corpus, tasks, args.workers, folder)
            runs.append(r)
            print(
                f"{r['tasks']:>5} tasks  {r['seconds']:>8.1f} s  {r['work_files']:>8} files  "
                f"{r['work_bytes'] / 1e6:>8.1f} MB ({r['work_bytes_ratio']:.2f}x input)  "
                f"worst phase {r['max_phase_files_name']}: {r['max_phase_files']} files"
            )
    base = runs[0]
    for r in runs[1:]:
        extra = max(r["tasks"] - base["tasks"], 1)
        r["overhead_per_extra_task_s"] = round((r["seconds"] - base["seconds"]) / extra, 4)
        print(f"{r['tasks']:>5} tasks: overhead {r['overhead_per_extra_task_s']:.3f} s per extra task")
    goals = {
        "files_per_phase_le_2_tasks_plus_constant": max(r["max_phase_files_minus_2_tasks"] for r in runs),
        "max_work_bytes_ratio": max(r["work_bytes_ratio"] for r in runs),
        "max_overhead_per_extra_task_s": max((r.get("overhead_per_extra_task_s", 0) for r in runs), default=0),
        "goal_bytes_ratio": GOAL_BYTES_RATIO,
        "goal_overhead_s": GOAL_OVERHEAD_S,
    }
    print(json.dumps(goals))
    path = save(args.json, {"corpus_docs": docs, "corpus_bytes": size, "workers": args.workers, "runs": runs, "goals": goals})
    print(f"saved {path}")


if __name__ == "__main__":
    main()

"""MinHash dedup throughput: ours end to end vs datatrove's four MinHash stages, same documents, same run.

The corpus (real text windows plus near-duplicates, see ``dedup_quality.py``) is written once as
parquet parts. Each method then runs in its own subprocess on one worker, which reports its wall
time and its own peak RSS:
- ours: ``curation.dedup.minhash.run`` (signatures, buckets, verification, components, apply),
  reading the parquet parts and writing the kept parts, in-process executor;
- datatrove 0.10: MinhashDedupSignature, MinhashDedupBuckets (14 tasks), MinhashDedupCluster,
  MinhashDedupFilter with its default 14x8 config, on the same texts already in memory.

Then which documents each side put in a duplicate cluster and which it removed: the overlap of
the two sets (clusters can agree while the kept member differs: we keep the best-ranked, datatrove
the first). 20,000 documents by default: datatrove takes minutes per 10,000 documents on this
machine, and both sides run in the same invocation. Saves ``benchmarks/results/dedup_speed.json``.

    python benchmarks/dedup_speed.py [--small] [--docs N] [--skip-datatrove]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from dedup_quality import datatrove_labels, datatrove_stages, make_corpus, write_parts

from benchmarks.common import save
from curation.io import fs

GOAL_SPEEDUP = 5.0
MEMORY_BUDGET_GB = 4.0


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # ru_maxrss is in KiB on Linux


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: what a busy neighbour disturbs least."""
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def run_ours(input_dir: str, work_dir: str) -> dict:
    from curation.config import parse_config
    from curation.dedup import minhash
    from curation.runtime import executor
    from curation.runtime.context import RunContext

    executor.configure(use_ray=False, max_in_flight=1, progress=False)
    parts = fs.listdir(input_dir, ".parquet")
    cfg = parse_config({})
    ctx = RunContext(cfg, work_dir)
    start = time.perf_counter()
    kept = minhash.run(ctx, parts, cfg.dedup.minhash)
    seconds = time.perf_counter() - start
    removed = sum(p.rejected.get("dedup.minhash", 0) for p in ctx.phases)
    phases = {p.name: round(p.wall_seconds, 2) for p in ctx.phases}
    clusters = minhash.read_clusters(next(p for p in ctx.phases if p.name == "dedup.minhash.clusters").work_dir)
    ids = clusters.column("id").to_pylist()
    kept_flags = clusters.column("kept").to_pylist()
    return {"seconds": seconds, "removed": removed, "kept_parts": len(kept), "phases": phases,
            "clustered_ids": sorted(ids), "removed_ids": sorted(i for i, k in zip(ids, kept_flags) if not k)}


def run_datatrove(input_dir: str, work_dir: str) -> dict:
    texts, ids = [], []
    for path in fs.listdir(input_dir, ".parquet"):
        table = fs.read_parquet(path, columns=["id", "text"])
        texts += table.column("text").to_pylist()
        ids += table.column("id").to_pylist()
    result = datatrove_stages(texts, work_dir)
    removals = Path(work_dir) / "remove" / "000000.remove"  # one uint32 per removed document, in reading order
    removed = np.frombuffer(removals.read_bytes(), dtype="<u4") if removals.exists() else np.array([], "<u4")
    clustered = np.flatnonzero(datatrove_labels(result, len(texts)) >= 0)
    return {"seconds": result["seconds"], "removed": int(removed.size),
            "clustered_ids": sorted(ids[i] for i in clustered), "removed_ids": sorted(ids[i] for i in removed)}


def overlap(ours: list[str], theirs: list[str]) -> dict:
    a, b = set(ours), set(theirs)
    return {"ours": len(a), "datatrove": len(b), "both": len(a & b), "only_ours": len(a - b),
            "only_datatrove": len(b - a), "jaccard": len(a & b) / len(a | b) if a | b else 1.0}


def child(method: str, input_dir: str, work_dir: str) -> dict:
    """Run one method in a fresh interpreter; its JSON report is the last stdout line."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", method, "--input", input_dir, "--work", work_dir],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20_000, help="documents in the corpus")
    parser.add_argument("--small", action="store_true", help="10,000 documents")
    parser.add_argument("--words", type=int, default=300)
    parser.add_argument("--parts", type=int, default=8, help="parquet parts (our tasks)")
    parser.add_argument("--skip-datatrove", action="store_true")
    parser.add_argument("--worker", choices=["ours", "datatrove"], help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        report = (run_ours if args.worker == "ours" else run_datatrove)(args.input, args.work)
        print(json.dumps({**report, "peak_rss_gb": peak_rss_gb(), "process_cpu_seconds": cpu_seconds()}))
        return
    n = 10_000 if args.small else args.docs
    texts, source = make_corpus(n * 3 // 4, n - n * 3 // 4, args.words, seed=0)
    words = sum(len(t.split()) for t in texts)
    print(f"corpus: {len(texts)} documents ({words / len(texts):.0f} words on average) from {source}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        write_parts(texts, f"{tmp}/input", args.parts)
        results["ours"] = child("ours", f"{tmp}/input", f"{tmp}/ours")
        if not args.skip_datatrove:
            results["datatrove"] = child("datatrove", f"{tmp}/input", f"{tmp}/datatrove")
    for name, r in results.items():
        print(
            f"{name:10s} {r['seconds']:8.2f} s  {len(texts) / r['seconds']:9.0f} docs/s  "
            f"(process CPU {r['process_cpu_seconds']:.1f} s, start-up included)  "
            f"peak RSS {r['peak_rss_gb']:.2f} GB  removed {r['removed']}"
        )
    print(f"ours per phase (s): {results['ours']['phases']}")
    ours_rss = results["ours"]["peak_rss_gb"]
    print(
        f"memory: {ours_rss:.2f} GB peak for {len(texts)} documents "
        f"({'within' if ours_rss <= MEMORY_BUDGET_GB else 'OVER'} the {MEMORY_BUDGET_GB:.0f} GB budget)"
    )
    summary: dict = {"documents": len(texts), "source": source, "parts": args.parts}
    summary["ours"] = {k: v for k, v in results["ours"].items() if not k.endswith("_ids")}
    if "datatrove" in results:
        summary["datatrove"] = {k: v for k, v in results["datatrove"].items() if not k.endswith("_ids")}
        speedup = results["datatrove"]["seconds"] / results["ours"]["seconds"]
        verdict = "met" if speedup >= GOAL_SPEEDUP else "NOT met"
        print(f"speedup vs datatrove: {speedup:.1f}x (goal >= {GOAL_SPEEDUP:.0f}x: {verdict})")
        summary["speedup"] = speedup
        cpu_ratio = results["datatrove"]["process_cpu_seconds"] / results["ours"]["process_cpu_seconds"]
        print(f"process CPU seconds, datatrove / ours: {cpu_ratio:.1f}x")
        summary["process_cpu_ratio"] = cpu_ratio
        for kind in ("clustered", "removed"):
            o = overlap(results["ours"][f"{kind}_ids"], results["datatrove"][f"{kind}_ids"])
            summary[f"{kind}_overlap"] = o
            print(f"{kind} documents: ours {o['ours']}, datatrove {o['datatrove']}, both {o['both']} "
                  f"(only ours {o['only_ours']}, only datatrove {o['only_datatrove']}, Jaccard {o['jaccard']:.3f})")
    name = "dedup_speed-small" if args.small else "dedup_speed"
    print(f"saved {save(name if args.docs == 20_000 or args.small else f'{name}-{len(texts)}', summary)}")


if __name__ == "__main__":
    main()

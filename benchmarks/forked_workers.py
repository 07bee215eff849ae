"""Forked workers (``curation/runtime/forked.py``) against an embedded Ray, for one machine's run.

Same crawl and clock as ``end_to_end.py`` (each run in a fresh interpreter, cold, byte-compiled), at 2
workers: ``runtime.executor: auto`` (2 processes forked from the driver after its warm-up) against
``runtime.executor: ray`` (an embedded Ray of 2 CPUs, started lean; the driver only schedules). The two
alternate, pair by pair, on the mixed crawl and on its English subset, so that both see the machine's
load of the moment; the JSON keeps every pair, the medians and the median of the per-pair ratios.

    python benchmarks/forked_workers.py [--pairs 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import compile_ours, save
from end_to_end import child, crawl_sources, english_ids, write_crawl

VARIANTS = {"forked": "ours_default", "ray": "ours_allray"}


def pairs(crawl: Path, tmp: Path, count: int) -> dict:
    runs: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    for i in range(count):
        for name, method in VARIANTS.items():
            r = child(method, str(crawl), str(tmp / f"{crawl.name}-{name}-{i}"), 2)
            runs[name].append({"seconds": round(r["seconds"], 2), "docs_out": r["docs_out"],
                               "cpu_seconds": round(r["process_tree"]["cpu_seconds"], 2)})
            print(f"{crawl.name:8s} pair {i + 1}/{count} {name:12s} {r['seconds']:6.2f} s "
                  f"{r['process_tree']['cpu_seconds']:6.2f} CPU-s", flush=True)
    forked, ray = runs["forked"], runs["ray"]
    return {
        "runs": runs,
        "median_seconds": {n: statistics.median(r["seconds"] for r in v) for n, v in runs.items()},
        "median_cpu_seconds": {n: statistics.median(r["cpu_seconds"] for r in v) for n, v in runs.items()},
        "median_pair_speedup": round(statistics.median(b["seconds"] / a["seconds"] for a, b in zip(forked, ray)), 3),
        "median_pair_cpu_saved": round(statistics.median(b["cpu_seconds"] - a["cpu_seconds"]
                                                         for a, b in zip(forked, ray)), 2),
        "same_documents": len({r["docs_out"] for v in runs.values() for r in v}) == 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=4)
    args = parser.parse_args()
    compile_ours()
    with tempfile.TemporaryDirectory(prefix="bench-forked-") as name:
        tmp = Path(name)
        sources = crawl_sources(tmp, 2000)
        crawl = write_crawl(sources, tmp / "crawl", 8, None)
        child("ours_nogates", str(tmp / "crawl"), str(tmp / "nogates"), 1)
        english = write_crawl(sources, tmp / "english", 8, None, ids=english_ids(str(tmp / "nogates")))
        out = {"load_average_at_start": os.getloadavg(), "workers": 2, "crawl_pages": crawl["pages"],
               "english_pages": english["pages"],
               "mixed": pairs(tmp / "crawl", tmp, args.pairs), "english": pairs(tmp / "english", tmp, args.pairs)}
    out["load_average_at_end"] = os.getloadavg()
    for key in ("mixed", "english"):
        r = out[key]
        print(f"{key}: median {r['median_seconds']} s; per pair, Ray / forked wall "
              f"{r['median_pair_speedup']}x, CPU-s saved {r['median_pair_cpu_saved']}; "
              f"same documents {r['same_documents']}")
    print(f"saved {save('forked_workers', out)}")


if __name__ == "__main__":
    main()

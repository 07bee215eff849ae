"""An embedded Ray's start: ours (``ray_session.start_ray``) against Ray's own ``ray.init``.

What a run on an embedded Ray (``runtime.executor: ray`` on one machine, ``make demo``) pays before its
first task: ``start_ray`` as ``run_pipeline`` calls it (``lean_embedded_start``: no dashboard head, no
autoscaler monitor, a minimal dashboard agent nobody waits for, the raylet's registration polled every
20 ms), for one worker, against ``ray.init(num_cpus=1, include_dashboard=False)``, the plain call a user
would write. (``results/ray_start.json`` was measured at 2 workers with the driver as one of them, which
gave Ray the same single CPU.)
Each start runs in a fresh interpreter with Ray imported before the clock starts; the clock covers
``ray.init`` and then a first trivial task (its worker's start), and the shutdown is timed apart. The
CPU seconds are those of the processes Ray started (GCS, raylet, agents, log monitor, worker) from the
start to the first task's result. The two alternate, pair by pair, so that both see the machine's load
of the moment.

    python benchmarks/ray_start.py [--pairs 7]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import compile_ours, save

VARIANTS = ("ours", "ray_init")


def start(variant: str) -> dict:
    import psutil
    import ray

    from curation.runtime.ray_session import start_ray

    t0 = time.perf_counter()
    if variant == "ours":
        runtime = SimpleNamespace(address=None, workers=1)
        start_ray(runtime, env=None)
    else:
        ray.init(num_cpus=1, include_dashboard=False, logging_level=logging.WARNING)
    t1 = time.perf_counter()
    ray.get(ray.remote(lambda: 1).remote())
    t2 = time.perf_counter()
    cpu = 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            times = proc.cpu_times()
            cpu += times.user + times.system
        except psutil.Error:
            continue
    ray.shutdown()
    t3 = time.perf_counter()
    return {"init_seconds": round(t1 - t0, 3), "first_task_seconds": round(t2 - t0, 3),
            "shutdown_seconds": round(t3 - t2, 3), "ray_processes_cpu_seconds": round(cpu, 2)}


def child(variant: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", variant], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"{variant} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(start(args.child)))
        return
    compile_ours()
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for i in range(args.pairs):
        for variant in VARIANTS:
            r = child(variant)
            runs[variant].append(r)
            print(f"pair {i + 1}/{args.pairs} {variant:8s} init {r['init_seconds']:5.2f} s, first task "
                  f"{r['first_task_seconds']:5.2f} s, shutdown {r['shutdown_seconds']:4.2f} s, "
                  f"Ray's processes {r['ray_processes_cpu_seconds']:4.2f} CPU-s", flush=True)
    keys = ("init_seconds", "first_task_seconds", "shutdown_seconds", "ray_processes_cpu_seconds")
    medians = {v: {k: statistics.median(r[k] for r in rs) for k in keys} for v, rs in runs.items()}
    saved = {k: round(statistics.median(b[k] - a[k] for a, b in zip(runs["ours"], runs["ray_init"])), 3)
             for k in ("init_seconds", "first_task_seconds")}
    for variant, m in medians.items():
        print(f"median {variant:8s} " + ", ".join(f"{k} {v}" for k, v in m.items()))
    print(f"median per pair, ours earlier by: {saved}")
    path = save("ray_start", {"pairs": args.pairs, "runs": runs, "medians": medians,
                              "median_pair_seconds_saved": saved})
    print(f"saved {path}")


if __name__ == "__main__":
    main()

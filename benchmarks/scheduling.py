"""Driver CPU of handing out a pipelined phase's tasks as the phase before finishes them.

With ``RunContext.start_phase`` the phase after extraction starts part by part: each finished
extraction task makes its follower runnable. A Common Crawl dump is ~90,000 WARC files, so each
phase has that many tasks; the driver's work to find runnable tasks must grow with the tasks, not
with their square. This replays that hand-out (``PhaseRun.ready``/``record``, no Ray, no task
bodies) for growing task counts and reports driver CPU-seconds per 1,000 tasks, which stays flat
when the cost is linear. (Before ``PhaseRun.ready`` followed only what finished since its last call,
it rescanned every pending task: 9.8 CPU-seconds for 20,000 tasks, measured ad hoc.)

    python benchmarks/scheduling.py [--tasks 10000 30000 90000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import save

from curation.runtime import executor
from curation.runtime.executor import PhaseRun, Task


def hand_out(n: int, folder: str) -> float:
    """CPU-seconds to record ``n`` finished tasks of a phase and hand out the follower each unblocks,
    at most 4 at a time (``max_in_flight`` of 2 workers plus as many queued)."""
    tasks = [Task(f"{i:06d}", print, {}) for i in range(n)]
    first = PhaseRun("extract", tasks, f"{folder}/extract")
    second = PhaseRun("filters.signals", tasks, f"{folder}/signals", after=first, per_task=[t.task_id for t in tasks])
    start = time.process_time()
    for task in tasks:
        del first.pending[task.task_id]
        first.record(task.task_id, {})
        for ready in second.ready(4):
            del second.pending[ready.task_id]
            second._unblocked.pop(ready.task_id, None)
    assert not second.pending
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, nargs="+", default=[10_000, 30_000, 90_000])
    args = parser.parse_args()
    executor.SETTINGS.progress = False
    load = os.getloadavg()
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-scheduling-") as folder:
        for n in args.tasks:
            seconds = hand_out(n, f"{folder}/{n}")
            per_1000 = round(1e6 * seconds / n, 2)
            runs.append({"tasks": n, "cpu_seconds": round(seconds, 3), "cpu_ms_per_1000": per_1000})
            print(f"{n:>7,} tasks: {seconds:.3f} CPU-s, {runs[-1]['cpu_ms_per_1000']} ms per 1,000 tasks", flush=True)
    growth = runs[-1]["cpu_ms_per_1000"] / runs[0]["cpu_ms_per_1000"]
    print(f"per-task cost at {runs[-1]['tasks']:,} / at {runs[0]['tasks']:,}: {growth:.2f}x (linear: ~1x)")
    result = {"load_average_at_start": load, "runs": runs, "per_task_growth": round(growth, 2)}
    print(f"saved {save('scheduling', result)}")


if __name__ == "__main__":
    main()

"""Run a phase's tasks on Ray (or in-process when Ray is not started) with resume.

Each task writes its own outputs atomically and then a completion marker holding its counters.
When every task of the phase is done, the driver folds the markers into one phase marker
(``_phase.done.json``) and removes them, so a finished phase leaves one marker, not one per task.
A re-run lists the marker folder once (no request per task) and submits only the tasks that have
no marker, so finished work is never redone and a crash can never leave a marker without its outputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from curation.io import fs

Counters = dict[str, Any]
PHASE_MARKER = "_phase.done.json"
MARKER_SUFFIX = ".done.json"


@dataclass(frozen=True)
class Task:
    """One unit of work: ``fn(**kwargs)`` writes its outputs and returns JSON-able counters."""

    task_id: str
    fn: Callable[..., Counters]
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExecutorSettings:
    """How tasks are run; set once per process by the pipeline (see ``configure``)."""

    use_ray: bool = False
    max_in_flight: int = 4
    max_retries: int = 3
    progress: bool = True


SETTINGS = ExecutorSettings()


def configure(*, use_ray: bool, max_in_flight: int, max_retries: int = 3, progress: bool = True) -> None:
    SETTINGS.use_ray = use_ray
    SETTINGS.max_in_flight = max(1, max_in_flight)
    SETTINGS.max_retries = max_retries
    SETTINGS.progress = progress


def marker_path(marker_dir: str, task_id: str) -> str:
    return fs.join(marker_dir, f"{task_id}{MARKER_SUFFIX}")


def finished_tasks(marker_dir: str, task_ids: Sequence[str]) -> tuple[dict[str, Counters], bool]:
    """Counters of the tasks already done, and whether they come from the phase marker (one listing)."""
    names = {path.rsplit("/", 1)[-1] for path in fs.listdir(marker_dir, MARKER_SUFFIX)}
    if PHASE_MARKER in names:
        return fs.read_json(fs.join(marker_dir, PHASE_MARKER)), True
    found = [t for t in task_ids if f"{t}{MARKER_SUFFIX}" in names]
    with ThreadPoolExecutor(max_workers=16) as pool:  # object stores answer reads in parallel
        counters = list(pool.map(lambda t: fs.read_json(marker_path(marker_dir, t)), found))
    return dict(zip(found, counters)), False


def fold_markers(marker_dir: str, results: dict[str, Counters]) -> None:
    """Write the phase marker, then remove the task markers it replaces."""
    fs.write_json(fs.join(marker_dir, PHASE_MARKER), {t: {k: v for k, v in c.items() if k != "resumed"}
                                                      for t, c in results.items()})
    stale = [p for p in fs.listdir(marker_dir, MARKER_SUFFIX) if not p.endswith("/" + PHASE_MARKER)]
    if stale:
        fsys, _ = fs.filesystem(marker_dir)
        fsys.rm([fs.filesystem(p)[1] for p in stale])  # one bulk request on object stores


def _run_and_mark(task: Task, marker: str) -> Counters:
    start = time.perf_counter()
    counters = task.fn(**task.kwargs) or {}
    counters = {**counters, "seconds": round(time.perf_counter() - start, 3)}
    fs.write_json(marker, counters)
    return counters


def run_tasks(
    phase: str,
    tasks: Sequence[Task],
    marker_dir: str,
    memory: int | None = None,
    expected_seconds: Mapping[str, float] | None = None,
) -> list[Counters]:
    """Run ``tasks`` (skipping those already marked done); return their counters in task order.

    ``memory`` (bytes) is the Ray memory reservation of each task, so large tasks do not
    over-commit a node; capped at the largest node's memory so that a task stays schedulable.
    ``expected_seconds`` (by task id) sends the longest tasks to Ray first, so that a phase does not
    end waiting on a long task that started last; in-process, tasks run in their given order.
    """
    ids = [t.task_id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"phase {phase}: duplicate task ids")
    done, folded = finished_tasks(marker_dir, ids)
    results = {t: {**done[t], "resumed": True} for t in ids if t in done}
    pending = [task for task in tasks if task.task_id not in results]
    bar = tqdm(
        total=len(tasks), initial=len(results), desc=phase, unit="task", disable=not SETTINGS.progress, leave=False
    )
    docs_done = 0
    start = time.perf_counter()

    def record(task_id: str, counters: Counters) -> None:
        nonlocal docs_done
        results[task_id] = counters
        docs_done += int(counters.get("in", 0))
        bar.update(1)
        bar.set_postfix(docs_per_s=f"{docs_done / max(time.perf_counter() - start, 1e-9):.0f}")

    try:
        if SETTINGS.use_ray and pending:
            if expected_seconds:
                pending.sort(key=lambda t: -expected_seconds.get(t.task_id, 0.0))  # stable: ties keep their order
            _run_on_ray(pending, marker_dir, record, memory)
        else:
            for task in pending:
                try:
                    counters = _run_and_mark(task, marker_path(marker_dir, task.task_id))
                except Exception as err:
                    raise TaskFailed(task.task_id, err) from err
                record(task.task_id, counters)
    finally:
        bar.close()
    if pending or not folded:
        fold_markers(marker_dir, results)
    return [results[t] for t in ids]


def _run_on_ray(
    pending: list[Task], marker_dir: str, record: Callable[[str, Counters], None], memory: int | None
) -> None:
    import ray

    options: dict[str, Any] = {"max_retries": SETTINGS.max_retries, "retry_exceptions": False}
    if memory:
        largest = max((n["Resources"].get("memory", 0) for n in ray.nodes() if n["Alive"]), default=0)
        options["memory"] = int(min(memory, largest)) if largest else None
    remote = ray.remote(_run_and_mark).options(**{k: v for k, v in options.items() if v is not None})
    queue = list(reversed(pending))
    in_flight: dict[Any, str] = {}
    try:
        while queue or in_flight:
            while queue and len(in_flight) < SETTINGS.max_in_flight:
                task = queue.pop()
                in_flight[remote.remote(task, marker_path(marker_dir, task.task_id))] = task.task_id
            done, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in done:
                task_id = in_flight.pop(ref)
                try:
                    record(task_id, ray.get(ref))
                except ray.exceptions.RayTaskError as err:
                    raise TaskFailed(task_id, err.cause if err.cause is not None else err) from None
    finally:
        for ref in in_flight:
            ray.cancel(ref, force=True)


class TaskFailed(RuntimeError):
    """A task raised; carries the task id and the original error for a one-line message."""

    def __init__(self, task_id: str, cause: BaseException):
        super().__init__(f"task {task_id} failed: {type(cause).__name__}: {cause}")
        self.task_id = task_id
        self.cause = cause

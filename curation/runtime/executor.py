"""Run a phase's tasks on Ray, on worker processes forked from the driver (``forked.ForkedWorkers``, one
machine) or one after another in this process, with resume.

Each task writes its own outputs atomically and then a completion marker holding its counters.
When every task of the phase is done, the driver folds the markers into one phase marker
(``_phase.done.json``) and removes them, so a finished phase leaves one marker, not one per task.
A re-run lists the marker folder once (no request per task) and submits only the tasks that have
no marker, so finished work is never redone and a crash can never leave a marker without its outputs.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from curation.io import fs
from curation.runtime.forked import ForkedWorkers

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
    queued: int = 0
    """Tasks handed to Ray beyond ``max_in_flight``, waiting in Ray's queue so that a worker starts its
    next task without a round trip through the driver; only where Ray itself runs at most
    ``max_in_flight`` at once (an embedded Ray with that many CPUs)."""
    forked: ForkedWorkers | None = None
    """Where tasks run when not on Ray and not in this process: ``max_in_flight`` forked workers."""

    @property
    def in_process(self) -> bool:
        return not self.use_ray and self.forked is None


SETTINGS = ExecutorSettings()


def configure(
    *, use_ray: bool, max_in_flight: int, max_retries: int = 3, progress: bool = True, queued: int = 0,
    forked: bool = False,
) -> None:
    """Where the next phases run: on Ray, on ``max_in_flight`` forked workers (``forked``), else in this
    process; ends the forked workers of a previous setting."""
    if use_ray and forked:
        raise ValueError("tasks run either on Ray or on forked workers")
    SETTINGS.use_ray = use_ray
    SETTINGS.max_in_flight = max(1, max_in_flight)
    SETTINGS.max_retries = max_retries
    SETTINGS.progress = progress
    SETTINGS.queued = max(0, queued)
    if SETTINGS.forked is not None:
        SETTINGS.forked.close()
    SETTINGS.forked = ForkedWorkers(SETTINGS.max_in_flight, max_retries) if forked else None


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


class PhaseRun:
    """One phase's tasks on their way: found done (markers), pending, in flight on Ray, finished.

    ``after`` is a phase still running when this one starts: a task of this phase whose id is in
    ``per_task`` waits only for that phase's task of the same id (its input), every other one for the
    whole phase.
    """

    def __init__(self, phase: str, tasks: Sequence[Task], marker_dir: str, memory: int | None = None,
                 after: PhaseRun | None = None, per_task: Collection[str] = ()):
        self.start = time.perf_counter()
        self.phase = phase
        self.ids = [t.task_id for t in tasks]
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"phase {phase}: duplicate task ids")
        self.marker_dir, self.memory = marker_dir, memory
        done, self.folded = finished_tasks(marker_dir, self.ids)
        self.results: dict[str, Counters] = {t: {**done[t], "resumed": True} for t in self.ids if t in done}
        self.pending = {task.task_id: task for task in tasks if task.task_id not in self.results}
        self.done_order = list(self.results)
        """Ids of the finished tasks, in the order they finished: what a phase started after this one
        reads to find its newly runnable tasks without scanning all of its pending ones."""
        self._unblocked: dict[str, Task] = {}
        self._after_seen = 0
        self.ran = bool(self.pending)
        self.after = after if after is not None and not after.finished else None
        self.per_task = set(per_task)
        self.in_flight: dict[Any, str] = {}
        self.finished = False
        self.seconds = 0.0
        """Wall seconds from the start to the phase marker (set when finished)."""
        self.bar = tqdm(total=len(self.ids), initial=len(self.results), desc=phase, unit="task",
                        disable=not SETTINGS.progress, leave=False)
        self._docs_done = 0
        self._remote: Any = None

    def record(self, task_id: str, counters: Counters) -> None:
        self.results[task_id] = counters
        self.done_order.append(task_id)
        self._docs_done += int(counters.get("in", 0))
        self.bar.update(1)
        self.bar.set_postfix(docs_per_s=f"{self._docs_done / max(time.perf_counter() - self.start, 1e-9):.0f}")

    def ready(self, limit: int) -> list[Task]:
        """Up to ``limit`` pending tasks whose inputs are written. Work per call follows what finished
        since the last one, not the pending tasks (a dump's phase has ~90,000)."""
        if self.after is None or self.after.finished:
            return list(itertools.islice(self.pending.values(), limit))
        for task_id in self.after.done_order[self._after_seen :]:
            if task_id in self.per_task and task_id in self.pending:
                self._unblocked[task_id] = self.pending[task_id]
        self._after_seen = len(self.after.done_order)
        return list(itertools.islice(self._unblocked.values(), limit))

    def submit(self, task: Task) -> None:
        del self.pending[task.task_id]
        self._unblocked.pop(task.task_id, None)
        marker = marker_path(self.marker_dir, task.task_id)
        if SETTINGS.forked is not None:
            handle = SETTINGS.forked.submit(_run_and_mark, task, marker, name=f"{self.phase} task {task.task_id}")
            self.in_flight[handle] = task.task_id
            return
        import ray

        if self._remote is None:
            options: dict[str, Any] = {"max_retries": SETTINGS.max_retries, "retry_exceptions": False}
            if self.memory:
                largest = max((n["Resources"].get("memory", 0) for n in ray.nodes() if n["Alive"]), default=0)
                options["memory"] = int(min(self.memory, largest)) if largest else None
            self._remote = ray.remote(_run_and_mark).options(**{k: v for k, v in options.items() if v is not None})
        self.in_flight[self._remote.remote(task, marker)] = task.task_id

    def close(self) -> None:
        """Every task is done: fold their markers into the phase marker."""
        self.finished = True
        self.bar.close()
        if self.ran or not self.folded:
            fold_markers(self.marker_dir, self.results)
        self.seconds = time.perf_counter() - self.start

    def cancel(self) -> None:
        self.bar.close()
        if SETTINGS.forked is not None:
            SETTINGS.forked.cancel(self.in_flight)
            return
        import ray

        for ref in self.in_flight:
            ray.cancel(ref, force=True)

    def counters(self) -> list[Counters]:
        return [self.results[t] for t in self.ids]


def start_tasks(
    phase: str,
    tasks: Sequence[Task],
    marker_dir: str,
    memory: int | None = None,
    expected_seconds: Mapping[str, float] | None = None,
    after: PhaseRun | None = None,
    per_task: Collection[str] = (),
) -> PhaseRun:
    """Start ``tasks`` (skipping those already marked done) and return without waiting for them; in-process
    they all run here. ``finish`` waits for them.

    ``memory`` (bytes) is the Ray memory reservation of each task, so large tasks do not
    over-commit a node; capped at the largest node's memory so that a task stays schedulable.
    ``expected_seconds`` (by task id) starts the longest tasks first, so that a phase does not end
    waiting on a long task that started last; in-process, tasks run in their given order.
    ``after``/``per_task``: see ``PhaseRun``; the ``after`` phase's tasks start before this one's.
    """
    run = PhaseRun(phase, tasks, marker_dir, memory, after, per_task)
    if not SETTINGS.in_process:
        if expected_seconds:
            ranked = sorted(run.pending.items(), key=lambda item: -expected_seconds.get(item[0], 0.0))
            run.pending = dict(ranked)  # stable: ties keep their order
        _drive(run, wait=False)
        return run
    try:
        for task in list(run.pending.values()):
            try:
                counters = _run_and_mark(task, marker_path(marker_dir, task.task_id))
            except Exception as err:
                raise TaskFailed(task.task_id, err) from err
            del run.pending[task.task_id]
            run.record(task.task_id, counters)
    finally:
        run.bar.close()
    run.close()
    return run


def finish(run: PhaseRun) -> list[Counters]:
    """Wait for a started phase (and the one it runs after); return its counters in task order."""
    if not run.finished:
        _drive(run, wait=True)
    return run.counters()


def run_tasks(
    phase: str,
    tasks: Sequence[Task],
    marker_dir: str,
    memory: int | None = None,
    expected_seconds: Mapping[str, float] | None = None,
) -> list[Counters]:
    """Run ``tasks`` (skipping those already marked done); return their counters in task order (see
    ``start_tasks``)."""
    return finish(start_tasks(phase, tasks, marker_dir, memory, expected_seconds))


def _drive(run: PhaseRun, wait: bool) -> None:
    """Submit the ready tasks of ``run`` and of the phase it runs after, at most ``max_in_flight`` (plus
    ``queued``) at once, the earlier phase's first; with ``wait``, until both are finished."""
    runs = [r for r in (run.after, run) if r is not None and not r.finished]
    try:
        while True:
            slots = SETTINGS.max_in_flight + SETTINGS.queued - sum(len(r.in_flight) for r in runs)
            for r in runs:
                for task in r.ready(max(slots, 0)):
                    r.submit(task)
                    slots -= 1
                if not r.finished and not r.pending and not r.in_flight:
                    r.close()
            if not wait or all(r.finished for r in runs):
                return
            for ref in _wait_one([ref for r in runs for ref in r.in_flight]):
                owner = next(r for r in runs if ref in r.in_flight)
                task_id = owner.in_flight.pop(ref)
                owner.record(task_id, _result(ref, task_id))
    except BaseException:
        for r in runs:
            r.cancel()
        raise


def _wait_one(refs: list[Any]) -> list[Any]:
    """The tasks among ``refs`` that have finished, at least one."""
    if SETTINGS.forked is not None:
        return SETTINGS.forked.wait(refs)
    import ray

    return ray.wait(refs, num_returns=1)[0]


def _result(ref: Any, task_id: str) -> Counters:
    """A finished task's counters; ``TaskFailed`` with the task's own error if it raised."""
    if SETTINGS.forked is not None:
        try:
            return SETTINGS.forked.result(ref)
        except Exception as err:  # noqa: BLE001 - whatever the task raised, with its task id
            raise TaskFailed(task_id, err) from None
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as err:
        raise TaskFailed(task_id, err.cause if err.cause is not None else err) from None


class TaskFailed(RuntimeError):
    """A task raised; carries the task id and the original error for a one-line message."""

    def __init__(self, task_id: str, cause: BaseException):
        super().__init__(f"task {task_id} failed: {type(cause).__name__}: {cause}")
        self.task_id = task_id
        self.cause = cause

"""Run a phase's tasks on Ray (or in-process when Ray is not started; on an embedded Ray, also in a
driver thread: ``DriverLane``) with resume.

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
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
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
    queued: int = 0
    """Tasks handed to Ray beyond ``max_in_flight``, waiting in Ray's queue so that a worker starts its
    next task without a round trip through the driver; only where Ray itself runs at most
    ``max_in_flight`` at once (an embedded Ray with that many CPUs)."""
    lane: DriverLane | None = None
    """The driver's own slot beside Ray's ``max_in_flight`` (see ``DriverLane``)."""


SETTINGS = ExecutorSettings()


def configure(
    *, use_ray: bool, max_in_flight: int, max_retries: int = 3, progress: bool = True, queued: int = 0,
    driver_lane: bool = False,
) -> None:
    SETTINGS.use_ray = use_ray
    SETTINGS.max_in_flight = max(1, max_in_flight)
    SETTINGS.max_retries = max_retries
    SETTINGS.progress = progress
    SETTINGS.queued = max(0, queued)
    if SETTINGS.lane is not None:
        SETTINGS.lane.close()
    SETTINGS.lane = DriverLane() if use_ray and driver_lane else None


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


class DriverLane:
    """One task at a time in a driver thread, beside Ray's workers.

    On an embedded Ray of W workers the driver is the W-th: Ray gets W - 1 CPUs, and the driver, which
    otherwise only waits on Ray, runs tasks too. A Ray worker is a fresh process that imports and loads
    everything before its first task (1.5-2 CPU-s: Ray, the pipeline, spaCy's rules, the tokenizer);
    the driver has most of it loaded already, as a forked pool's workers have (datatrove). A task
    here has no Ray memory reservation (``runtime.task_memory_mb``) and no retry if it kills its
    process: that is the driver, and the run is re-run (resume).
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="curation-driver-task")
        self.future: Future | None = None
        self.run: PhaseRun | None = None
        self.task_id = ""

    def start(self, run: PhaseRun, task: Task) -> None:
        self.run, self.task_id = run, task.task_id
        self.future = self._pool.submit(_run_and_mark, task, marker_path(run.marker_dir, task.task_id))

    def wait(self, timeout: float | None) -> None:
        """Record the running task's counters in its phase if it ends within ``timeout`` seconds; a task
        that raised raises ``TaskFailed``."""
        if self.future is None or not wait_futures([self.future], timeout=timeout).done:
            return
        run, task_id, future = self.run, self.task_id, self.future
        self.run, self.future = None, None
        try:
            counters = future.result()
        except Exception as err:
            raise TaskFailed(task_id, err) from err
        assert run is not None
        run.record(task_id, counters)

    def close(self) -> None:
        """Wait for a running task (a thread cannot be stopped; its outputs and marker are atomic)."""
        self._pool.shutdown(wait=True)


class PhaseRun:
    """One phase's tasks on their way: found done (markers), pending, in flight on Ray, finished.

    ``after`` is a phase still running when this one starts: a task of this phase whose id is in
    ``per_task`` waits only for that phase's task of the same id (its input), every other one for the
    whole phase.
    """

    def __init__(self, phase: str, tasks: Sequence[Task], marker_dir: str, memory: int | None = None,
                 after: PhaseRun | None = None, per_task: Collection[str] = ()):
        self.start = time.perf_counter()
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

    def take(self, task: Task) -> Task:
        """``task`` leaves the pending ones (to run elsewhere than on Ray)."""
        del self.pending[task.task_id]
        self._unblocked.pop(task.task_id, None)
        return task

    def submit(self, task: Task) -> None:
        import ray

        if self._remote is None:
            options: dict[str, Any] = {"max_retries": SETTINGS.max_retries, "retry_exceptions": False}
            if self.memory:
                largest = max((n["Resources"].get("memory", 0) for n in ray.nodes() if n["Alive"]), default=0)
                options["memory"] = int(min(self.memory, largest)) if largest else None
            self._remote = ray.remote(_run_and_mark).options(**{k: v for k, v in options.items() if v is not None})
        self.take(task)
        self.in_flight[self._remote.remote(task, marker_path(self.marker_dir, task.task_id))] = task.task_id

    def close(self) -> None:
        """Every task is done: fold their markers into the phase marker."""
        self.finished = True
        self.bar.close()
        if self.ran or not self.folded:
            fold_markers(self.marker_dir, self.results)
        self.seconds = time.perf_counter() - self.start

    def cancel(self) -> None:
        import ray

        self.bar.close()
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
    """Start ``tasks`` (skipping those already marked done) and return without waiting for Ray; in-process
    they all run here. ``finish`` waits for them.

    ``memory`` (bytes) is the Ray memory reservation of each task, so large tasks do not
    over-commit a node; capped at the largest node's memory so that a task stays schedulable.
    ``expected_seconds`` (by task id) sends the longest tasks to Ray first, so that a phase does not
    end waiting on a long task that started last; in-process, tasks run in their given order.
    ``after``/``per_task``: see ``PhaseRun``; the ``after`` phase's tasks go to Ray before this one's.
    """
    run = PhaseRun(phase, tasks, marker_dir, memory, after, per_task)
    if SETTINGS.use_ray:
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
    ``queued``) at once on Ray and one more in the driver's lane if there is one, the earlier phase's
    first; with ``wait``, until both are finished."""
    import ray

    runs = [r for r in (run.after, run) if r is not None and not r.finished]
    lane = SETTINGS.lane
    try:
        while True:
            slots = SETTINGS.max_in_flight + SETTINGS.queued - sum(len(r.in_flight) for r in runs)
            for r in runs:
                lane_free = lane is not None and lane.future is None
                for task in r.ready(max(slots, 0) + lane_free):
                    if lane is not None and lane.future is None:
                        lane.start(r, r.take(task))
                    else:
                        r.submit(task)
                        slots -= 1
                if not r.finished and not r.pending and not r.in_flight and not (lane and lane.run is r):
                    r.close()
            if not wait or all(r.finished for r in runs):
                return
            refs = [ref for r in runs for ref in r.in_flight]
            if lane is not None and lane.future is not None:  # look at both, Ray briefly
                done = ray.wait(refs, num_returns=1, timeout=0.01)[0] if refs else []
                lane.wait(0 if refs else None)
            else:
                done = ray.wait(refs, num_returns=1)[0]
            for ref in done:
                owner = next(r for r in runs if ref in r.in_flight)
                task_id = owner.in_flight.pop(ref)
                try:
                    owner.record(task_id, ray.get(ref))
                except ray.exceptions.RayTaskError as err:
                    raise TaskFailed(task_id, err.cause if err.cause is not None else err) from None
    except BaseException:
        for r in runs:
            r.cancel()
        raise


class TaskFailed(RuntimeError):
    """A task raised; carries the task id and the original error for a one-line message."""

    def __init__(self, task_id: str, cause: BaseException):
        super().__init__(f"task {task_id} failed: {type(cause).__name__}: {cause}")
        self.task_id = task_id
        self.cause = cause

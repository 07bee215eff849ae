"""The run folder and the phases run into it.

Every phase's work lives in ``DIR/work/<phase>/<fingerprint>/``; the fingerprint hashes the
phase's own settings and its inputs (whose paths carry the upstream fingerprints). Change a
threshold and only the phases that depend on it get a new fingerprint and run again; everything
upstream is found finished on disk. ``docs/``, ``rejects/`` and ``shards/`` are published views
of the current fingerprints.

Stages declare their phases and the runtime plans the tasks, names the files and runs the shuffles:
``map_documents`` (documents in, documents out, per part), ``map`` (one task per input file) and
``reduce`` (one task per partition of a shuffle). A map or reduce function returns a
``TaskOutput``: tables to keep (``<kind>-<task>.parquet``) and rows to shuffle by a uint64 key.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from curation import __version__
from curation.io import fs
from curation.runtime.executor import Counters, PhaseRun, Task, finish, start_tasks
from curation.runtime.shuffle import default_partitions, read_partition, write_partitioned
from curation.schema import reject_counts

DocumentFn = Callable[[pa.Table], "tuple[pa.Table, pa.Table, dict[str, Any]]"]
"""A document stage as the runtime sees it: docs -> (kept, rejected with reason, extra counters)."""


@dataclass
class PhaseRecord:
    name: str
    fingerprint: str
    work_dir: str
    tasks: int = 0
    resumed: int = 0
    started_seconds: float = 0.0
    """When the phase started, in seconds after the run's (phases may overlap: ``start_phase``)."""
    wall_seconds: float = 0.0
    task_seconds: float = 0.0
    docs_in: int = 0
    docs_out: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    counters: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "tasks": self.tasks,
            "resumed_tasks": self.resumed,
            "started_seconds": round(self.started_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "task_seconds": round(self.task_seconds, 3),
            "in": self.docs_in,
            "out": self.docs_out,
            "rejected": dict(sorted(self.rejected.items())),
            "counters": dict(sorted(self.counters.items())),
        }


@dataclass(frozen=True)
class TaskOutput:
    """What a map or reduce function returns; the runtime writes it into the phase folder."""

    files: dict[str, pa.Table] = field(default_factory=dict)
    """Tables kept as ``<kind>-<task>.parquet`` (read back with ``PhaseOutput.files(kind)``)."""
    shuffle: tuple[pa.Table, np.ndarray] | None = None
    """Rows and their uint64 keys, range-partitioned for the next ``reduce``."""
    counters: Counters = field(default_factory=dict)


@dataclass(frozen=True)
class Shuffled:
    """Rows shuffled by key: one file per map task, read back one partition at a time."""

    paths: tuple[str, ...]
    partitions: int
    fingerprint: str

    def read(self, partition: int) -> pa.Table:
        return read_partition(list(self.paths), partition)


@dataclass(frozen=True)
class PhaseOutput:
    """A finished map or reduce phase: its folder, task ids, counters and shuffled rows."""

    fingerprint: str
    work_dir: str
    task_ids: tuple[str, ...]
    results: tuple[Counters, ...]
    shuffled: Shuffled

    def files(self, kind: str) -> list[str]:
        return [fs.join(self.work_dir, f"{kind}-{t}.parquet") for t in self.task_ids]

    def total(self, counter: str) -> float:
        return sum(r.get(counter, 0) for r in self.results)


def stage_task(fn: Callable[[Any, int], TaskOutput], item: Any, index: int, shuffled: Shuffled | None,
               partitions: int, out_dir: str, task_id: str) -> Counters:
    """Run one map (``item`` is a file) or reduce (``item`` is a partition of ``shuffled``) and write its output."""
    out = fn(shuffled.read(item) if shuffled is not None else item, index)
    for kind, table in out.files.items():
        fs.write_parquet(table, fs.join(out_dir, f"{kind}-{task_id}.parquet"))
    if out.shuffle is not None:
        write_partitioned(*out.shuffle, partitions, fs.join(out_dir, f"shuffle-{task_id}.arrow"))
    return out.counters


def file_id(path: str) -> str:
    """The task id of an input file ``<kind>-<id>.<ext>`` (a part, or an earlier phase's output): ``<id>``."""
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return stem.split("-", 1)[-1]


def part_id(path: str) -> str:
    """The task id carried in a part file name: ``.../part-<id>.parquet`` -> ``<id>``."""
    name = path.rsplit("/", 1)[-1]
    if not (name.startswith("part-") and name.endswith(".parquet")):
        raise ValueError(f"not a part file: {path}")
    return name[len("part-") : -len(".parquet")]


def paths_in(data: Any, depth: int = 4) -> Iterator[str]:
    """The strings in a task's arguments: in containers, dataclasses and plain objects' attributes, down
    to ``depth`` levels."""
    if isinstance(data, str):
        yield data
    elif depth > 0:
        if isinstance(data, Mapping):
            items: Iterable[Any] = data.values()
        elif isinstance(data, list | tuple | set | frozenset):
            items = data
        else:
            items = getattr(data, "__dict__", {}).values()
        for item in items:
            yield from paths_in(item, depth - 1)


def fingerprint(*data: Any) -> str:
    """A short stable hash of JSON-able data."""
    blob = json.dumps([__version__, *data], sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def aggregate(record: PhaseRecord, results: Sequence[Counters]) -> None:
    """Fold per-task counters into the phase record (sums; ``rejected`` merged by reason)."""
    for counters in results:
        record.tasks += 1
        record.resumed += bool(counters.get("resumed"))
        for key, value in counters.items():
            if key == "in":
                record.docs_in += int(value)
            elif key == "out":
                record.docs_out += int(value)
            elif key == "rejected":
                for reason, n in value.items():
                    record.rejected[reason] = record.rejected.get(reason, 0) + int(n)
            elif key == "seconds":
                record.task_seconds += float(value)
            elif key != "resumed" and isinstance(value, int | float) and not isinstance(value, bool):
                record.counters[key] = record.counters.get(key, 0) + value


def map_documents_task(fn: DocumentFn, src: str, out_dir: str, write_rejects: bool) -> Counters:
    """Read one part, apply a document stage, write kept rows and rejects for that part."""
    docs = fs.read_parquet(src)
    kept, rejected, extra = fn(docs)
    pid = part_id(src)
    if write_rejects and rejected.num_rows:
        fs.write_parquet(rejected, fs.join(out_dir, f"rejects-{pid}.parquet"))
    fs.write_parquet(kept, fs.join(out_dir, f"part-{pid}.parquet"))
    return {"in": docs.num_rows, "out": kept.num_rows, "rejected": reject_counts(rejected), **extra}


class RunContext:
    """What phases need from a run: its config, folders, fingerprints and counters."""

    def __init__(self, config: Any, run_dir: str):
        self.config = config
        self.run_dir = run_dir.rstrip("/")
        self.phases: list[PhaseRecord] = []
        self.started = time.time()
        self._ahead: tuple[PhaseRecord, Sequence[Task], PhaseRun] | None = None
        """A phase started (``start_phase``) and not yet recorded."""
        self.task_seconds: dict[str, float] = {}
        """Seconds of the last task run under each id: a part keeps its id from phase to phase, and the
        part that took longest in one phase (the most text) mostly takes longest in the next."""

    def fingerprint(self, *data: Any) -> str:
        """``fingerprint`` with paths inside the run folder taken relative to it.

        A run folder copied or moved elsewhere (another disk, a bucket) then resumes where it stopped.
        """
        return fingerprint(*self._relative(data))

    def _relative(self, data: Any) -> Any:
        if isinstance(data, str):
            return "@run/" + data[len(self.run_dir) + 1 :] if data.startswith(self.run_dir + "/") else data
        if isinstance(data, list | tuple):
            return [self._relative(item) for item in data]
        if isinstance(data, dict):
            return {key: self._relative(value) for key, value in data.items()}
        return data

    def work_dir(self, phase: str, fp: str) -> str:
        return fs.join(self.run_dir, "work", phase, fp)

    def run_phase(self, phase: str, fp: str, tasks: Sequence[Task], kind: str = "map") -> list[Counters]:
        """Run tasks under the phase's work dir, record their counters and return them.

        ``kind`` (extract, map or reduce) picks the tasks' memory reservation (``runtime.task_memory_mb``).
        The longest tasks of the phase before (same ids) go first (``task_seconds``). After a
        ``start_phase``, a task that reads only the same-id task's outputs of that phase starts as soon
        as they are written (see ``_follows``), as consecutive map operators are fused in Ray Data.
        """
        record = PhaseRecord(phase, fp, self.work_dir(phase, fp))
        run = self._start(record, tasks, kind)
        results = finish(run)
        self._settle()
        self._record(record, tasks, run)
        return results

    def start_phase(self, phase: str, fp: str, tasks: Sequence[Task], kind: str = "map") -> None:
        """``run_phase`` without waiting: on Ray the tasks run while the driver plans the next phase, which
        must be the next thing to touch their outputs (any other use of the run folder through this
        context waits for them first)."""
        self._settle()
        record = PhaseRecord(phase, fp, self.work_dir(phase, fp))
        self._ahead = (record, tasks, self._start(record, tasks, kind))

    def _start(self, record: PhaseRecord, tasks: Sequence[Task], kind: str) -> PhaseRun:
        memory_mb = getattr(getattr(getattr(self.config, "runtime", None), "task_memory_mb", None), kind, None)
        record.started_seconds = time.time() - self.started
        after, per_task = self._follows(tasks)
        return start_tasks(record.name, tasks, fs.join(record.work_dir, "_done"), memory_mb and memory_mb * 2**20,
                           self.task_seconds, after, per_task)

    def _follows(self, tasks: Sequence[Task]) -> tuple[PhaseRun | None, list[str]]:
        """The started phase still running, and the ids of ``tasks`` that need only its same-id task: every
        path of the task's arguments inside that phase's folder is an output of that task
        (``<kind>-<id>.<ext>``; a task names the files it reads in its arguments, as every phase does)."""
        if self._ahead is None:
            return None, []
        record, _, run = self._ahead
        own = [t.task_id for t in tasks if all(
            p.rsplit("/", 1)[0] == record.work_dir and file_id(p) == t.task_id
            for p in paths_in(t.kwargs) if p == record.work_dir or p.startswith(record.work_dir + "/"))]
        return run, own

    def _settle(self) -> None:
        """Wait for a started phase and record it."""
        if self._ahead is not None:
            record, tasks, run = self._ahead
            self._ahead = None
            finish(run)
            self._record(record, tasks, run)

    def _record(self, record: PhaseRecord, tasks: Sequence[Task], run: PhaseRun) -> None:
        record.wall_seconds = run.seconds
        results = run.counters()
        for task, counters in zip(tasks, results, strict=True):
            if "seconds" in counters:
                self.task_seconds[task.task_id] = float(counters["seconds"])
        aggregate(record, results)
        self.phases.append(record)

    def map_documents(
        self, phase: str, parts: Sequence[str], fn: DocumentFn | Sequence[DocumentFn], settings: Any
    ) -> list[str]:
        """Apply a per-document stage to every part (one task per part); return the new parts.

        ``fn`` is one stage for all parts, or a list with one stage per part (e.g. each part's own
        removals). ``settings`` is whatever decides the stage's output (its config section, or what
        the per-part stages were built from); it goes into the fingerprint with the input paths.
        """
        fns = list(fn) if isinstance(fn, list | tuple) else [fn] * len(parts)
        if len(fns) != len(parts):
            raise ValueError(f"phase {phase}: {len(fns)} stages for {len(parts)} parts")
        fp = self.fingerprint(phase, settings, list(parts))
        out_dir = self.work_dir(phase, fp)
        write_rejects = bool(getattr(getattr(self.config, "output", None), "write_rejects", True))
        tasks = [
            Task(part_id(p), map_documents_task, {"fn": f, "src": p, "out_dir": out_dir, "write_rejects": write_rejects})
            for p, f in zip(parts, fns, strict=True)
        ]
        self.run_phase(phase, fp, tasks)
        return [fs.join(out_dir, f"part-{part_id(p)}.parquet") for p in parts]

    def partitions(self, inputs: Sequence[str]) -> int:
        """Shuffle partitions: ``runtime.shuffle_partitions``, else one per 256 MiB of ``inputs``."""
        self._settle()
        configured = getattr(getattr(self.config, "runtime", None), "shuffle_partitions", None)
        return configured or default_partitions(list(inputs))

    def map(
        self, phase: str, inputs: Sequence[str], fn: Callable[[str, int], TaskOutput], settings: Any,
        partitions: int = 1,
    ) -> PhaseOutput:
        """One task per input file: ``fn(path, index)``; its shuffle rows go to ``partitions`` partitions."""
        return self._stage(phase, list(inputs), [file_id(p) for p in inputs], fn, None, settings, partitions, "map")

    def reduce(
        self, phase: str, shuffled: Shuffled, fn: Callable[[pa.Table, int], TaskOutput], settings: Any
    ) -> PhaseOutput:
        """One task per partition of ``shuffled``: ``fn(rows, partition)``; rows it shuffles on go
        to as many partitions."""
        items = list(range(shuffled.partitions))
        ids = [f"p{p:05d}" for p in items]
        settings = [settings, {"shuffled": shuffled.fingerprint}]
        return self._stage(phase, items, ids, fn, shuffled, settings, shuffled.partitions, "reduce")

    def _stage(self, phase: str, items: list[Any], ids: list[str], fn: Callable[[Any, int], TaskOutput],
               shuffled: Shuffled | None, settings: Any, partitions: int, kind: str) -> PhaseOutput:
        fp = self.fingerprint(phase, settings, items if shuffled is None else len(items), partitions)
        out_dir = self.work_dir(phase, fp)
        tasks = [
            Task(t, stage_task, {"fn": fn, "item": item, "index": i, "shuffled": shuffled, "partitions": partitions,
                                 "out_dir": out_dir, "task_id": t})
            for i, (t, item) in enumerate(zip(ids, items, strict=True))
        ]
        results = self.run_phase(phase, fp, tasks, kind)
        paths = tuple(fs.join(out_dir, f"shuffle-{t}.arrow") for t in ids)
        return PhaseOutput(fp, out_dir, tuple(ids), tuple(results), Shuffled(paths, partitions, fp))

    def reject_files(self) -> list[tuple[str, str]]:
        """(phase, path) of every rejects file written by the phases of this run."""
        self._settle()
        out = []
        for record in self.phases:
            out += [(record.name, p) for p in fs.listdir(record.work_dir, ".parquet") if "/rejects-" in p]
        return out

    def publish(self, folder: str, files: Sequence[tuple[str, str]]) -> None:
        """Make ``DIR/<folder>`` hold exactly ``files`` ((target name, source path) pairs)."""
        self._settle()
        target = fs.join(self.run_dir, folder)
        fs.makedirs(target)
        wanted = {name for name, _ in files}
        for path in fs.listdir(target):
            if path.rsplit("/", 1)[-1] not in wanted:
                fs.remove(path)
        for name, src in files:
            fs.copy(src, fs.join(target, name))

    def manifest(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        self._settle()
        return {
            "version": __version__,
            "run_dir": self.run_dir,
            "wall_seconds": round(time.time() - self.started, 3),
            "phases": [p.as_dict() for p in self.phases],
            **(extra or {}),
        }

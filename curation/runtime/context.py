"""The run folder and the phases run into it.

Every phase's work lives in ``DIR/work/<phase>/<fingerprint>/``; the fingerprint hashes the
phase's own settings and its inputs (whose paths carry the upstream fingerprints). Change a
threshold and only the phases that depend on it get a new fingerprint and run again; everything
upstream is found finished on disk. ``docs/``, ``rejects/`` and ``shards/`` are published views
of the current fingerprints.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from curation import __version__
from curation.io import fs
from curation.runtime.executor import Counters, Task, run_tasks
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
            "wall_seconds": round(self.wall_seconds, 3),
            "task_seconds": round(self.task_seconds, 3),
            "in": self.docs_in,
            "out": self.docs_out,
            "rejected": dict(sorted(self.rejected.items())),
            "counters": dict(sorted(self.counters.items())),
        }


def part_id(path: str) -> str:
    """The task id carried in a part file name: ``.../part-<id>.parquet`` -> ``<id>``."""
    name = path.rsplit("/", 1)[-1]
    if not (name.startswith("part-") and name.endswith(".parquet")):
        raise ValueError(f"not a part file: {path}")
    return name[len("part-") : -len(".parquet")]


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

    def run_phase(self, phase: str, fp: str, tasks: Sequence[Task]) -> list[Counters]:
        """Run tasks under the phase's work dir, record their counters and return them."""
        record = PhaseRecord(phase, fp, self.work_dir(phase, fp))
        start = time.perf_counter()
        results = run_tasks(phase, tasks, fs.join(record.work_dir, "_done"))
        record.wall_seconds = time.perf_counter() - start
        aggregate(record, results)
        self.phases.append(record)
        return results

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

    def reject_files(self) -> list[tuple[str, str]]:
        """(phase, path) of every rejects file written by the phases of this run."""
        out = []
        for record in self.phases:
            out += [(record.name, p) for p in fs.listdir(record.work_dir, ".parquet") if "/rejects-" in p]
        return out

    def publish(self, folder: str, files: Sequence[tuple[str, str]]) -> None:
        """Make ``DIR/<folder>`` hold exactly ``files`` ((target name, source path) pairs)."""
        target = fs.join(self.run_dir, folder)
        fs.makedirs(target)
        wanted = {name for name, _ in files}
        for path in fs.listdir(target):
            if path.rsplit("/", 1)[-1] not in wanted:
                fs.remove(path)
        for name, src in files:
            fs.copy(src, fs.join(target, name))

    def manifest(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "version": __version__,
            "run_dir": self.run_dir,
            "wall_seconds": round(time.time() - self.started, 3),
            "phases": [p.as_dict() for p in self.phases],
            **(extra or {}),
        }

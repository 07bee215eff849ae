"""Apply a per-part document stage where each part needs its own stage object (its removals)."""

from __future__ import annotations

from collections.abc import Sequence

from curation.io import fs
from curation.runtime.context import DocumentFn, RunContext, map_documents_task, part_id
from curation.runtime.executor import Task


def map_parts(ctx: RunContext, phase: str, parts: Sequence[str], fns: Sequence[DocumentFn], upstream: str) -> list[str]:
    """Run ``fns[i]`` over ``parts[i]`` (one task per part); return the new parts.

    ``upstream`` fingerprints what the stage objects were built from.
    """
    fp = ctx.fingerprint(phase, upstream, list(parts))
    out_dir = ctx.work_dir(phase, fp)
    write_rejects = bool(getattr(getattr(ctx.config, "output", None), "write_rejects", True))
    tasks = [
        Task(part_id(p), map_documents_task, {"fn": fn, "src": p, "out_dir": out_dir, "write_rejects": write_rejects})
        for p, fn in zip(parts, fns)
    ]
    ctx.run_phase(phase, fp, tasks)
    return [fs.join(out_dir, f"part-{part_id(p)}.parquet") for p in parts]

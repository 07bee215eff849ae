"""Running per-file summaries where the run's tasks run: as Ray tasks when a Ray session is up, on the
run's forked workers when it has them, else in this process.

Statistics only ever merge what these return (summaries), so the driver holds no per-document
state either way; on a cluster the files are read where the tasks run, not on the driver.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from curation.runtime import executor


def map_tasks(fn: Callable[..., Any], calls: Sequence[tuple]) -> list[Any]:
    """``[fn(*args) for args in calls]``, in that order."""
    ray = sys.modules.get("ray")  # no import: a process that never imported Ray has no session
    if ray is not None and ray.is_initialized() and calls:
        remote = ray.remote(fn)
        return ray.get([remote.remote(*args) for args in calls])
    pool = executor.SETTINGS.forked
    if pool is not None and len(calls) > 1:
        handles = [pool.submit(fn, *args, name=f"statistics: {fn.__name__}") for args in calls]
        pending = set(handles)
        while pending:
            pending.difference_update(pool.wait(pending))
        return [pool.result(h) for h in handles]
    return [fn(*args) for args in calls]

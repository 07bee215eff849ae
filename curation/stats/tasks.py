"""Running per-file summaries: as Ray tasks when a Ray session is up, else in this process.

Statistics only ever merge what these return (summaries), so the driver holds no per-document
state either way; on a cluster the files are read where the tasks run, not on the driver.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any


def map_tasks(fn: Callable[..., Any], calls: Sequence[tuple]) -> list[Any]:
    """``[fn(*args) for args in calls]``, in that order."""
    ray = sys.modules.get("ray")  # no import: a process that never imported Ray has no session
    if ray is not None and ray.is_initialized() and calls:
        remote = ray.remote(fn)
        return ray.get([remote.remote(*args) for args in calls])
    return [fn(*args) for args in calls]

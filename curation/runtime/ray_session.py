"""Start (or join) Ray for a run and point the executor at it.

Embedded local Ray by default; ``--address``/``RAY_ADDRESS`` joins a cluster, and inside a
``ray job submit`` job Ray finds its cluster by itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from curation.runtime import executor


@contextmanager
def ray_session(runtime: Any) -> Iterator[None]:
    """Run the body with the executor on Ray; shut Ray down afterwards only if we started it."""
    import ray

    started = False
    if not ray.is_initialized():
        address = runtime.address or os.environ.get("RAY_ADDRESS")
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
        if address:
            kwargs["address"] = address
        else:
            kwargs["num_cpus"] = runtime.workers or os.cpu_count() or 1
        ray.init(**kwargs)
        started = True
    workers = runtime.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    previous = (executor.SETTINGS.use_ray, executor.SETTINGS.max_in_flight)
    executor.configure(use_ray=True, max_in_flight=workers, max_retries=runtime.max_retries, progress=runtime.progress)
    try:
        yield
    finally:
        executor.configure(
            use_ray=previous[0], max_in_flight=previous[1], max_retries=runtime.max_retries, progress=runtime.progress
        )
        if started:
            ray.shutdown()

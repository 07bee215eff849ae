"""Shared fixtures: the shared data folder (skipped when absent) and an embedded Ray session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout; tests that need it skip cleanly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ray_local():
    """One embedded local Ray (2 CPUs) for the whole session; the executor runs tasks on it."""
    import ray

    from curation.runtime import executor

    # Ray workers must import task functions defined in test modules.
    tests_dir = str(Path(__file__).parent)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [tests_dir, os.environ.get("PYTHONPATH")]))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    executor.configure(use_ray=True, max_in_flight=2, progress=False)
    yield ray
    executor.configure(use_ray=False, max_in_flight=1, progress=False)
    ray.shutdown()

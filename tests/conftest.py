"""Shared fixtures: the shared data folder (skipped when absent) and an embedded Ray session."""

from __future__ import annotations

import dataclasses
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


@pytest.fixture(autouse=True)
def in_process_executor():
    """Every test starts with the in-process executor and leaves the settings as it found them."""
    from curation.runtime import executor

    saved = dataclasses.replace(executor.SETTINGS)
    executor.configure(use_ray=False, max_in_flight=1, progress=False)
    yield
    if executor.SETTINGS.forked is not None:  # the test's forked workers end with it
        executor.SETTINGS.forked.close()
    for field in dataclasses.fields(saved):
        setattr(executor.SETTINGS, field.name, getattr(saved, field.name))


@pytest.fixture(scope="session")
def ray_session_cluster():
    """One embedded local Ray (2 CPUs) for the whole session."""
    import ray

    # Ray workers must import task functions defined in test modules.
    tests_dir = str(Path(__file__).parent)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [tests_dir, os.environ.get("PYTHONPATH")]))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def ray_local(ray_session_cluster, in_process_executor):
    """The executor runs this test's tasks on the session's embedded Ray."""
    from curation.runtime import executor

    executor.configure(use_ray=True, max_in_flight=2, progress=False)
    return ray_session_cluster


@pytest.fixture(scope="session")
def bundled_llm():
    """The bundled SmolLM2-135M-Instruct on the local transformers backend, loaded once (~20 s) for
    every labelling test of the session."""
    from classifiers.backends import TransformersBackend

    return TransformersBackend(batch_size=8)

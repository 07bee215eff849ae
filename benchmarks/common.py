"""Helpers shared by the benchmarks: the shared data folder, timing, results files, peak memory, bytecode."""

from __future__ import annotations

import compileall
import json
import platform
import resource
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"


def machine() -> dict:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }


@contextmanager
def timer():
    """Yields a dict whose ``seconds`` is filled in when the block ends."""
    out: dict[str, float] = {}
    start = time.perf_counter()
    yield out
    out["seconds"] = time.perf_counter() - start


def peak_rss_mib() -> float:
    """Peak resident memory of this process and its finished children, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def save(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **result}, indent=2) + "\n")
    return path


def compile_ours() -> None:
    """Byte-compile our packages, as pip compiled the anchors' (datatrove) at install: an editable install
    is compiled on first import only, and not at all under PYTHONDONTWRITEBYTECODE (set on this machine),
    where every process of ours would compile the pipeline from source (0.2 s each)."""
    for package in ("curation", "classifiers"):
        compileall.compile_dir(ROOT / package, quiet=1)

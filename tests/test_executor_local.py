"""``runtime.executor``: a one-worker local run executes its tasks in the driver process, a several-worker
one on forked worker processes, with the same tasks, markers and outputs as on Ray, so that each can
resume the others' runs; a forked worker killed in the middle of a task changes nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from curation.config import load_config
from curation.io import fs
from curation.runtime.ray_session import where_tasks_run
from curation.testing import write_sample_crawl
from helpers import QUICKSTART, folder_digest, start_run, wait_for

CONFIG = QUICKSTART


@pytest.mark.parametrize(
    ("overrides", "env", "where"),
    [
        (["runtime.workers=1"], {}, "local"),
        (["runtime.workers=2"], {}, "processes"),
        (["runtime.workers=2", "runtime.address=127.0.0.1:6379"], {}, "ray"),
        (["runtime.workers=1"], {"RAY_ADDRESS": "127.0.0.1:6379"}, "ray"),
        (["runtime.workers=2", "runtime.executor=ray"], {}, "ray"),
        (["runtime.workers=4", "runtime.executor=local"], {}, "local"),
        (["runtime.workers=1", "runtime.executor=processes"], {}, "processes"),
    ],
)
def test_auto_runs_one_machine_without_ray_and_a_cluster_on_ray(monkeypatch, overrides, env, where):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setitem(sys.modules, "ray", None)  # no Ray session in this process (another test may hold one)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert where_tasks_run(load_config(None, overrides).runtime) == where


def test_unset_workers_follow_the_machine_cores(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setitem(sys.modules, "ray", None)
    runtime = load_config(None).runtime
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert where_tasks_run(runtime) == "local"
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert where_tasks_run(runtime) == "processes"


def test_a_ray_session_already_open_is_used(ray_local):
    assert where_tasks_run(load_config(None, ["runtime.workers=1"]).runtime) == "ray"


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("crawl") / "crawl.warc.gz"
    write_sample_crawl(str(path), docs=120, seed=3)
    return path


def run_in_subprocess(crawl: Path, out: Path, *overrides: str) -> dict:
    """``run_pipeline`` in a fresh interpreter; returns the manifest and whether Ray was imported."""
    script = (
        "import json, sys\n"
        "from curation.config import load_config\n"
        "from curation.pipeline import run_pipeline\n"
        "overrides = sys.argv[4:] + ['input.paths=[' + sys.argv[2] + ']', 'runtime.progress=false']\n"
        "cfg = load_config(sys.argv[1], overrides)\n"
        "manifest = run_pipeline(cfg, sys.argv[3])\n"
        "print(json.dumps({'ray_imported': 'ray' in sys.modules, 'manifest': manifest}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(CONFIG), str(crawl), str(out), "input.split_bytes=60000",
                           *overrides], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def phase_markers(run: Path) -> dict[str, dict]:
    """Every phase marker's task counters, timings left out."""
    out = {}
    for path in sorted(run.glob("work/*/*/_done/_phase.done.json")):
        counters = fs.read_json(str(path))
        out[str(path.relative_to(run))] = {t: {k: v for k, v in c.items() if k != "seconds"}
                                           for t, c in counters.items()}
    return out


def run_statistics(run: Path) -> dict[str, dict]:
    """The run's statistics files that hold no timings."""
    return {name: fs.read_json(str(run / "stats" / f"{name}.json")) for name in ("documents", "shards", "dedup")}


@pytest.mark.ray
@pytest.mark.slow
def test_in_process_forked_and_ray_runs_are_equal_and_each_resumes_the_others(crawl, tmp_path):
    local, forked, on_ray = tmp_path / "local", tmp_path / "forked", tmp_path / "ray"
    first = run_in_subprocess(crawl, local, "runtime.workers=1")
    assert not first["ray_imported"]  # no Ray daemons, no worker processes
    second = run_in_subprocess(crawl, forked, "runtime.workers=2")
    assert not second["ray_imported"]
    third = run_in_subprocess(crawl, on_ray, "runtime.workers=2", "runtime.executor=ray")
    assert third["ray_imported"]
    assert first["manifest"]["phases"][0]["tasks"] > 1
    assert folder_digest(local) == folder_digest(forked) == folder_digest(on_ray)
    assert phase_markers(local) == phase_markers(forked) == phase_markers(on_ray)
    # the run statistics, computed in the driver, on the forked workers and on Ray
    assert run_statistics(local) == run_statistics(forked) == run_statistics(on_ray)

    # A finished run resumed by another executor redoes nothing.
    for run, executor in ((local, "ray"), (forked, "local"), (on_ray, "processes")):
        before = folder_digest(run)
        again = run_in_subprocess(crawl, run, "runtime.workers=2", f"runtime.executor={executor}")
        phases = again["manifest"]["phases"]
        assert all(p["resumed_tasks"] == p["tasks"] for p in phases), [p["name"] for p in phases]
        assert folder_digest(run) == before


def stop_a_busy_worker(driver: psutil.Process) -> psutil.Process | None:
    """A forked worker of ``driver`` stopped (SIGSTOP) while it runs a task, or None if none is busy.

    A worker is named ``curate-task`` while it runs one; once stopped it can neither finish its task nor
    take another, so the name read after the stop says what a kill will land on.
    """
    for worker in driver.children():
        try:
            if worker.name() != "curate-task":
                continue
            worker.send_signal(signal.SIGSTOP)
            if worker.name() == "curate-task":
                return worker
            worker.send_signal(signal.SIGCONT)
        except psutil.Error:
            continue
    return None


@pytest.mark.slow
def test_a_forked_worker_killed_mid_task_is_replaced_and_the_task_retried_with_the_same_result(crawl, tmp_path):
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    run_in_subprocess(crawl, clean, "runtime.workers=1")
    run = start_run(crawl, killed, "--set", "runtime.workers=2", "--set", "runtime.executor=processes")
    try:
        driver = psutil.Process(run.pid)
        victim = wait_for(lambda: stop_a_busy_worker(driver), run, timeout=300)
        assert victim is not None, "no busy worker was seen before the run ended"
        victim.kill()
        _, stderr = run.communicate(timeout=900)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == 0, stderr[-3000:]
    assert f"worker process {victim.pid} died (signal SIGKILL) running " in stderr, stderr[-3000:]
    assert "running it again (retry 1 of" in stderr
    assert folder_digest(killed) == folder_digest(clean)
    assert phase_markers(killed) == phase_markers(clean)

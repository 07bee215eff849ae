"""The pipeline on real Ray, and what it does when things break.

A `ray start --head` cluster with `ray job submit`; the driver killed mid-run; a worker process
of that cluster killed while it runs a task (Ray's task records must show the retry); the disk
filling up (a quota file system, so it runs without root). Each time the result must equal a clean
run, byte for byte.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from curation.io import fs
from curation.testing import write_sample_crawl
from helpers import (BIN, TASK_FUNCTION, folder_digest, ray_head_cluster, run_args, runs_pipeline_task, start_run,
                     wait_for)
from quota_fs import plugin_dir, used_bytes

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("crawl") / "crawl.warc.gz"
    write_sample_crawl(str(path), docs=240, seed=7)
    return path


def curate(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "curate"), *args], capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def clean_dir(crawl, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean") / "run"
    result = curate(*run_args(crawl, out), timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def clean_run(clean_dir) -> dict[str, str]:
    return folder_digest(clean_dir)


@pytest.fixture(scope="module")
def cluster():
    with ray_head_cluster() as running:
        yield running


def test_job_submitted_to_a_real_cluster(crawl, cluster, tmp_path):
    out = tmp_path / "run"
    env = {**cluster["env"], "RAY_ADDRESS": cluster["dashboard"]}
    for _ in range(30):  # the job agent starts a little after the dashboard answers
        job = subprocess.run(
            [str(BIN / "ray"), "job", "submit", "--", str(BIN / "curate"), *run_args(crawl, out)],
            capture_output=True, text=True, env=env, timeout=900,
        )
        if "No available agent to submit job" not in job.stderr + job.stdout:
            break
        time.sleep(2)
    assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-3000:]
    assert "succeeded" in job.stdout
    manifest = fs.read_json(str(out / "manifest.json"))
    extract = manifest["phases"][0]
    assert extract["name"] == "extract" and extract["tasks"] > 1 and extract["out"] > 0
    assert list((out / "docs").glob("*.parquet"))


def test_driver_killed_mid_run_resumes_to_the_clean_result(crawl, clean_run, tmp_path):
    out = tmp_path / "resumed"
    proc = start_run(crawl, out)
    markers = wait_for(lambda: len(list((out / "work").rglob("*.done.json"))) >= 2, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert markers, "the run finished or failed before it could be killed"
    assert not (out / "manifest.json").exists()
    finished = {p.name for p in (out / "work").rglob("*.done.json")}

    second = curate(*run_args(crawl, out), timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    manifest = fs.read_json(str(out / "manifest.json"))
    assert sum(p["resumed_tasks"] for p in manifest["phases"]) >= len(finished) > 0
    assert folder_digest(out) == clean_run


def busy_worker(temp_dir: str) -> tuple[psutil.Process, str] | None:
    """A worker of this test's cluster that is running one of our tasks, and its Ray worker id.

    Both come from the cluster's own session logs (``python-core-worker-<id>_<pid>.log``), so no
    other Ray on the machine is touched; Ray titles a worker after the task it runs (``ray::IDLE`` when idle).
    """
    for log in Path(temp_dir, "session_latest", "logs").glob("python-core-worker-*_*.log"):
        worker_id, _, pid = log.stem.removeprefix("python-core-worker-").rpartition("_")
        try:
            proc = psutil.Process(int(pid))
        except (psutil.Error, ValueError):
            continue
        if runs_pipeline_task(proc):
            return proc, worker_id
    return None


def task_attempts(cluster: dict) -> list[dict]:
    """Every attempt of our tasks that the cluster recorded (Ray's state API)."""
    listed = subprocess.run(
        [str(BIN / "ray"), "list", "tasks", "--address", cluster["dashboard"], "--filter", f"name={TASK_FUNCTION}",
         "--detail", "--format", "json", "--limit", "10000"],
        capture_output=True, text=True, env=cluster["env"], timeout=120, check=True,
    )
    return json.loads(listed.stdout)


def test_worker_killed_mid_task_is_retried_and_the_result_is_unchanged(crawl, clean_run, cluster, tmp_path):
    out = tmp_path / "run"
    proc = start_run(crawl, out, "--address", cluster["address"], env=cluster["env"])
    busy = wait_for(lambda: busy_worker(cluster["temp_dir"]), proc)
    assert busy is not None, "no task was seen running"
    victim, worker_id = busy
    victim.kill()
    _, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stderr[-3000:]
    attempts = task_attempts(cluster)
    killed = [a for a in attempts if a["worker_id"] == worker_id and a["state"] == "FAILED"]
    assert killed and killed[0]["error_type"] == "WORKER_DIED", "the kill did not land on a running task"
    again = [a for a in attempts if a["task_id"] == killed[0]["task_id"] and a["attempt_number"] > 0]
    assert [a["state"] for a in again] == ["FINISHED"], "the killed task was not retried"
    manifest = fs.read_json(str(out / "manifest.json"))
    assert manifest["phases"][0]["name"] == "extract" and manifest["phases"][0]["tasks"] > 1
    assert folder_digest(out) == clean_run


def test_disk_full_fails_with_one_clear_line_and_keeps_finished_work(crawl, clean_dir, clean_run, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    tests_dir = str(Path(__file__).parent)
    path = os.pathsep.join(filter(None, [str(plugin_dir(tmp_path / "plugin")), tests_dir, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "QUOTAFS_ROOT": str(disk), "QUOTAFS_BYTES": str(used_bytes(clean_dir) // 3)}
    out = disk / "run"
    result = curate(*run_args(crawl, f"quotafs://{out}"), timeout=900, env=env)
    assert result.returncode == 1, result.stderr[-3000:]
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "No space left on device" in error_lines[0], result.stderr[-3000:]
    assert "finished" in error_lines[0]
    markers = list((out / "work").rglob("*.done.json"))
    assert markers, "nothing finished before the disk filled up"
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name or ".quota-" in p.name], "a partial file was left"

    env["QUOTAFS_BYTES"] = str(100 * used_bytes(clean_dir))  # room again: the same command resumes
    second = curate(*run_args(crawl, f"quotafs://{out}"), timeout=900, env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    manifest = fs.read_json(str(out / "manifest.json"))
    assert sum(p["resumed_tasks"] for p in manifest["phases"]) >= len(markers)
    assert folder_digest(out) == clean_run

"""The pipeline on real Ray, and what it does when things break.

A `ray start --head` cluster with `ray job submit`; the driver killed mid-run; a worker process
killed mid-task; the disk filling up. Each time the result must equal a clean run, byte for byte.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from curation.io import fs
from curation.testing import write_sample_crawl
from helpers import BIN, folder_digest, ray_head_cluster

pytestmark = [pytest.mark.ray, pytest.mark.slow]
CONFIG = Path(__file__).parents[1] / "configs" / "quickstart.yaml"


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("crawl") / "crawl.warc.gz"
    write_sample_crawl(str(path), docs=240, seed=7)
    return path


def curate(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "curate"), *args], capture_output=True, text=True, **kwargs)


def run_args(crawl: Path, out: Path, *extra: str) -> list[str]:
    # Small tasks so the run has many of them to finish, kill and resume.
    return ["run", str(CONFIG), "--input", str(crawl), "--output", str(out),
            "--set", "input.split_bytes=60000", "--set", "runtime.progress=false", *extra]


@pytest.fixture(scope="module")
def clean_run(crawl, tmp_path_factory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("clean") / "run"
    result = curate(*run_args(crawl, out), timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder_digest(out)


def test_job_submitted_to_a_real_cluster(crawl, tmp_path):
    out = tmp_path / "run"
    with ray_head_cluster() as cluster:
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


def start_run(crawl: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "curate"), *run_args(crawl, out)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(condition, proc: subprocess.Popen, timeout: float = 600):
    """Poll ``condition()`` until it returns something truthy, or the run ends."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    return None


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


def running_task_process() -> psutil.Process | None:
    """A Ray worker busy with one of our tasks (Ray titles it after the task function)."""
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if cmdline and cmdline[0].startswith("ray::_run_and_mark"):
            return proc
    return None


def test_worker_killed_mid_task_is_retried_and_the_result_is_unchanged(crawl, clean_run, tmp_path):
    out = tmp_path / "run"
    proc = start_run(crawl, out)
    victim = wait_for(running_task_process, proc)
    assert victim is not None, "no task was seen running"
    victim.kill()
    _, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stderr[-3000:]
    manifest = fs.read_json(str(out / "manifest.json"))
    assert manifest["phases"][0]["name"] == "extract" and manifest["phases"][0]["tasks"] > 1
    assert folder_digest(out) == clean_run


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB tmpfs: a real 'No space left on device' (needs root and mount; skipped otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_fails_with_one_clear_line_and_keeps_finished_work(crawl, clean_run, small_disk, tmp_path):
    out = small_disk / "run"
    result = curate(*run_args(crawl, out), timeout=900)
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "No space left on device" in error_lines[0], result.stderr[-3000:]
    assert "finished" in error_lines[0]
    markers = list((out / "work").rglob("*.done.json"))
    assert markers, "nothing finished before the disk filled up"
    assert not list(out.rglob("*.tmp-*")), "a partial file was left behind"

    moved = tmp_path / "run"  # the same folder on a disk with room: the run resumes from it
    subprocess.run(["cp", "-a", str(out), str(moved)], check=True)
    second = curate(*run_args(crawl, moved), timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    manifest = fs.read_json(str(moved / "manifest.json"))
    assert sum(p["resumed_tasks"] for p in manifest["phases"]) >= len(markers)
    assert folder_digest(moved) == clean_run

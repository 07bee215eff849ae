"""The pipeline on real Ray: a `ray start --head` cluster with `ray job submit`, and a driver killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curation.io import fs
from curation.sample_crawl import write_sample_crawl
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


def test_job_submitted_to_a_real_cluster(crawl, tmp_path):
    out = tmp_path / "run"
    with ray_head_cluster() as cluster:
        env = {**os.environ, "RAY_ADDRESS": cluster["dashboard"]}
        job = subprocess.run(
            [str(BIN / "ray"), "job", "submit", "--", str(BIN / "curate"), *run_args(crawl, out)],
            capture_output=True, text=True, env=env, timeout=900,
        )
    assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-3000:]
    assert "succeeded" in job.stdout
    manifest = fs.read_json(str(out / "manifest.json"))
    extract = manifest["phases"][0]
    assert extract["name"] == "extract" and extract["tasks"] > 1 and extract["out"] > 0
    assert list((out / "docs").glob("*.parquet"))


def test_driver_killed_mid_run_resumes_to_the_clean_result(crawl, tmp_path):
    clean, resumed = tmp_path / "clean", tmp_path / "resumed"
    assert curate(*run_args(crawl, clean), timeout=900).returncode == 0

    proc = subprocess.Popen([str(BIN / "curate"), *run_args(crawl, resumed)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    markers: list[Path] = []
    while time.time() < deadline and proc.poll() is None:
        markers = list((resumed / "work").rglob("*.done.json"))
        if len(markers) >= 2:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert markers, "the run finished or failed before it could be killed"
    assert not (resumed / "manifest.json").exists()
    finished = {p.name for p in (resumed / "work").rglob("*.done.json")}

    second = curate(*run_args(crawl, resumed), timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    manifest = fs.read_json(str(resumed / "manifest.json"))
    assert sum(p["resumed_tasks"] for p in manifest["phases"]) >= len(finished) > 0
    assert folder_digest(resumed) == folder_digest(clean)

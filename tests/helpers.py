"""Test helpers: free ports, a real `ray start --head` cluster on 127.0.0.1, folder comparison."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
QUICKSTART = Path(__file__).parents[1] / "configs" / "quickstart.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def ray_head_cluster(num_cpus: int = 2):
    """A real Ray head node on 127.0.0.1 (with the job server); stopped by killing its process group.

    ``ray stop`` would also stop other Ray instances on this machine, so it is not used.
    """
    port, dash = free_port(), free_port()
    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    # The cluster's own auth token (~/.ray/auth_token is shared by every Ray on this machine);
    # clients get it through ``env``.
    env = {**os.environ, "RAY_AUTH_MODE": "token",
           "RAY_AUTH_TOKEN": os.environ.get("RAY_AUTH_TOKEN") or secrets.token_hex(32)}
    proc = subprocess.Popen(
        [str(BIN / "ray"), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
         f"--num-cpus={num_cpus}", "--include-dashboard=true", "--dashboard-host=127.0.0.1",
         f"--dashboard-port={dash}", f"--temp-dir={temp_dir}", "--disable-usage-stats",
         # Fixed default ports (e.g. the job agent's 52365) may be held by another Ray on this machine.
         f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
         f"--runtime-env-agent-port={free_port()}", f"--metrics-export-port={free_port()}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", dash), timeout=1):
                    break
            except OSError:
                time.sleep(1)
        else:
            raise RuntimeError("ray head did not start")
        time.sleep(3)  # the job agent comes up just after the dashboard
        yield {"address": f"127.0.0.1:{port}", "dashboard": f"http://127.0.0.1:{dash}", "env": env, "temp_dir": temp_dir}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)  # `ray start --block` often ignores SIGTERM; nothing of the test outlives it
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(temp_dir, ignore_errors=True)


TASK_FUNCTION = "_run_and_mark"
"""The executor's remote function: Ray lists its attempts under this name and titles a worker running
it ``ray::_run_and_mark`` (an idle worker ``ray::IDLE``, a node's agents ``ray::DashboardAgent``, ...)."""


def runs_pipeline_task(proc: psutil.Process) -> bool:
    """Whether ``proc`` is a Ray worker running one of the pipeline's tasks right now."""
    try:
        return (proc.cmdline() or [""])[0].startswith(f"ray::{TASK_FUNCTION}")
    except psutil.Error:
        return False


def folder_digest(root: Path, folders=("docs", "rejects", "shards")) -> dict[str, str]:
    """sha256 of every output file under the given run sub-folders (manifests with timings excluded)."""
    out = {}
    for folder in folders:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def run_args(crawl: Path | str, out: Path | str, *extra: str) -> list[str]:
    """``curate run`` of ``configs/quickstart.yaml`` with small tasks, so that the run has many of them to
    finish, kill and resume."""
    return ["run", str(QUICKSTART), "--input", str(crawl), "--output", str(out),
            "--set", "input.split_bytes=60000", "--set", "runtime.progress=false", *extra]


def start_run(crawl: Path, out: Path, *extra: str, env: dict | None = None) -> subprocess.Popen:
    """``run_args`` started in its own session (so that a test can kill its whole process group), stderr piped."""
    return subprocess.Popen([str(BIN / "curate"), *run_args(crawl, out), *extra], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def wait_for(condition, proc: subprocess.Popen, timeout: float = 600):
    """Poll ``condition()`` until it returns something truthy, or the run ends."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    return None

"""Several Ray nodes that share nothing but object storage: the whole run on s3://, as on a real cluster.

A real S3 API server (moto, on 127.0.0.1) and a real Ray cluster of three nodes (`ray start --head`
with no CPUs, as a cluster launcher's head, plus two `ray start --address` workers, each with its own
temp dir), so every task runs on a node other than the driver's. The nodes get credentials from
their own environment; the endpoint reaches them only through the config (`storage.options`).
Each run must give the same bytes as a single-node run on a local disk: clean, with a worker node
killed while it runs a task, and with the driver killed and the same command run again.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import psutil
import pytest

from curation.testing import write_sample_crawl
from helpers import BIN, folder_digest, free_port, runs_pipeline_task

pytestmark = [pytest.mark.slow, pytest.mark.ray]
CONFIG = Path(__file__).parents[1] / "configs" / "quickstart.yaml"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
OUTPUTS = ("docs", "rejects", "shards")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without storage or Ray settings that could leak into the nodes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FSSPEC_", "RAY_ADDRESS"))}
    return {**env, **extra}


def wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{what} did not start")


def process_tree(proc: subprocess.Popen) -> list[psutil.Process]:
    """A process started here and every process under it (nothing else on this machine)."""
    try:
        return [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def signal_each(family: list[psutil.Process], sig: int) -> None:
    for p in family:
        try:
            p.send_signal(sig)
        except psutil.NoSuchProcess:
            pass


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a process started here and every process under it."""
    signal_each(process_tree(proc), signal.SIGKILL)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto S3 server with one bucket; yields an s3fs client and the endpoint."""
    import s3fs

    port = free_port()
    proc = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env())
    try:
        wait_port(port, proc, "moto_server")
        endpoint = f"http://127.0.0.1:{port}"
        client = s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=endpoint, use_listings_cache=False)
        client.mkdir("bucket")
        yield {"fs": client, "endpoint": endpoint}
    finally:
        kill_tree(proc)


def versioned_bucket(s3: dict, name: str):
    """A bucket with S3 versioning on, so every write of a key leaves a version to count; its boto3 client."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3["endpoint"], aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    client.create_bucket(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return client


def write_counts(client, bucket: str) -> Counter[str]:
    """How many times each key of a versioned bucket was written (its versions, delete markers excluded)."""
    counts: Counter[str] = Counter()
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        counts.update(f"{bucket}/{v['Key']}" for v in page.get("Versions", []))
    return counts


class Cluster:
    """A head without CPUs and two one-CPU worker nodes on 127.0.0.1, each node its own process tree."""

    def __init__(self, stack: ExitStack):
        self.token = secrets.token_hex(32)
        # The nodes' environment carries the credentials (as a node's instance role would); no endpoint.
        self.env = clean_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=self.token, **CREDENTIALS)
        self.port, dash = free_port(), free_port()
        self.address, self.dashboard = f"127.0.0.1:{self.port}", f"http://127.0.0.1:{dash}"
        self.stack = stack
        # A dead node is noticed after ~3 s instead of Ray's default ~15 s (5 missed checks, 3 s apart).
        checks = json.dumps({"health_check_period_ms": 1000, "health_check_failure_threshold": 3})
        self.head = self.start("--head", f"--port={self.port}", f"--ray-client-server-port={free_port()}",
                               "--num-cpus=0", "--include-dashboard=true",
                               "--dashboard-host=127.0.0.1", f"--dashboard-port={dash}", f"--system-config={checks}")
        wait_port(dash, self.head, "ray head")
        self.workers = [self.start(f"--address={self.address}", "--num-cpus=1") for _ in range(2)]
        self.wait_nodes(3)

    def start(self, *args: str) -> subprocess.Popen:
        temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")
        ports = [f"--{name}={free_port()}" for name in (
            "node-manager-port", "object-manager-port", "metrics-export-port", "dashboard-agent-listen-port",
            "dashboard-agent-grpc-port", "runtime-env-agent-port")]
        proc = subprocess.Popen(
            [str(BIN / "ray"), "start", "--block", "--node-ip-address=127.0.0.1", f"--temp-dir={temp_dir}",
             "--object-store-memory=100000000", "--disable-usage-stats", *ports, *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=self.env,
        )
        self.stack.callback(shutil.rmtree, temp_dir, ignore_errors=True)  # runs after the kill below
        self.stack.callback(kill_tree, proc)
        return proc

    def replace_worker(self, index: int) -> None:
        """A fresh worker node in place of a killed one (the dead one stays DEAD in Ray's records)."""
        kill_tree(self.workers[index])
        self.workers[index] = self.start(f"--address={self.address}", "--num-cpus=1")
        self.wait_nodes(3)

    def state(self, resource: str, **query: str) -> list[dict]:
        """Ray's state API (the dashboard's REST endpoint) without making this process a Ray driver."""
        url = f"{self.dashboard}/api/v0/{resource}?" + urlencode({"limit": "10000", **query})
        request = urllib.request.Request(url, headers={"authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["data"]["result"]["result"]

    def wait_nodes(self, count: int, timeout: float = 300) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if sum(n["state"] == "ALIVE" for n in self.state("nodes")) == count:
                    return
            except OSError:
                pass
            time.sleep(1)
        raise RuntimeError(f"the cluster did not reach {count} live nodes")


@pytest.fixture(scope="module")
def cluster(s3):
    with ExitStack() as stack:
        yield Cluster(stack)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory, s3) -> dict[str, str]:
    path = tmp_path_factory.mktemp("crawl") / "crawl.warc.gz"
    write_sample_crawl(str(path), docs=160, seed=7)
    s3["fs"].put(str(path), "bucket/crawl/crawl.warc.gz")
    return {"local": str(path), "s3": "s3://bucket/crawl/crawl.warc.gz"}


def run_args(inputs: str, out: str, *extra: str) -> list[str]:
    # Small byte ranges, so each phase has several tasks spread over both worker nodes.
    return [str(BIN / "curate"), "run", str(CONFIG), "--input", inputs, "--output", out,
            "--set", "input.split_bytes=80000", "--set", "runtime.progress=false", *extra]


def s3_args(cluster: Cluster, s3: dict, crawl: dict, out: str) -> list[str]:
    return run_args(crawl["s3"], out, "--address", cluster.address,
                    "--set", f"storage.options.s3.endpoint_url={s3['endpoint']}")


def curate(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)


def driver_env(cluster: Cluster) -> dict[str, str]:
    return dict(cluster.env)


def s3_digest(s3: dict, run: str) -> dict[str, str]:
    """sha256 of every file under the run's output folders, keyed like ``folder_digest``."""
    out = {}
    for folder in OUTPUTS:
        for path in sorted(s3["fs"].find(f"{run}/{folder}")):
            out[path[len(run) + 1:]] = hashlib.sha256(s3["fs"].cat_file(path)).hexdigest()
    return out


def markers(s3: dict, run: str) -> list[str]:
    """Completion markers (of tasks, or of whole phases) under the run's ``work/`` on S3."""
    return [p for p in s3["fs"].find(f"{run}/work") if p.endswith(".done.json")]


@pytest.fixture(scope="module")
def local_run(crawl, tmp_path_factory) -> dict[str, str]:
    """The reference: one node (embedded Ray), inputs and run folder on the local disk."""
    out = tmp_path_factory.mktemp("local") / "run"
    result = curate(run_args(crawl["local"], str(out), "--workers", "2"), clean_env())
    assert result.returncode == 0, result.stderr[-3000:]
    digest = folder_digest(out, OUTPUTS)
    assert any(k.startswith("shards/") for k in digest) and any(k.startswith("docs/") for k in digest)
    return digest


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_local_run_folder_refused_on_several_nodes_unless_shared(cluster, s3, crawl, tmp_path):
    out = tmp_path / "run"
    refused = curate(run_args(crawl["local"], str(out), "--address", cluster.address), driver_env(cluster))
    assert refused.returncode == 2, refused.stderr[-3000:]
    errors = error_lines(refused)
    assert len(errors) == 1 and errors[0].startswith(f"error: run folder {out} is a local path"), refused.stderr
    assert "runtime.shared_filesystem" in errors[0] and "3 now" in errors[0]
    assert not out.exists(), "nothing is written before the refusal"
    # Local inputs too: the workers on other nodes could not read them.
    refused = curate(s3_args(cluster, s3, {"s3": crawl["local"]}, "s3://bucket/runs/never"), driver_env(cluster))
    assert refused.returncode == 2 and error_lines(refused)[0].startswith("error: input "), refused.stderr[-3000:]
    assert not s3["fs"].exists("bucket/runs/never")

    # The nodes of this cluster do share one disk, so saying so makes the same run valid.
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": f"d{i}", "text": f"document {i} " * 30}) + "\n" for i in range(12)))
    accepted = curate(
        run_args(str(docs), str(out), "--address", cluster.address, "--set", "runtime.shared_filesystem=true",
                 "--set", "filters.enabled=false", "--set", "dedup.enabled=false", "--set", "mix.enabled=false",
                 "--set", "pack.seq_len=256"),
        driver_env(cluster),
    )
    assert accepted.returncode == 0, accepted.stderr[-3000:]
    assert json.loads((out / "manifest.json").read_text())["phases"][0]["out"] == 12


def test_whole_run_on_s3_over_three_nodes_equals_a_local_run(cluster, s3, crawl, local_run):
    run = "bucket/runs/clean"
    earlier_jobs = {t["job_id"] for t in cluster.state("tasks")}
    result = curate(s3_args(cluster, s3, crawl, f"s3://{run}"), driver_env(cluster))
    assert result.returncode == 0, result.stderr[-3000:]
    assert s3_digest(s3, run) == local_run
    manifest = json.loads(s3["fs"].cat_file(f"{run}/manifest.json"))
    assert manifest["phases"][0]["tasks"] > 2
    assert s3["fs"].find(f"{run}/stats")
    # Both worker nodes ran this run's tasks (the head has no CPUs): the run really was spread out.
    tasks = [t for t in cluster.state("tasks", detail="1") if t["job_id"] not in earlier_jobs]
    assert len({t["node_id"] for t in tasks if t.get("node_id")}) == 2


def test_driver_killed_then_rerun_resumes_from_the_markers_on_s3(cluster, s3, crawl, local_run):
    bucket = "resumed"
    client = versioned_bucket(s3, bucket)
    run = f"{bucket}/run"
    proc = subprocess.Popen(s3_args(cluster, s3, crawl, f"s3://{run}"), start_new_session=True, env=driver_env(cluster),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and len(markers(s3, run)) < 4:
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed: " + proc.stderr.read()[-3000:]
    kill_tree(proc)
    time.sleep(3)  # the cluster stops the dead driver's tasks; one may finish its marker meanwhile
    # Not ">= 4" again: a phase that ended between the poll and the kill folded its task markers into one.
    finished = markers(s3, run)
    assert finished and not s3["fs"].exists(f"{run}/manifest.json")

    before = write_counts(client, bucket)
    result = curate(s3_args(cluster, s3, crawl, f"s3://{run}"), driver_env(cluster))
    written = {key for key, n in write_counts(client, bucket).items() if n > before[key]}
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads(s3["fs"].cat_file(f"{run}/manifest.json"))
    assert sum(p["resumed_tasks"] for p in manifest["phases"]) >= finished_tasks(s3, finished)
    assert any(key.endswith(".done.json") for key in written), "the re-run wrote no marker at all"
    assert not set(finished) & set(written), "a task finished before the kill ran again"
    assert s3_digest(s3, run) == local_run


def finished_tasks(s3: dict, marker_paths: list[str]) -> int:
    """Tasks those markers say are done: a phase marker stands for its phase's tasks (and wins over task
    markers left beside it by a driver killed between writing it and removing them)."""
    by_dir: dict[str, set[str]] = {}
    for path in marker_paths:
        folder, name = path.rsplit("/", 1)
        by_dir.setdefault(folder, set()).add(name)
    return sum(len(json.loads(s3["fs"].cat_file(f"{folder}/_phase.done.json"))) if "_phase.done.json" in names
               else len(names) for folder, names in by_dir.items())


def busy_worker(node: subprocess.Popen) -> psutil.Process | None:
    """A Ray worker of this node running one of the pipeline's tasks."""
    try:
        procs = psutil.Process(node.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return None
    return next((p for p in procs if runs_pipeline_task(p)), None)


def test_worker_node_killed_mid_phase_ends_with_the_same_bytes(cluster, s3, crawl, local_run):
    # The node is stopped before its busy worker is checked again and killed, so the kill lands mid-task. Ray
    # may still count a task whose function had returned but whose reply was not sent as not retried: such a
    # try must still give the same bytes, and the scenario runs again on a fresh node.
    titles = []
    for attempt in range(3):
        run = f"bucket/runs/node-killed-{attempt}"
        retried, title = kill_a_busy_node_mid_run(cluster, s3, crawl, local_run, run)
        if retried:
            return
        titles.append(title)
        cluster.replace_worker(0)
    pytest.fail(f"no task was retried after killing a node busy with {titles}, in 3 tries")


def kill_a_busy_node_mid_run(cluster: Cluster, s3: dict, crawl: dict, local_run: dict, run: str) -> tuple[list, str]:
    """Run on the cluster, kill worker node 0 while it runs a task; check the bytes; return Ray's records
    of the run's retried task attempts and the killed worker's title."""
    earlier_jobs = {t["job_id"] for t in cluster.state("tasks")}
    proc = subprocess.Popen(s3_args(cluster, s3, crawl, f"s3://{run}"), start_new_session=True, env=driver_env(cluster),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    victim = cluster.workers[0]
    deadline = time.time() + 300
    busy = None
    # Kill the node while extraction runs, as soon as one of its workers is seen running a task. Tasks of
    # the later phases last ~10-20 ms, less than it takes to see one and kill it; an extraction task of
    # this split (~80 KB of WARC, a dozen pages) lasts ~0.2 s. The first marker says the phase is under way.
    while time.time() < deadline and proc.poll() is None and not markers(s3, run):
        time.sleep(0.05)
    while time.time() < deadline and proc.poll() is None and busy is None:
        if busy_worker(victim) is not None:
            # Stopped, a worker seen running a task can neither end it nor report it before the kill.
            family = process_tree(victim)
            signal_each(family, signal.SIGSTOP)
            busy = busy_worker(victim)
            if busy is None:  # it ended between the look and the stop
                signal_each(family, signal.SIGCONT)
        if busy is None:
            time.sleep(0.01)
    assert busy is not None and proc.poll() is None, "the node was never seen running a task"
    try:
        title = busy.cmdline()[0]
    except psutil.Error:  # it ended meanwhile: this try may see no retry
        title = "a task that ended before the kill"
    kill_tree(victim)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    assert s3_digest(s3, run) == local_run
    # The task the node was running ran again elsewhere: Ray records a second attempt.
    retried = [t for t in cluster.state("tasks", detail="1")
               if t["job_id"] not in earlier_jobs and int(t.get("attempt_number", 0)) > 0]
    return retried, title

"""The executor: markers make re-runs skip finished tasks; Ray retries tasks whose worker died."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from curation.io import fs
from curation.runtime.executor import Task, TaskFailed, run_tasks


def write_value(out: str, value: int, fail: bool = False) -> dict:
    if fail:
        raise ValueError("bad input")
    Path(out).with_suffix(".runs").open("a").write("x")
    fs.write_json(out, {"value": value})
    return {"in": 1, "out": 1, "value": value}


def die_once(flag: str, out: str) -> dict:
    """Kill the worker process the first time (as a node loss or OOM kill would)."""
    if not os.path.exists(flag):
        Path(flag).touch()
        os._exit(1)
    fs.write_json(out, {"ok": True})
    return {"in": 1}


def tasks(tmp_path, fail_at=None):
    return [
        Task(f"t{i}", write_value, {"out": str(tmp_path / f"out{i}.json"), "value": i, "fail": i == fail_at})
        for i in range(5)
    ]


def runs(tmp_path):
    return {p.stem: len(p.read_text()) for p in tmp_path.glob("*.runs")}


def test_failed_task_stops_the_phase_and_rerun_redoes_only_unfinished(tmp_path):
    markers = str(tmp_path / "_done")
    with pytest.raises(TaskFailed, match="t3.*ValueError: bad input"):
        run_tasks("p", tasks(tmp_path, fail_at=3), markers)
    assert runs(tmp_path) == {"out0": 1, "out1": 1, "out2": 1}
    results = run_tasks("p", tasks(tmp_path), markers)
    assert [r["value"] for r in results] == [0, 1, 2, 3, 4]
    assert [bool(r.get("resumed")) for r in results] == [True, True, True, False, False]
    assert runs(tmp_path) == {f"out{i}": 1 for i in range(5)}  # nothing ran twice


def test_duplicate_task_ids_are_refused(tmp_path):
    with pytest.raises(ValueError, match="duplicate"):
        run_tasks("p", tasks(tmp_path) + tasks(tmp_path)[:1], str(tmp_path / "_done"))


@pytest.mark.ray
def test_ray_retries_a_task_whose_worker_died(tmp_path, ray_local):
    flag, out = str(tmp_path / "died"), str(tmp_path / "out.json")
    results = run_tasks("crash", [Task("only", die_once, {"flag": flag, "out": out})], str(tmp_path / "_done"))
    assert os.path.exists(flag) and fs.read_json(out) == {"ok": True}
    assert results[0]["in"] == 1


@pytest.mark.ray
def test_ray_run_matches_in_process_results(tmp_path, ray_local):
    results = run_tasks("p", tasks(tmp_path), str(tmp_path / "_done"))
    assert [r["value"] for r in results] == list(range(5))


EMBEDDED_SESSION = """
import json, os, tempfile, threading, time
from types import SimpleNamespace
import psutil, ray
from curation.runtime import executor
from curation.runtime.executor import Task, run_tasks
from curation.runtime.ray_session import MINIMAL_AGENT_PORTS, ray_session
seen = {}
def warm_up(forks_workers):
    seen["forks_workers"] = forks_workers
    seen["thread"] = threading.current_thread().name
    seen["ray_ready_at_start"] = ray.is_initialized()
def span(i):
    start = time.time()
    time.sleep(0.3)
    return {"in": 1, "span": [start, time.time()]}
runtime = SimpleNamespace(executor="ray", address=None, workers=1, shared_filesystem=False, max_retries=0,
                          progress=False)
with ray_session(runtime, env={"CURATION_PROBE": "1"}, warm_up=warm_up):
    daemons = {" ".join(p.cmdline()) for p in psutil.Process().children(recursive=True)}
    seen["monitor_ran"] = any("autoscaler/_private/monitor.py" in d for d in daemons)
    seen["dashboard_head_ran"] = any("dashboard/dashboard.py" in d for d in daemons)
    seen["agent_minimal"] = any("raylet" in d and "--minimal" in d for d in daemons)
    seen["raylet_told_ports"] = any("raylet/raylet" in d and set(MINIMAL_AGENT_PORTS) <= set(d.split()) for d in daemons)
    seen["ports"] = sorted({v for k, v in ray.nodes()[0].items() if k in ("DashboardAgentListenPort", "MetricsExportPort")})
    seen["task_env"] = ray.get(ray.remote(lambda: os.environ.get("CURATION_PROBE")).remote())
    seen["queued"] = executor.SETTINGS.queued
    tasks = [Task(f"t{i}", span, {"i": i}) for i in range(4)]
    seen["spans"] = sorted(r["span"] for r in run_tasks("p", tasks, tempfile.mkdtemp()))
seen["left"] = [p.pid for p in psutil.Process().children(recursive=True) if p.is_running()
                and p.status() != psutil.STATUS_ZOMBIE]
print(json.dumps(seen))
"""


@pytest.mark.ray
def test_the_ray_internals_that_a_lean_embedded_start_patches_exist(ray_local):
    """Each patch of ``lean_embedded_start`` is skipped if Ray renames what it replaces, which makes an
    embedded start slower without failing it: this test fails instead, on the Ray upgrade that renames one."""
    import ray
    from ray._private import node, services, state, utils

    assert callable(node.Node.start_api_server) and callable(node.Node.start_monitor)
    assert callable(utils.get_dashboard_dependency_error)
    assert callable(services.start_ray_process) and callable(services.get_node)
    assert callable(services._get_gcs_client_options) and callable(state.GlobalState._initialize_global_state)
    assert {"NodeID", "Alive"} <= set(ray.nodes()[0])  # what the wait for the raylet's registration reads


@pytest.mark.ray
def test_an_embedded_session_warms_up_while_ray_starts_and_stops_every_daemon():
    """``warm_up`` runs beside ``ray.init`` (not after it); neither the dashboard head nor the autoscaler
    monitor starts and the raylet starts its dashboard agent without HTTP (``--minimal``) and is told
    that agent's ports (-1, as the agent itself would report them) rather than waiting for it, yet tasks
    run and see the run's environment; tasks queued in Ray beyond the workers still run one per worker; the
    session's end stops every process it started."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    out = subprocess.run([sys.executable, "-c", EMBEDDED_SESSION], capture_output=True, text=True, env=env,
                         timeout=120, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["thread"] == "curation-warm-up" and seen["ray_ready_at_start"] is False
    assert seen["forks_workers"] is False  # the tasks run in Ray's workers: the driver loads only its own
    assert not seen["monitor_ran"] and not seen["dashboard_head_ran"] and seen["agent_minimal"]
    assert seen["raylet_told_ports"] and seen["ports"] == [-1]
    assert seen["task_env"] == "1"
    assert seen["queued"] == 1 and all(b[0] >= a[1] for a, b in zip(seen["spans"], seen["spans"][1:]))
    assert seen["left"] == []


FORKED_SESSION = """
import json, os, sys, tempfile, time
from types import SimpleNamespace
import psutil
from curation.runtime.executor import Task, TaskFailed, run_tasks
from curation.runtime.ray_session import ray_session
loaded = {}
def warm_up(forks_workers):
    loaded["by"] = os.getpid() if forks_workers else None
def pid(i):
    time.sleep(0.2)
    return {"in": 1, "pid": os.getpid(), "warm": loaded.get("by")}
def fail():
    raise ValueError("bad part")
runtime = SimpleNamespace(executor="auto", address=None, workers=2, shared_filesystem=False, max_retries=0,
                          progress=False)
seen = {"driver": os.getpid()}
with ray_session(runtime, warm_up=warm_up):
    results = run_tasks("p", [Task(f"t{i}", pid, {"i": i}) for i in range(6)], tempfile.mkdtemp())
    seen["pids"] = [r["pid"] for r in results]
    seen["warm"] = sorted({r["warm"] for r in results})
    seen["during"] = sorted(c.pid for c in psutil.Process().children())
    try:
        run_tasks("f", [Task("bad", fail)], tempfile.mkdtemp())
    except TaskFailed as err:
        seen["failed"] = str(err)
seen["left"] = [p.pid for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
seen["ray_imported"] = "ray" in sys.modules
print(json.dumps(seen))
"""


def test_a_session_of_several_workers_on_one_machine_forks_them_after_its_warm_up():
    """``runtime.executor: auto`` with 2 workers and no cluster: no Ray; the tasks run in 2 processes
    forked from the driver after ``warm_up`` ran there (they see what it loaded), each task once; a task
    that raises fails the phase with its own error; the session's end leaves no worker behind."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    out = subprocess.run([sys.executable, "-c", FORKED_SESSION], capture_output=True, text=True, env=env,
                         timeout=120, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert not seen["ray_imported"]
    assert len(seen["pids"]) == 6 and seen["driver"] not in seen["pids"]
    assert set(seen["pids"]) == set(seen["during"]) and len(set(seen["pids"])) == 2
    assert seen["warm"] == [seen["driver"]]
    assert seen["failed"] == "task bad failed: ValueError: bad part"
    assert seen["left"] == []


def log_and_sleep(log: str, task_id: str, seconds: float) -> dict:
    with open(log, "a") as f:
        f.write(task_id + "\n")
    time.sleep(seconds)
    return {"in": 1}


@pytest.mark.ray
def test_ray_runs_the_longest_tasks_of_the_phase_before_first(tmp_path, ray_local):
    """A part keeps its task id from phase to phase: the ids that took longest go to Ray first (one task
    at a time here, so the start order is the submission order); counters stay in task order."""
    from curation.runtime import executor
    from curation.runtime.context import RunContext

    executor.configure(use_ray=True, max_in_flight=1, progress=False)
    ctx = RunContext(SimpleNamespace(), str(tmp_path / "run"))
    seconds = {"a": 0.0, "b": 0.4, "c": 0.2}

    def phase(name: str) -> list[str]:
        log = str(tmp_path / f"{name}.log")
        tasks = [Task(t, log_and_sleep, {"log": log, "task_id": t, "seconds": s}) for t, s in seconds.items()]
        assert [r["in"] for r in ctx.run_phase(name, "fp", tasks)] == [1, 1, 1]
        return Path(log).read_text().split()

    assert phase("first") == ["a", "b", "c"]  # nothing known yet: the given order
    assert phase("second") == ["b", "c", "a"]


def log_span(log: str, name: str, seconds: float, out: str = "", src: str | list[str] = "", fail: bool = False) -> dict:
    """Log when the task started and ended; write ``out`` (an output file) at the end."""
    start = time.time()
    time.sleep(seconds)
    if fail:
        raise ValueError("bad part")
    if out:
        Path(out).write_text(name)
    with open(log, "a") as f:
        f.write(json.dumps({"name": name, "start": start, "end": time.time()}) + "\n")
    return {"in": 1, "out": 1}


@pytest.mark.ray
def test_a_started_phase_feeds_the_next_one_part_by_part(tmp_path, ray_local):
    """After ``start_phase``, a task of the next phase that reads only its own part starts as soon as
    that part is written, while the started phase's longest task still runs; a task that names the
    started phase's folder or another task's part waits for all of it. Both phases are recorded in
    order, markers folded."""
    from curation.runtime.context import RunContext

    ctx = RunContext(SimpleNamespace(), str(tmp_path / "run"))
    log = str(tmp_path / "spans.log")
    first = ctx.work_dir("first", "fp")
    Path(first).mkdir(parents=True)
    seconds = {"a": 2.0, "b": 0.1, "c": 0.1}
    ctx.start_phase("first", "fp", [
        Task(t, log_span, {"log": log, "name": f"first/{t}", "seconds": s, "out": f"{first}/part-{t}.txt"})
        for t, s in seconds.items()
    ])
    reads = {"a": [f"{first}/part-a.txt"], "b": [f"{first}/part-b.txt"],
             "c": [f"{first}/part-c.txt", f"{first}/part-a.txt"],  # also another task's part
             "all": [first]}  # the whole folder
    second = [Task(t, log_span, {"log": log, "name": f"second/{t}", "seconds": 0.1, "src": src})
              for t, src in reads.items()]
    assert [r["in"] for r in ctx.run_phase("second", "fp", second)] == [1, 1, 1, 1]
    spans = {s["name"]: s for s in map(json.loads, Path(log).read_text().splitlines())}
    assert spans["second/b"]["start"] < spans["first/a"]["end"]
    assert all(spans[f"second/{t}"]["start"] >= spans["first/a"]["end"] for t in ("a", "c", "all"))
    assert [(p.name, p.tasks, p.docs_in) for p in ctx.phases] == [("first", 3, 3), ("second", 4, 4)]
    head, after = ctx.phases
    assert head.started_seconds < after.started_seconds < head.started_seconds + head.wall_seconds  # they overlap
    for phase in ("first", "second"):
        assert [p.name for p in Path(ctx.work_dir(phase, "fp"), "_done").iterdir()] == ["_phase.done.json"]


@pytest.mark.ray
def test_a_failure_in_a_started_phase_stops_the_next_one_and_keeps_finished_parts(tmp_path, ray_local):
    from curation.runtime.context import RunContext

    ctx = RunContext(SimpleNamespace(), str(tmp_path / "run"))
    log, first = str(tmp_path / "spans.log"), ctx.work_dir("first", "fp")
    Path(first).mkdir(parents=True)
    ctx.start_phase("first", "fp", [
        Task(t, log_span, {"log": log, "name": t, "seconds": 0.5 * (t == "bad"), "out": f"{first}/part-{t}.txt",
                           "fail": t == "bad"}) for t in ("ok", "bad")
    ])
    with pytest.raises(TaskFailed, match="task bad failed: ValueError: bad part"):
        ctx.run_phase("second", "fp", [Task(t, log_span, {"log": log, "name": f"second/{t}", "seconds": 0,
                                                          "src": f"{first}/part-{t}.txt"}) for t in ("ok", "bad")])
    assert (Path(first) / "_done" / "ok.done.json").exists() and not (Path(first) / "_done" / "bad.done.json").exists()

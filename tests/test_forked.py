"""Forked workers (``runtime.executor: processes``): calls run once each in worker processes forked from
this one, errors come back as they were raised, a worker that dies is replaced and its call retried."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import psutil
import pytest

from curation.io import fs
from curation.runtime import executor
from curation.runtime.executor import Task, TaskFailed, run_tasks
from curation.runtime.forked import ForkedWorkers, WorkerDied

LOADED_BEFORE_THE_FORK: dict[str, str] = {}


def whoami(i: int) -> tuple[int, int, str | None]:
    time.sleep(0.05)
    return i, os.getpid(), LOADED_BEFORE_THE_FORK.get("model")


def refuse(text: str) -> None:
    raise ValueError(f"bad {text}")


def die_until(flag_dir: str, deaths: int) -> str:
    """Kill this worker the first ``deaths`` times it is called (as an OOM kill or a segfault would)."""
    seen = len(list(Path(flag_dir).iterdir()))
    if seen < deaths:
        (Path(flag_dir) / str(seen)).touch()
        os._exit(1)
    return "survived"


def wait_for_file(path: str) -> str:
    while not os.path.exists(path):
        time.sleep(0.01)
    return "went"


def named(pid: int, name: str, timeout: float = 10) -> bool:
    """Whether process ``pid`` is (or within ``timeout`` seconds becomes) named ``name``."""
    deadline = time.monotonic() + timeout
    while psutil.Process(pid).name() != name and time.monotonic() < deadline:
        time.sleep(0.01)
    return psutil.Process(pid).name() == name


def workers_of(pool: ForkedWorkers) -> set[int]:
    return {c.pid for c in psutil.Process().children()} & set(pool.pids)


def test_calls_run_in_forked_workers_that_inherit_what_was_loaded_before():
    LOADED_BEFORE_THE_FORK["model"] = "loaded once in the driver"
    pool = ForkedWorkers(2)
    try:
        handles = [pool.submit(whoami, i) for i in range(6)]
        results = {}
        while len(results) < len(handles):
            for h in pool.wait([h for h in handles if h not in results]):
                results[h] = pool.result(h)
        assert sorted(r[0] for r in results.values()) == list(range(6))  # every call once
        pids = {r[1] for r in results.values()}
        assert len(pids) == 2 and os.getpid() not in pids
        assert {r[2] for r in results.values()} == {"loaded once in the driver"}
        assert workers_of(pool) == pids
    finally:
        pool.close()
        LOADED_BEFORE_THE_FORK.clear()
    assert not set(pool.pids) and not {c.pid for c in psutil.Process().children()} & pids  # reaped


def test_a_call_that_raises_comes_back_as_its_own_error_with_the_workers_traceback():
    pool = ForkedWorkers(1)
    try:
        handle = pool.submit(refuse, "part")
        assert pool.wait([handle]) == [handle]
        with pytest.raises(ValueError, match="bad part") as err:
            pool.result(handle)
        if sys.version_info >= (3, 11):  # exceptions carry notes
            assert "in a forked worker" in err.value.__notes__[0] and "in refuse" in err.value.__notes__[0]
        after = pool.submit(whoami, 1)  # the same worker serves the next call
        pool.wait([after])
        assert pool.result(after)[0] == 1
    finally:
        pool.close()


def test_a_dead_worker_is_replaced_and_its_call_retried_until_the_retries_are_spent(tmp_path, caplog):
    pool = ForkedWorkers(1, max_retries=2)
    try:
        survives = pool.submit(die_until, str(tmp_path), 2, name="part 7")  # dies twice, lives on the 2nd retry
        pool.wait([survives])
        assert pool.result(survives) == "survived"
        retries = [r.getMessage() for r in caplog.records if "died" in r.getMessage()]
        assert len(retries) == 2 and all("(exit code 1) running part 7" in m for m in retries)
        assert "retry 2 of 2" in retries[1]
        (tmp_path / "again").mkdir()
        dies = pool.submit(die_until, str(tmp_path / "again"), 3)
        pool.wait([dies])
        with pytest.raises(WorkerDied, match="running die_until died .exit code 1., 3 times"):
            pool.result(dies)
        assert len(list((tmp_path / "again").iterdir())) == 3
    finally:
        pool.close()


def test_a_worker_is_named_busy_while_it_runs_a_call_and_idle_between_calls(tmp_path):
    pool = ForkedWorkers(1)
    try:
        gate = tmp_path / "go"
        waiting = pool.submit(wait_for_file, str(gate))
        (pid,) = pool.pids
        assert named(pid, "curate-task")  # it waits for the file: busy until the file exists
        gate.touch()
        pool.wait([waiting])
        assert pool.result(waiting) == "went"
        assert named(pid, "curate-idle")
    finally:
        pool.close()


def test_cancel_kills_the_worker_of_a_running_call():
    pool = ForkedWorkers(1)
    try:
        slow = pool.submit(time.sleep, 60)
        (pid,) = pool.pids
        started = time.monotonic()
        pool.cancel([slow])
        assert time.monotonic() - started < 5
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        assert pool.pids == []
    finally:
        pool.close()


def write_value(out: str, value: int, fail: bool = False) -> dict:
    if fail:
        raise ValueError("bad input")
    Path(out).with_suffix(".runs").open("a").write("x")
    fs.write_json(out, {"value": value, "pid": os.getpid()})
    return {"in": 1, "out": 1, "value": value, "pid": os.getpid()}


def test_the_executor_on_forked_workers_marks_resumes_and_stops_at_a_failure(tmp_path):
    executor.configure(use_ray=False, forked=True, max_in_flight=1, progress=False)
    markers = str(tmp_path / "_done")

    def tasks(fail_at=None):
        return [Task(f"t{i}", write_value, {"out": str(tmp_path / f"out{i}.json"), "value": i, "fail": i == fail_at})
                for i in range(5)]

    with pytest.raises(TaskFailed, match="t3.*ValueError: bad input"):
        run_tasks("p", tasks(fail_at=3), markers)
    assert sorted(p.stem for p in tmp_path.glob("*.runs")) == ["out0", "out1", "out2"]
    executor.configure(use_ray=False, forked=True, max_in_flight=2, progress=False)
    results = run_tasks("p", tasks(), markers)
    assert [r["value"] for r in results] == [0, 1, 2, 3, 4]
    assert [bool(r.get("resumed")) for r in results] == [True, True, True, False, False]
    assert all(len(p.read_text()) == 1 for p in tmp_path.glob("*.runs"))  # nothing ran twice
    assert os.getpid() not in {r["pid"] for r in results}
    executor.configure(use_ray=False, max_in_flight=1, progress=False)  # ends the workers

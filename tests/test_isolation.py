"""Crash-isolated extraction: a page that kills the parser for real costs that page only.

The crash is real (the forked child aborts, segfaults or hangs with SIGALRM blocked); the parser is
made to crash through a patched ``Extractor.extract_html``, which the forked children inherit (each
test starts and ends without a child, so a child forked before a patch is never reused).
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import signal
import time

import pyarrow as pa
import pytest

from curation.config import ExtractConfig
from curation.extract.html import Extractor
from curation.extract import isolate
from curation.extract.isolate import map_isolated

PAGE = """<html><body><article><h1>Page {i}</h1>
<p>Hydrologists measure the discharge of river number {i} by combining the cross-section area with the
mean velocity of the water, and they repeat the measurement at several depths.</p></article></body></html>"""


def raw_table(contents: list[str]) -> pa.Table:
    n = len(contents)
    return pa.table({
        "id": [f"r{i}" for i in range(n)], "url": [f"https://example.org/{i}" for i in range(n)],
        "date": [None] * n, "source": ["test"] * n, "meta": ["{}"] * n,
        "content": pa.array(contents, type=pa.large_string()), "content_kind": ["html"] * n,
    })


@pytest.fixture(autouse=True)
def fresh_child():
    isolate.shutdown()
    yield
    isolate.shutdown()


def crashing_parser(monkeypatch) -> None:
    """Pages marked CRASH-ABORT / CRASH-SEGV / CRASH-HANG kill or stall the process that parses them."""
    real = Extractor.extract_html

    def extract_html(self, html, url):
        if "CRASH-" in html:
            faulthandler.disable()  # pytest's traceback dump of the dying child is noise here
        if "CRASH-ABORT" in html:
            os.abort()
        if "CRASH-SEGV" in html:
            ctypes.string_at(0)  # a real segmentation fault
        if "CRASH-MEMORY" in html:
            grown = [bytearray(2**26) for _ in range(64)]  # a parse that runs away: 4 GiB, 64 MiB at a time
            return str(len(grown))
        if "CRASH-HANG" in html:
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])  # as a hang inside C code would
            time.sleep(60)
        return real(self, html, url)

    monkeypatch.setattr(Extractor, "extract_html", extract_html)


def test_crashing_pages_are_rejected_and_every_other_page_comes_through(monkeypatch):
    crashing_parser(monkeypatch)
    pages = [PAGE.format(i=i) for i in range(12)]
    pages[0] = pages[0].replace("Page 0", "Page 0 CRASH-ABORT")
    pages[5] = pages[5].replace("Page 5", "Page 5 CRASH-SEGV")
    pages[6] = pages[6].replace("Page 6", "Page 6 CRASH-HANG")
    pages[11] = pages[11].replace("Page 11", "Page 11 CRASH-ABORT")
    docs, rejects, _ = Extractor(ExtractConfig(timeout_s=0.5))(raw_table(pages))
    assert dict(zip(rejects.column("id").to_pylist(), rejects.column("reason").to_pylist())) == {
        "r0": "extract.crash", "r5": "extract.crash", "r6": "extract.timeout", "r11": "extract.crash"}
    assert docs.column("id").to_pylist() == [f"r{i}" for i in (1, 2, 3, 4, 7, 8, 9, 10)]
    assert all(f"river number {i}" in t for i, t in zip((1, 2, 3, 4, 7, 8, 9, 10), docs.column("text").to_pylist()))


def test_a_runaway_page_hits_the_memory_cap_and_the_rest_comes_through(monkeypatch):
    crashing_parser(monkeypatch)
    pages = [PAGE.format(i=0), "<html><body>CRASH-MEMORY</body></html>", PAGE.format(i=2)]
    docs, rejects, _ = Extractor(ExtractConfig(memory_limit_mb=512))(raw_table(pages))
    assert rejects.column("reason").to_pylist() in (["extract.error"], ["extract.crash"])
    assert docs.column("id").to_pylist() == ["r0", "r2"]


def test_without_isolation_the_crash_takes_the_process(monkeypatch):
    """The guard above is what saves the worker: in-process, the same page kills whoever parses it."""
    crashing_parser(monkeypatch)
    pid = os.fork()
    if pid == 0:  # stands in for a worker running the task in-process
        try:
            Extractor(ExtractConfig(isolate=False))(raw_table([PAGE.format(i=1), "CRASH-ABORT"]))
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGABRT


def test_isolated_results_equal_in_process_results():
    pages = [PAGE.format(i=i) for i in range(5)] + ["<html><body></body></html>"]
    table = raw_table(pages)
    isolated = Extractor(ExtractConfig())(table)
    in_process = Extractor(ExtractConfig(isolate=False))(table)
    assert all(a.equals(b) for a, b in zip(isolated[:2], in_process[:2]))


def square_unless_3(i: int) -> int:
    if i == 3:
        os._exit(7)
    return i * i


@pytest.mark.parametrize("n", [0, 1, 7])
def test_map_isolated_keeps_order_and_reports_the_crashing_item(n):
    expected = [i * i if i != 3 else "crash" for i in range(n)]
    assert map_isolated(square_unless_3, range(n), stall_s=5) == expected


def test_one_child_serves_call_after_call_until_it_crashes():
    """The child is kept between calls (no fork per task); a crash replaces it, and only then."""
    first = map_isolated(child_pid, [0, 1], stall_s=5)
    assert first[0] == first[1] != os.getpid()
    assert map_isolated(child_pid, [2], stall_s=5) == first[:1]
    assert map_isolated(square_unless_3, [2, 3, 4], stall_s=5) == [4, "crash", 16]
    [after] = map_isolated(child_pid, [0], stall_s=5)
    assert after not in (first[0], os.getpid())


def child_pid(_: int) -> int:
    return os.getpid()


def crash_in_a_ray_worker(contents: list[str]) -> tuple[list[str | None], int]:
    """Runs in a Ray worker: extract with the crashing parser; (reason per page, the worker's pid)."""
    real = Extractor.extract_html

    def extract_html(self, html, url):
        if "CRASH-ABORT" in html:
            faulthandler.disable()
            os.abort()
        return real(self, html, url)

    Extractor.extract_html = extract_html
    isolate.shutdown()  # a child this worker forked for an earlier task would run the real parser
    try:
        docs, rejects, _ = Extractor(ExtractConfig())(raw_table(contents))
    finally:
        Extractor.extract_html = real
        isolate.shutdown()
    reasons = dict(zip(rejects.column("id").to_pylist(), rejects.column("reason").to_pylist()))
    return [reasons.get(f"r{i}") for i in range(len(contents))], os.getpid()


def test_a_crash_inside_a_ray_task_costs_one_page_and_not_the_worker(ray_local):
    """The fork happens inside a real Ray worker (its threads, its signal handlers). Without retries a
    dead worker would fail the task (WorkerCrashedError); here the task returns and the worker lives on."""
    import psutil

    remote = ray_local.remote(max_retries=0)(crash_in_a_ray_worker)
    pages = [PAGE.format(i=0), "<html><body>CRASH-ABORT</body></html>", PAGE.format(i=2)]
    reasons, worker_pid = ray_local.get(remote.remote(pages))
    assert reasons == [None, "extract.crash", None]
    assert psutil.pid_exists(worker_pid) and worker_pid != os.getpid()


def test_the_child_dies_with_its_worker(monkeypatch, tmp_path):
    """A worker killed mid-task (node loss, Ray's OOM killer) leaves no extraction child behind."""
    import psutil

    crashing_parser(monkeypatch)
    worker = os.fork()
    if worker == 0:  # the worker: its isolated child hangs on the page
        try:
            Extractor(ExtractConfig(timeout_s=60))(raw_table(["<html><body>CRASH-HANG</body></html>"]))
        finally:
            os._exit(0)
    deadline = time.monotonic() + 20
    while not psutil.Process(worker).children() and time.monotonic() < deadline:
        time.sleep(0.05)
    [child] = psutil.Process(worker).children()
    os.kill(worker, signal.SIGKILL)
    os.waitpid(worker, 0)
    assert psutil.wait_procs([child], timeout=10)[1] == []  # gone, not orphaned

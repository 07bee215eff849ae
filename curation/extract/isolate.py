"""Crash isolation: a task's pages are processed in a forked child, so a page that kills the HTML
parser (segfault, abort, a hang in C code) costs that page, not the worker and its task.

One child per task, not per page: it inherits the parent's loaded parser, models and pages (fork,
copy-on-write), processes page after page and sends each result back as soon as it has it. When the
child dies, the page it was on is the crashing one: it is reported as ``crash`` and a new child
takes the pages after it, so only that page is lost and the others are processed once. A child that
sends nothing for ``stall_s`` seconds is killed and its page reported as ``timeout``; the child's
address space is capped, so a runaway parse fails (``extract.error`` or ``crash``) before it exhausts
the node. Where ``fork`` does not exist (Windows) pages run in the calling process.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from multiprocessing.connection import Pipe
from typing import TypeVar

T = TypeVar("T")


def _limit_memory(extra_mb: int | None) -> None:
    """Cap the child's address space at what it inherited plus ``extra_mb``: a page whose parse runs
    away fails its allocation (``MemoryError``, or the child dies) instead of exhausting the node."""
    if extra_mb is None:
        return
    import resource

    with open("/proc/self/statm") as f:  # Linux; elsewhere the child runs without a cap
        inherited = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = inherited + extra_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


def _die_with(parent: int) -> None:
    """Linux: the kernel kills this child when its parent dies (a killed worker leaves no stuck parse)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _child(fn: Callable[[int], T], start: int, n: int, conn, memory_mb: int | None, parent: int) -> None:
    """Runs in the forked child: results of pages ``start..n-1``, one message each; never returns."""
    code = 0
    try:
        try:
            _die_with(parent)
            _limit_memory(memory_mb)
        except (OSError, ValueError, AttributeError):
            pass  # not Linux, or a hard limit below: run without these guards
        for i in range(start, n):
            conn.send(fn(i))
    except BaseException:  # an escaped exception ends the child like a crash: its page is reported
        code = 1
    finally:
        os._exit(code)


def _reap(pid: int, kill: bool) -> None:
    if kill:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def map_isolated(fn: Callable[[int], T], n: int, stall_s: float, memory_mb: int | None = None) -> list[T | str]:
    """``[fn(0), ..., fn(n-1)]`` computed in forked children (address space capped ``memory_mb`` above
    the parent's); a page whose child died is ``"crash"``, one whose child sent nothing for ``stall_s``
    seconds is ``"timeout"``."""
    if not hasattr(os, "fork"):
        return [fn(i) for i in range(n)]
    out: list[T | str] = []
    while len(out) < n:
        reader, writer = Pipe(duplex=False)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            reader.close()
            _child(fn, len(out), n, writer, memory_mb, parent)
        writer.close()
        failure = None
        try:
            while len(out) < n and failure is None:
                if not reader.poll(stall_s):
                    failure = "timeout"
                    continue
                try:
                    out.append(reader.recv())
                except EOFError:
                    failure = "crash"
        finally:
            reader.close()
            _reap(pid, kill=failure == "timeout" or len(out) < n)
        if failure is not None:
            out.append(failure)
    return out

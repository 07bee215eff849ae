"""Crash isolation: pages are processed in a forked child, so a page that kills the HTML parser
(segfault, abort, a hang in C code) costs that page, not the worker and its task.

One child per worker process, kept from task to task: it is forked on first use (inheriting the
loaded parser and models, copy-on-write), gets each call's function and then its items one at a
time over a pipe, and sends each result back. Kept, it also keeps what it loads lazily (parser
caches, the language model of the gates); a child forked per task paid the fork and that warm-up
again for every task (0.12 s of a task of two pages). The price: the child holds the worker's
memory as it was at the fork (pages the worker later writes are copied), about one more worker's
start-up memory per worker.

When the child dies, the item it was on is the crashing one: it is reported as ``crash`` and a new
child takes the items after it, so only that item is lost and the others are processed once. A
child that sends nothing for ``stall_s`` seconds is killed and its item reported as ``timeout``; the
child's address space is capped, so a runaway parse fails (``extract.error`` or ``crash``) before it
exhausts the node. Where ``fork`` does not exist (Windows) items run in the calling process.

Functions and items cross the pipe pickled (a module-level function or a bound method of a
module-level class). The child runs the code it had when forked: ``shutdown`` ends it, so that the
next call forks one from the process as it is then (e.g. after a test patches the parser).
"""

from __future__ import annotations

import atexit
import gc
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from typing import NoReturn, TypeVar

from curation.runtime.forked import die_with_parent

A = TypeVar("A")
T = TypeVar("T")


@dataclass(frozen=True)
class _Child:
    pid: int
    conn: Connection
    parent: int
    memory_mb: int | None


_CHILD: list[_Child] = []
"""This process's child (at most one)."""


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


def _serve(conn: Connection, memory_mb: int | None, parent: int) -> NoReturn:
    """Runs in the forked child: ``("fn", f)`` sets the function, ``("item", x)`` sends back ``f(x)``;
    exits when the parent closes the pipe. Never returns."""
    code = 0
    try:
        gc.freeze()  # the objects inherited from the worker: no collection walks (and copies) them again
        try:
            die_with_parent(parent)  # a killed worker leaves no stuck parse
            _limit_memory(memory_mb)
        except (OSError, ValueError, AttributeError):
            pass  # not Linux, or a hard limit below: run without these guards
        fn: Callable | None = None
        while True:
            kind, value = conn.recv()
            if kind == "fn":
                fn = value
            else:
                conn.send(fn(value))  # type: ignore[misc]
    except EOFError:
        pass  # the parent is done with this child
    except BaseException:  # an escaped exception ends the child like a crash: its item is reported
        code = 1
    finally:
        os._exit(code)


def _spawn(memory_mb: int | None) -> _Child:
    ours, theirs = Pipe(duplex=True)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        ours.close()
        _serve(theirs, memory_mb, parent)
    theirs.close()
    return _Child(pid, ours, parent, memory_mb)


def _alive(child: _Child) -> bool:
    try:
        return os.waitpid(child.pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return False


def _child(memory_mb: int | None) -> _Child:
    """This process's live child with this memory cap, forked if there is none."""
    if _CHILD and (_CHILD[0].parent != os.getpid() or not _alive(_CHILD[0])):
        _CHILD.pop().conn.close()  # inherited through a fork (not ours), or died between calls (reaped)
    if _CHILD and _CHILD[0].memory_mb != memory_mb:
        shutdown()
    if not _CHILD:
        _CHILD.append(_spawn(memory_mb))
    return _CHILD[0]


def shutdown() -> None:
    """End this process's child (if any); the next ``map_isolated`` forks a new one."""
    if not _CHILD:
        return
    child = _CHILD.pop()
    child.conn.close()
    if child.parent != os.getpid():
        return
    try:
        os.kill(child.pid, signal.SIGKILL)
        os.waitpid(child.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass  # already reaped


atexit.register(shutdown)


def map_isolated(
    fn: Callable[[A], T], items: Sequence[A], stall_s: float, memory_mb: int | None = None
) -> list[T | str]:
    """``[fn(x) for x in items]`` computed in this process's child (address space capped
    ``memory_mb`` above the parent's); an item whose child died is ``"crash"``, one whose child sent
    nothing for ``stall_s`` seconds is ``"timeout"``."""
    if not hasattr(os, "fork"):
        return [fn(x) for x in items]
    out: list[T | str] = []
    while len(out) < len(items):
        child = _child(memory_mb)
        failure = None
        try:
            child.conn.send(("fn", fn))
            while len(out) < len(items) and failure is None:
                child.conn.send(("item", items[len(out)]))
                if not child.conn.poll(stall_s):
                    failure = "timeout"
                    continue
                out.append(child.conn.recv())
        except (EOFError, OSError):  # the pipe broke: the child died
            failure = "crash"
        if failure is not None:
            shutdown()
            out.append(failure)
    return out

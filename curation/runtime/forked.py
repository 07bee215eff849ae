"""Worker processes forked from the driver: how a run of several workers on one machine runs its tasks
(``runtime.executor: processes``, and ``auto`` without a cluster), as datatrove's local executor does.

A forked worker starts with everything the driver has imported and loaded (copy-on-write), where a Ray
worker is a fresh interpreter that imports Ray, the pipeline, spaCy's rules and the tokenizer before
its first task, beside Ray's own daemons (GCS, raylet, agents): on 2 cores that start-up was most of
what a 2-worker run spent beyond a 1-worker one (``benchmarks/results/forked_workers.json``). Ray
stays the executor of clusters, where tasks must reach other machines.

Each worker runs one call at a time, sent pickled over its pipe, and is kept from call to call. A
worker that dies mid-call (segfault, out-of-memory kill) is replaced, and its call is run again up to
``max_retries`` times, as Ray retries a task whose worker died (a warning names the call); a call that
raises is not retried. A worker is named ``curate-task`` while it runs a call and ``curate-idle``
between calls (``ps``, ``top``), as Ray titles its workers after their task.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import signal
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any, NoReturn

log = logging.getLogger(__name__)
BUSY, IDLE = b"curate-task", b"curate-idle"
"""A worker's process name while it runs a call, and between calls (at most 15 bytes: Linux's limit)."""
PR_SET_PDEATHSIG, PR_SET_NAME = 1, 15


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _prctl(option: int, value: int | bytes) -> bool:
    """Linux's ``prctl``; False where it does not exist."""
    prctl = getattr(_libc(), "prctl", None)
    return prctl is not None and prctl(option, value) == 0


def die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this process when ``parent`` dies (a killed driver or worker leaves no
    orphan behind). Elsewhere (no ``prctl``) it does nothing."""
    if not _prctl(PR_SET_PDEATHSIG, signal.SIGKILL):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class WorkerDied(RuntimeError):
    """The worker process running a call died (killed, out of memory, a crash in C code)."""


@dataclass
class _Worker:
    pid: int
    conn: Connection


@dataclass
class _Call:
    fn: Callable[..., Any]
    args: tuple
    name: str
    attempts: int = 0
    reply: tuple[str, Any] | None = None


def _serve(conn: Connection, parent: int, inherited: Iterable[Connection]) -> NoReturn:
    """Runs in the forked worker: receives ``(fn, args)``, sends back ``("ok", fn(*args))`` or
    ``("error", exception)``; exits when the driver closes the pipe. Never returns."""
    code = 0
    try:
        for other in inherited:  # the driver's ends of the other workers' pipes
            other.close()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle; it ends the workers
        gc.freeze()  # what the driver had: no collection walks (and copies) it again
        die_with_parent(parent)
        while True:
            _prctl(PR_SET_NAME, IDLE)
            try:
                fn, args = conn.recv()
                _prctl(PR_SET_NAME, BUSY)
                reply: tuple[str, Any] = ("ok", fn(*args))
            except EOFError:
                break
            except Exception as err:  # noqa: BLE001 - the call's own error goes back to the driver
                reply = ("error", err)
                note = getattr(err, "add_note", None)
                if note is not None:
                    note("in a forked worker:\n" + "".join(traceback.format_exception(err)))
            try:
                conn.send(reply)
            except Exception as err:  # noqa: BLE001 - a result or exception that does not pickle
                conn.send(("error", RuntimeError(f"{type(err).__name__} sending the result back: {err}")))
    except BaseException:  # noqa: BLE001 - the pipe broke, or an escaped exception: reported as a dead worker
        code = 1
    finally:
        os._exit(code)


class ForkedWorkers:
    """Up to ``workers`` processes forked from this one on demand, each running one call at a time.

    ``submit`` returns a handle; ``wait`` returns the handles that finished; ``result`` gives a finished
    call's value or raises its exception (``WorkerDied`` once its retries are spent). A worker forks
    from the driver as it is at that moment: a run forks them after its warm-up, so that they inherit it.
    """

    def __init__(self, workers: int, max_retries: int = 3):
        self.size = max(1, workers)
        self.max_retries = max_retries
        self._calls: dict[int, _Call] = {}
        self._queue: deque[int] = deque()
        self._idle: list[_Worker] = []
        self._busy: dict[int, tuple[_Worker, int]] = {}  # pid -> (worker, handle)
        self._next = 0

    @property
    def pids(self) -> list[int]:
        return [w.pid for w in self._idle] + list(self._busy)

    def submit(self, fn: Callable[..., Any], *args: Any, name: str | None = None) -> int:
        """Queue ``fn(*args)``; ``name`` is how warnings and errors refer to the call (default: ``fn``'s)."""
        handle, self._next = self._next, self._next + 1
        self._calls[handle] = _Call(fn, args, name or getattr(fn, "__qualname__", repr(fn)))
        self._queue.append(handle)
        self._dispatch()
        return handle

    def wait(self, handles: Iterable[int], timeout: float | None = None) -> list[int]:
        """The finished ones among ``handles``: at least one, unless ``timeout`` seconds pass first."""
        handles = list(handles)
        while True:
            done = [h for h in handles if self._calls[h].reply is not None]
            if done or not self._busy:
                return done
            ready = wait([w.conn for w, _ in self._busy.values()], timeout)
            if not ready:
                return []
            for pid in [pid for pid, (w, _) in self._busy.items() if w.conn in ready]:
                self._collect(pid)
            self._dispatch()

    def result(self, handle: int) -> Any:
        call = self._calls.pop(handle)
        assert call.reply is not None, "result() of a call that has not finished"
        kind, value = call.reply
        if kind == "error":
            raise value
        return value

    def cancel(self, handles: Iterable[int]) -> None:
        """Drop the calls not started yet; kill the workers running the others."""
        handles = set(handles)
        self._queue = deque(h for h in self._queue if h not in handles)
        for pid in [pid for pid, (_, h) in self._busy.items() if h in handles]:
            worker, _ = self._busy.pop(pid)
            _end(worker, kill=True)
        for h in handles:
            self._calls.pop(h, None)

    def close(self) -> None:
        """End every worker: idle ones exit when their pipe closes, busy ones are killed."""
        for worker in self._idle:
            _end(worker, kill=False)
        for worker, _ in self._busy.values():
            _end(worker, kill=True)
        self._idle, self._busy, self._queue = [], {}, deque()

    def _dispatch(self) -> None:
        while self._queue and (self._idle or len(self._idle) + len(self._busy) < self.size):
            worker = self._idle.pop() if self._idle else self._fork()
            handle = self._queue.popleft()
            call = self._calls[handle]
            try:
                worker.conn.send((call.fn, call.args))  # pickled whole before anything is written
            except (BrokenPipeError, ConnectionResetError, EOFError):  # died while idle: another one takes it
                _end(worker, kill=True)
                self._queue.appendleft(handle)
                continue
            except Exception as err:  # noqa: BLE001 - the call does not pickle: its error, in its place
                call.reply = ("error", err)
                self._idle.append(worker)
                continue
            call.attempts += 1
            self._busy[worker.pid] = (worker, handle)

    def _collect(self, pid: int) -> None:
        worker, handle = self._busy.pop(pid)
        call = self._calls[handle]
        try:
            call.reply = worker.conn.recv()
            self._idle.append(worker)
            return
        except (EOFError, OSError):
            pass
        status = _end(worker, kill=True)
        if call.attempts <= self.max_retries:
            log.warning("worker process %d died (%s) running %s: running it again (retry %d of %d)",
                        pid, status, call.name, call.attempts, self.max_retries)
            self._queue.appendleft(handle)
        else:
            call.reply = ("error", WorkerDied(f"the worker process running {call.name} died ({status}), "
                                              f"{call.attempts} times"))

    def _fork(self) -> _Worker:
        ours, theirs = Pipe(duplex=True)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            ours.close()
            _serve(theirs, parent, [w.conn for w in self._idle] + [w.conn for w, _ in self._busy.values()])
        theirs.close()
        return _Worker(pid, ours)


def _end(worker: _Worker, kill: bool) -> str:
    """Close the worker's pipe (killing it first with ``kill``) and reap it; return how it ended."""
    if kill:
        try:
            os.kill(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    worker.conn.close()
    try:
        _, status = os.waitpid(worker.pid, 0)
    except ChildProcessError:
        return "already reaped"
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"

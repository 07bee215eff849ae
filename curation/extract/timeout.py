"""A per-document time limit so one pathological page cannot stall a worker.

SIGALRM interrupts pure-Python and lxml work in the main thread (where Ray runs tasks). Off the
main thread no alarm is possible and the call runs unbounded.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class ExtractionTimeout(Exception):
    pass


def _raise_timeout(signum, frame):  # noqa: ARG001 - signal handler signature
    raise ExtractionTimeout


def call_with_timeout(fn: Callable[[], T], seconds: float) -> T:
    """Run ``fn()``; raise ``ExtractionTimeout`` if it takes longer than ``seconds``."""
    if threading.current_thread() is not threading.main_thread():
        return fn()
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

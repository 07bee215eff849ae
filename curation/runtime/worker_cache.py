"""Objects built once per worker process (models, block lists), not once per task.

Ray and the forked workers keep their processes from task to task, so a module-level cache is enough.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")
_CACHE: dict[Hashable, object] = {}


def cached(key: Hashable, factory: Callable[[], T]) -> T:
    """Return the object stored under ``key``, building it with ``factory`` the first time."""
    if key not in _CACHE:
        _CACHE[key] = factory()
    return _CACHE[key]  # type: ignore[return-value]

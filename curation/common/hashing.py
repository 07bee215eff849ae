"""Per-document pseudo-random numbers from (seed, salt, id): the same whatever the order or worker.

Every sampling, split and bucketing decision hashes the document id instead of drawing from a
random stream, so it does not depend on iteration order, task boundaries or the number of workers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import xxhash

REPEAT_SEP = "#rep"
_REPEAT = re.compile(re.escape(REPEAT_SEP) + r"\d+$")


def uniform(seed: int, salt: str, ids: Iterable[str]) -> np.ndarray:
    """A float64 in [0, 1) per id, from the 53 high bits of xxh64(seed:salt:id)."""
    prefix = f"{seed}:{salt}:"
    hashes = np.fromiter((xxhash.xxh64_intdigest((prefix + i).encode()) for i in ids), dtype=np.uint64)
    return (hashes >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def hash_order(seed: int, salt: str, ids: Sequence[str]) -> list[int]:
    """Positions of ``ids`` ranked by ``uniform(seed, salt, id)``, ties by id: a seeded order that ignores input order."""
    keys = uniform(seed, salt, ids)
    return sorted(range(len(ids)), key=lambda i: (keys[i], ids[i]))


def repeat_id(doc_id: str, copy: int) -> str:
    """Id of the ``copy``-th extra copy of an up-sampled document (copy >= 1)."""
    return f"{doc_id}{REPEAT_SEP}{copy}"


def base_id(doc_id: str) -> str:
    """The original id of a document or of one of its up-sampled copies."""
    return _REPEAT.sub("", doc_id)

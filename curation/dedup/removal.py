"""Removal lists: the global numbers of documents a dedup method drops, applied part by part.

Reduce tasks keep the nodes they remove (see ``hashing.node_ids``), sorted, so the apply task of
one part reads only the row groups covering its node range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from curation.dedup.hashing import U64, node_row
from curation.runtime.context import RunContext
from curation.runtime.rows import read_key_range
from curation.schema import split_by_reason


def removal_table(nodes: np.ndarray) -> pa.Table:
    """The removed ``nodes``, sorted."""
    return pa.table({"node": pa.array(np.sort(nodes), type=pa.uint64())})


def read_removed_rows(paths: list[str], part_index: int) -> np.ndarray:
    """Rows of part ``part_index`` named in the removal files."""
    lo, hi = int(U64(part_index) << U64(32)), int(U64(part_index + 1) << U64(32))
    found = [read_key_range(path, "node", lo, hi, columns=["node"]).column("node").to_numpy() for path in paths]
    nodes = np.concatenate(found) if found else np.zeros(0, dtype=U64)
    return np.unique(node_row(nodes.astype(U64)))


@dataclass(frozen=True)
class DropRows:
    """A document stage rejecting the rows of one part that the removal files name."""

    paths: tuple[str, ...]
    part_index: int
    reason: str

    def __call__(self, docs: pa.Table) -> tuple[pa.Table, pa.Table, dict]:
        rows = read_removed_rows(list(self.paths), self.part_index)
        mask = np.zeros(docs.num_rows, dtype=bool)
        mask[rows] = True
        reasons = pa.array(np.where(mask, self.reason, None).tolist(), type=pa.string())
        kept, rejected = split_by_reason(docs, reasons)
        return kept, rejected, {}


def apply_removals(
    ctx: RunContext, phase: str, parts: list[str], paths: list[str], reason: str, upstream: str
) -> list[str]:
    """Reject, part by part, the rows named in the removal files ``paths`` (written by ``upstream``)."""
    fns = [DropRows(tuple(paths), i, reason) for i in range(len(parts))]
    return ctx.map_documents(phase, parts, fns, upstream)

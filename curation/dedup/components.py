"""Connected components of the duplicate graph with numpy union-find over dense document numbers.

Edge files are streamed one at a time into one int64 parent array (8 bytes per document; no
dict of ids, no list of all pairs). Every union hooks the larger root under the smaller, so the
final root of a component is its smallest dense number whatever the order of edges or files:
components are deterministic.
"""

from __future__ import annotations

import numpy as np


def find_roots(parent: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Roots of ``nodes``, compressing the paths walked."""
    roots = parent[nodes]
    while True:
        up = parent[roots]
        if np.array_equal(up, roots):
            break
        roots = up
    parent[nodes] = roots
    return roots


def union(parent: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
    """Merge the components of every edge (u[i], v[i])."""
    while u.size:
        ru, rv = find_roots(parent, u), find_roots(parent, v)
        differ = ru != rv
        u, v, ru, rv = u[differ], v[differ], ru[differ], rv[differ]
        # Several edges may hook the same root in one round: the smallest proposal wins, the
        # others are retried against the new roots in the next round.
        np.minimum.at(parent, np.maximum(ru, rv), np.minimum(ru, rv))


def flatten(parent: np.ndarray) -> np.ndarray:
    """Point every node straight at its root."""
    while True:
        up = parent[parent]
        if np.array_equal(up, parent):
            return parent
        parent[:] = up

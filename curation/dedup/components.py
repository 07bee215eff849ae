"""Connected components of the duplicate graph, distributed over Ray tasks: alternating large-star
and small-star rounds (Kiveris et al. 2014, "Connected Components in MapReduce and Beyond").

Nodes are the documents' global numbers (``hashing.node_ids``: part, row), so their order is total.
Every round is one reduce phase of P tasks exchanging edges through the runtime's shuffle; task p
reduces the edges routed to partition p with numpy (sort, then per-node minima), so no task ever
holds more than its partition of the graph, and no id dict or list of all pairs exists anywhere.

- large-star: each node u links its larger neighbours to m(u), the smallest of u and its neighbours;
- small-star: each node u links itself and its smaller neighbours to the smallest of them.

The rounds end when the graph is a set of stars, each centred on the smallest node of its
component: no node has both a smaller and a larger neighbour, and none has two smaller ones. A
large-star task counts these violations on its input; when the whole round counts none, its
``stars`` files (written by each centre's task: every node with its centre) are the components.
The components depend only on the graph, never on P, the worker count or task order. Duplicate
clusters are small and star-like, so this takes 2-4 rounds in practice (the bound is O(log^2 n)).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curation.dedup.hashing import U64, mix64
from curation.runtime.context import PhaseOutput, RunContext, Shuffled, TaskOutput

MAX_ROUNDS = 64
"""Far above what a duplicate graph needs; reaching it means a bug, not a big graph."""


def routed(u: np.ndarray, v: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """Edges (u, v) shuffled to the partition of u (the next round's task for u)."""
    table = pa.table({"u": pa.array(u, pa.uint64()), "v": pa.array(v, pa.uint64())})
    return table, mix64(u)


def both_ways(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges as large-star reads them: each one at both endpoints."""
    return np.concatenate([a, b]), np.concatenate([b, a])


def down(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges as small-star reads them: at the larger endpoint, pointing down."""
    return np.maximum(a, b), np.minimum(a, b)


def sorted_groups(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, v) sorted by u then v without duplicates or self loops, and the start of each u's group."""
    keep = u != v
    u, v = u[keep], v[keep]
    order = np.lexsort((v, u))
    u, v = u[order], v[order]
    new = np.ones(u.size, dtype=bool)
    new[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v = u[new], v[new]
    starts = np.flatnonzero(np.concatenate([[True], u[1:] != u[:-1]])) if u.size else np.zeros(0, dtype=np.int64)
    return u, v, starts


def large_star(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """One partition of a large-star round, edges given at both endpoints.

    Returns the new edges (larger neighbour, m(u)), the stars (node, centre) of the nodes that are
    centres here, and the violations of the star shape counted on the input.
    """
    u, v, starts = sorted_groups(u, v)
    if not u.size:
        empty = np.zeros(0, dtype=U64)
        return empty, empty, empty, empty, 0
    sizes = np.diff(np.append(starts, u.size))
    node = u[starts]
    smallest = np.minimum(v[starts], node)  # v is sorted within a group
    largest = v[starts + sizes - 1]
    n_smaller = np.add.reduceat((v < u).astype(np.int64), starts)
    violations = int(np.sum((smallest < node) & (largest > node)) + np.sum(n_smaller >= 2))
    m = np.repeat(smallest, sizes)
    up = v > u
    is_centre = smallest == node  # no smaller neighbour: its neighbours are its star
    in_star = np.repeat(is_centre, sizes)
    star_nodes = np.concatenate([node[is_centre], v[in_star]])
    star_roots = np.concatenate([node[is_centre], u[in_star]])
    return v[up], m[up], star_nodes, star_roots, violations


def small_star(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One partition of a small-star round, edges given at their larger endpoint (u > v)."""
    u, v, starts = sorted_groups(u, v)
    if not u.size:
        return u, v
    sizes = np.diff(np.append(starts, u.size))
    m = np.repeat(v[starts], sizes)  # the smallest smaller neighbour
    others = v != m
    return np.concatenate([v[others], u[starts]]), np.concatenate([m[others], v[starts]])


def read_edges(rows: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """The (u, v) edges the previous round routed to this partition."""
    if not rows.num_rows:
        return np.zeros(0, U64), np.zeros(0, U64)
    return rows.column("u").to_numpy().astype(U64), rows.column("v").to_numpy().astype(U64)


def large_star_step(rows: pa.Table, partition: int) -> TaskOutput:
    new_u, new_v, star_nodes, star_roots, violations = large_star(*read_edges(rows))
    stars = pa.table({"node": pa.array(star_nodes, pa.uint64()), "root": pa.array(star_roots, pa.uint64())})
    return TaskOutput(
        files={"stars": stars},
        shuffle=routed(*down(new_u, new_v)),
        counters={"edges": int(new_u.size), "violations": violations},
    )


def small_star_step(rows: pa.Table, partition: int) -> TaskOutput:
    new_u, new_v = small_star(*read_edges(rows))
    return TaskOutput(shuffle=routed(*both_ways(new_u, new_v)), counters={"edges": int(new_u.size)})


def connected_components(ctx: RunContext, edges: Shuffled) -> PhaseOutput:
    """Large-star / small-star rounds over ``edges`` (shuffled by ``routed(*both_ways(a, b))``) until
    the graph is stars; the last large-star phase, whose ``stars`` files are the components."""
    for round_ in range(1, MAX_ROUNDS + 1):
        large = ctx.reduce(f"dedup.minhash.large_star.{round_}", edges, large_star_step, {})
        if large.total("violations") == 0:
            return large
        edges = ctx.reduce(f"dedup.minhash.small_star.{round_}", large.shuffled, small_star_step, {}).shuffled
    raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")

"""Connected components of the duplicate graph, distributed over Ray tasks: alternating large-star
and small-star rounds (Kiveris et al. 2014, "Connected Components in MapReduce and Beyond").

Nodes are the documents' global numbers (``hashing.node_ids``: part, row), so their order is total.
Every round is one phase of P tasks exchanging edges through the file shuffle; task p reduces the
edges routed to partition p with numpy (sort, then per-node minima), so no task ever holds more
than its partition of the graph, and no id dict or list of all pairs exists anywhere.

- large-star: each node u links its larger neighbours to m(u), the smallest of u and its neighbours;
- small-star: each node u links itself and its smaller neighbours to the smallest of them.

The rounds end when the graph is a set of stars, each centred on the smallest node of its
component: no node has both a smaller and a larger neighbour, and none has two smaller ones. A
large-star task counts these violations on its input; when the whole round counts none, its
``stars`` files (written by each centre's task: every node with its centre) are the components.
The result depends only on the graph and P, never on the worker count or task order. Duplicate
clusters are small and star-like, so this takes 2-4 rounds in practice (the bound is O(log^2 n)).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curation.dedup.hashing import U64, mix64, partition_of
from curation.dedup.shuffle import read_partition, write_partitions
from curation.io import fs
from curation.runtime.executor import Counters

MAX_ROUNDS = 64
"""Far above what a duplicate graph needs; reaching it means a bug, not a big graph."""


def edge_table(u: np.ndarray, v: np.ndarray) -> pa.Table:
    return pa.table({"u": pa.array(u, pa.uint64()), "v": pa.array(v, pa.uint64())})


def write_routed(u: np.ndarray, v: np.ndarray, partitions: int, out_dir: str, task_id: str) -> None:
    """Write edges (u, v) to the partition of u (the next round's task for u)."""
    write_partitions(edge_table(u, v), partition_of(mix64(u), partitions), partitions, out_dir, task_id)


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


def route_task(edge_paths: list[str], partitions: int, out_dir: str, task_id: str) -> Counters:
    """The duplicate pairs (``a``, ``b`` node columns) of some edge files, routed for large-star."""
    tables = [fs.read_parquet(path, columns=["a", "b"]) for path in edge_paths]
    a = np.concatenate([t.column("a").to_numpy() for t in tables]) if tables else np.zeros(0, dtype=U64)
    b = np.concatenate([t.column("b").to_numpy() for t in tables]) if tables else np.zeros(0, dtype=U64)
    write_routed(*both_ways(a.astype(U64), b.astype(U64)), partitions, out_dir, task_id)
    return {"edges": int(a.size)}


def read_edges(map_dir: str, map_ids: list[str], partition: int) -> tuple[np.ndarray, np.ndarray]:
    """The (u, v) edges the previous round routed to ``partition``."""
    t = read_partition(map_dir, map_ids, partition)
    if not t.num_rows:
        return np.zeros(0, U64), np.zeros(0, U64)
    return t.column("u").to_numpy().astype(U64), t.column("v").to_numpy().astype(U64)


def large_star_task(map_dir: str, map_ids: list[str], partition: int, partitions: int, out_dir: str) -> Counters:
    new_u, new_v, star_nodes, star_roots, violations = large_star(*read_edges(map_dir, map_ids, partition))
    write_routed(*down(new_u, new_v), partitions, out_dir, f"p{partition:05d}")
    fs.write_parquet(
        pa.table({"node": pa.array(star_nodes, pa.uint64()), "root": pa.array(star_roots, pa.uint64())}),
        stars_path(out_dir, partition),
    )
    return {"edges": int(new_u.size), "violations": violations}


def small_star_task(map_dir: str, map_ids: list[str], partition: int, partitions: int, out_dir: str) -> Counters:
    new_u, new_v = small_star(*read_edges(map_dir, map_ids, partition))
    write_routed(*both_ways(new_u, new_v), partitions, out_dir, f"p{partition:05d}")
    return {"edges": int(new_u.size)}


def stars_path(out_dir: str, partition: int) -> str:
    return fs.join(out_dir, f"stars-{partition:05d}.parquet")

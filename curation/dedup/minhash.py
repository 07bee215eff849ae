"""Global MinHash dedup as phases the runtime runs (map, shuffle by key, reduce).

1. ``signatures`` (map, one task per part): shingles, MinHash signatures and LSH band keys of a
   whole batch at once; band rows are shuffled by key, (id, priority, shingle set) kept per part.
2. ``buckets`` (reduce, one task per key range): documents sharing a band key become candidate
   pairs (all pairs in small buckets, a star around the smallest number in large ones); pairs are
   shuffled again by pair hash. Band keys of earlier runs' indexes join here.
3. ``verify`` (reduce, optional): exact Jaccard over the stored shingle sets; pairs below the
   threshold are dropped.
4. ``large_star.N``, ``small_star.N`` (reduces): connected components of the surviving pairs,
   distributed (``components.py``), until every component is a star around its smallest document.
5. ``clusters`` (one task per file of stars): in every component the best document (keep policy,
   then id; an indexed document always wins) is kept. Cluster ids (the centre's node) and sizes go
   to ``clusters-*.parquet`` in the phase work dir.
6. apply (one task per part): removed rows are rejected as ``dedup.minhash``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pyarrow as pa

from curation.dedup.components import both_ways, connected_components, routed
from curation.dedup.config import MinHashConfig
from curation.dedup.hashing import U64, mix64, node_ids, node_part, node_row
from curation.dedup.minhash_index import IndexPart, index_parts, write_index
from curation.dedup.ranking import priority
from curation.dedup.removal import apply_removals, removal_table
from curation.dedup.shingles import jaccard
from curation.dedup.signatures import shingle_table, sketch
from curation.io import fs
from curation.runtime.context import RunContext, TaskOutput
from curation.runtime.rows import read_key_range, read_rows
from curation.runtime.shuffle import partition_bounds


def band_table(keys: np.ndarray, nodes: np.ndarray, has_shingles: np.ndarray) -> pa.Table:
    """One row per (document, band) of the documents that have shingles."""
    keys, nodes = keys[has_shingles], nodes[has_shingles]
    bands = np.tile(np.arange(keys.shape[1], dtype=np.uint16), keys.shape[0])
    return pa.table(
        {
            "band": pa.array(bands, type=pa.uint16()),
            "key": pa.array(keys.reshape(-1), type=pa.uint64()),
            "node": pa.array(np.repeat(nodes, keys.shape[1]), type=pa.uint64()),
        }
    )


def signatures(cfg: MinHashConfig, src: str, part_index: int) -> TaskOutput:
    """Map: band rows shuffled by key; ``docs`` (id, priority and, to verify, the shingle set) per part."""
    docs = fs.read_parquet(src, columns=["id", "text", "date", "quality_score"])
    values, offsets, keys = sketch(docs.column("text"), cfg)
    has_shingles = np.diff(offsets) > 0
    bands = band_table(keys, node_ids(part_index, docs.num_rows), has_shingles)
    meta = pa.table({"id": docs.column("id"), "prio": priority(docs, cfg.keep)})
    if cfg.verify:
        meta = meta.append_column("shingles", shingle_table(values, offsets).column("shingles"))
    return TaskOutput(
        files={"docs": meta},
        shuffle=(bands, bands.column("key").to_numpy()),
        counters={"docs": docs.num_rows, "shingles": int(values.size), "no_shingles": int((~has_shingles).sum())},
    )


def bucket_pairs(band: np.ndarray, key: np.ndarray, node: np.ndarray, max_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (a < b) of the nodes sharing a (band, key): all pairs in buckets up to
    ``max_pairs`` members, a star around the smallest node in larger ones."""
    order = np.lexsort((node, key, band))
    band, key, node = band[order], key[order], node[order]
    new = np.ones(node.size, dtype=bool)
    new[1:] = (band[1:] != band[:-1]) | (key[1:] != key[:-1])
    start = np.nonzero(new)[0]
    size = np.diff(np.concatenate([start, [node.size]]))
    member_start = np.repeat(start, size)
    member_size = np.repeat(size, size)
    pos = np.arange(node.size) - member_start
    a_parts, b_parts = [], []
    small = member_size <= max_pairs
    for d in range(1, min(int(size.max(initial=1)), max_pairs)):
        ok = small & (pos + d < member_size)
        idx = np.nonzero(ok)[0]
        a_parts.append(node[idx])
        b_parts.append(node[idx + d])
    star = ~small & (pos > 0)
    a_parts.append(node[member_start[star]])
    b_parts.append(node[star])
    a, b = np.concatenate(a_parts), np.concatenate(b_parts)
    return np.minimum(a, b), np.maximum(a, b)


def unique_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    keep = np.ones(a.size, dtype=bool)
    keep[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[keep], b[keep]


def read_index_bands(parts: list[IndexPart], lo: int, hi: int) -> list[pa.Table]:
    """Band rows of the index whose keys fall in [lo, hi), numbered like documents."""
    out = []
    for part in parts:
        t = read_key_range(part.bands, "key", lo, hi)
        rows = t.column("row").to_numpy().astype(U64)
        nodes = (U64(part.number) << U64(32)) | rows
        out.append(pa.table({"band": t.column("band"), "key": t.column("key"), "node": pa.array(nodes, pa.uint64())}))
    return out


def pair_rows(a: np.ndarray, b: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """Candidate pairs shuffled by pair hash (for verification)."""
    return pa.table({"a": pa.array(a, pa.uint64()), "b": pa.array(b, pa.uint64())}), mix64(a ^ mix64(b))


def buckets(
    index: list[IndexPart], partitions: int, max_pairs: int, verify: bool, rows: pa.Table, partition: int
) -> TaskOutput:
    """Reduce: candidate pairs of one band-key range, to verify or straight to the components."""
    t = pa.concat_tables([rows, *read_index_bands(index, *partition_bounds(partition, partitions))])
    band, key, node = (t.column(c).to_numpy() for c in ("band", "key", "node"))
    a, b = bucket_pairs(band, key, node, max_pairs)
    first_index = min((p.number for p in index), default=None)
    if first_index is not None:  # pairs inside the index were resolved when it was built
        keep = node_part(a) < first_index
        a, b = a[keep], b[keep]
    a, b = unique_pairs(a, b)
    out = pair_rows(a, b) if verify else routed(*both_ways(a, b))
    return TaskOutput(shuffle=out, counters={"band_rows": t.num_rows, "candidate_pairs": int(a.size)})


def load_sets(nodes: np.ndarray, shingle_files: dict[int, str]) -> tuple[np.ndarray, np.ndarray]:
    """Shingle sets (CSR) of the sorted unique ``nodes``, read part by part."""
    parts = node_part(nodes)
    lists = []
    for p in np.unique(parts):
        rows = node_row(nodes[parts == p])
        lists.append(read_rows(shingle_files[int(p)], rows, columns=["shingles"]).column("shingles").combine_chunks())
    if not lists:
        return np.zeros(0, dtype=U64), np.zeros(1, dtype=np.int64)
    sizes = np.concatenate([np.diff(arr.offsets.to_numpy()) for arr in lists])
    values = np.concatenate([arr.flatten().to_numpy() for arr in lists]).astype(U64)
    return values, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def verify(shingle_files: dict[int, str], threshold: float, rows: pa.Table, partition: int) -> TaskOutput:
    """Reduce: the pairs of one pair-hash range whose exact Jaccard reaches ``threshold``."""
    t = rows
    a, b = unique_pairs(t.column("a").to_numpy(), t.column("b").to_numpy()) if t.num_rows else (np.zeros(0, U64),) * 2
    nodes = np.unique(np.concatenate([a, b]))
    values, offsets = load_sets(nodes, shingle_files)
    ia, ib = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    sim = np.array(
        [jaccard(values[offsets[i] : offsets[i + 1]], values[offsets[j] : offsets[j + 1]]) for i, j in zip(ia, ib)],
        dtype=np.float64,
    )
    keep = sim >= threshold
    return TaskOutput(
        shuffle=routed(*both_ways(a[keep], b[keep])),
        counters={
            "pairs_checked": int(a.size),
            "pairs_verified": int(keep.sum()),
            "false_positives": int((~keep).sum()),
        },
    )


def choose_keepers(nodes: np.ndarray, root: np.ndarray, size: np.ndarray, meta_files: dict[int, str]) -> pa.Table:
    """One row per clustered node (``nodes`` sorted), best first in its cluster; ``kept`` marks the first.

    Nodes of an index (parts without a meta file) always come first: they are already curated.
    """
    parts = node_part(nodes)
    is_index = ~np.isin(parts, list(meta_files))
    ids, prios = [], []
    for p in np.unique(parts[~is_index]):
        meta = read_rows(meta_files[int(p)], node_row(nodes[parts == p]), columns=["id", "prio"])
        ids.append(meta.column("id").combine_chunks().cast(pa.string()))
        prios.append(meta.column("prio").combine_chunks())
    n_index = int(is_index.sum())
    prio_type = prios[0].type if prios else pa.string()
    order = np.concatenate([np.nonzero(~is_index)[0], np.nonzero(is_index)[0]])  # meta rows come in node order
    table = pa.table(
        {
            "node": pa.array(nodes[order], pa.uint64()),
            "cluster": pa.array(root[order], pa.uint64()),
            "size": pa.array(size[order], pa.int64()),
            "is_index": pa.array(is_index[order]),
            "id": pa.concat_arrays([*ids, pa.nulls(n_index, pa.string())]),
            "prio": pa.concat_arrays([*prios, pa.nulls(n_index, prio_type)]),
        }
    )
    table = table.sort_by(
        [("cluster", "ascending"), ("is_index", "descending"), ("prio", "descending"), ("id", "ascending")]
    )
    cluster = table.column("cluster").to_numpy()
    kept = np.ones(table.num_rows, dtype=bool)
    kept[1:] = cluster[1:] != cluster[:-1]
    return table.append_column("kept", pa.array(kept))


def clusters(meta_files: dict[int, str], stars: str, index: int) -> TaskOutput:
    """Keep the best document of every component whose centre is in this file of stars."""
    t = fs.read_parquet(stars)
    nodes, root = t.column("node").to_numpy().astype(U64), t.column("root").to_numpy().astype(U64)
    order = np.argsort(nodes)  # choose_keepers reads the metadata part by part, in node order
    nodes, root = nodes[order], root[order]
    _, inverse, counts = np.unique(root, return_inverse=True, return_counts=True)
    table = choose_keepers(nodes, root, counts[inverse], meta_files)
    is_index = table.column("is_index").to_numpy(zero_copy_only=False)
    kept = table.column("kept").to_numpy(zero_copy_only=False)
    cluster = table.column("cluster").to_numpy()
    removed = table.column("node").to_numpy()[~kept]
    docs = table.filter(pa.array(~is_index)).drop_columns(["is_index", "prio"])
    return TaskOutput(
        files={"remove": removal_table(removed), "clusters": docs},
        counters={
            "clusters": int(np.unique(docs.column("cluster").to_numpy()).size),
            "clustered_docs": docs.num_rows,
            "removed": int(removed.size),
            "index_matches": int((~kept & np.isin(cluster, cluster[is_index])).sum()),
        },
    )


def read_clusters(clusters_dir: str) -> pa.Table:
    """Every clustered document of a ``clusters`` phase folder: id, node, cluster, size, kept."""
    paths = [p for p in fs.listdir(clusters_dir, ".parquet") if p.rsplit("/", 1)[-1].startswith("clusters-")]
    return pa.concat_tables([fs.read_parquet(p) for p in paths])


def run(ctx: RunContext, parts: list[str], cfg: MinHashConfig) -> list[str]:
    """Run the MinHash phases over ``parts``; return the kept parts."""
    partitions = cfg.partitions or ctx.partitions(parts)
    index = index_parts(cfg.index, cfg, first_number=2**31)
    sigs = ctx.map("dedup.minhash.signatures", parts, partial(signatures, cfg),
                   cfg.model_dump(exclude={"index_out", "partitions"}), partitions)
    docs_files = dict(enumerate(sigs.files("docs")))
    pairs = ctx.reduce(
        "dedup.minhash.buckets", sigs.shuffled,
        partial(buckets, index, partitions, cfg.max_bucket_pairs, cfg.verify), [p.as_dict() for p in index],
    )
    if cfg.verify:
        shingle_files = docs_files | {p.number: p.shingles for p in index}
        pairs = ctx.reduce("dedup.minhash.verify", pairs.shuffled, partial(verify, shingle_files, cfg.threshold),
                           cfg.threshold)
    stars = connected_components(ctx, pairs.shuffled)
    chosen = ctx.map("dedup.minhash.clusters", stars.files("stars"), partial(clusters, docs_files), stars.fingerprint)
    kept = apply_removals(ctx, "dedup.minhash", parts, chosen.files("remove"), "dedup.minhash", chosen.fingerprint)
    if cfg.index_out:
        write_index(ctx, kept, cfg)
    return kept

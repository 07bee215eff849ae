"""Global MinHash dedup as resumable phases exchanging parquet files (a file-based shuffle).

1. ``signatures`` (one task per part): shingles, MinHash signatures and LSH band keys of a whole
   batch at once; band keys are written by key range (one file per partition), shingle sets and
   (id, priority) per part.
2. ``buckets`` (one task per key range): documents sharing a band key become candidate pairs
   (all pairs in small buckets, a star around the smallest number in large ones); pairs are
   shuffled again by pair hash. Band keys of earlier runs' indexes join here.
3. ``verify`` (one task per pair range, optional): exact Jaccard over the stored shingle sets;
   pairs below the threshold are dropped.
4. ``route``, ``large_star.N``, ``small_star.N`` (P tasks each): connected components of the
   surviving pairs, distributed (``components.py``), until every component is a star around its
   smallest document.
5. ``clusters`` (one task per partition of component centres): in every component the best
   document (keep policy, then id; an indexed document always wins) is kept. Cluster ids (the
   centre's node) and sizes go to ``clusters-*.parquet`` in the phase work dir.
6. apply (one task per part): removed rows are rejected as ``dedup.minhash``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curation.dedup import components
from curation.dedup.config import MinHashConfig
from curation.dedup.hashing import U64, mix64, node_ids, node_part, node_row, partition_bounds, partition_of
from curation.dedup.minhash_index import IndexPart, index_parts, write_index
from curation.dedup.ranking import priority
from curation.dedup.removal import apply_removals, write_removals
from curation.dedup.shingles import jaccard
from curation.dedup.shuffle import read_key_range, read_partition, read_rows, shard_path, write_partitions
from curation.dedup.signatures import shingle_table, sketch
from curation.io import fs
from curation.runtime.context import RunContext, part_id
from curation.runtime.executor import Counters, Task


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


def signature_task(src: str, part_index: int, cfg: MinHashConfig, partitions: int, out_dir: str) -> Counters:
    docs = fs.read_parquet(src, columns=["id", "text", "date", "quality_score"])
    values, offsets, keys = sketch(docs.column("text"), cfg)
    has_shingles = np.diff(offsets) > 0
    table = band_table(keys, node_ids(part_index, docs.num_rows), has_shingles)
    write_partitions(table, partition_of(table.column("key").to_numpy(), partitions), partitions, out_dir, part_id(src))
    pid = part_id(src)
    if cfg.verify:
        fs.write_parquet(shingle_table(values, offsets), fs.join(out_dir, f"shingles-{pid}.parquet"))
    meta = pa.table({"id": docs.column("id"), "prio": priority(docs, cfg.keep)})
    fs.write_parquet(meta, fs.join(out_dir, f"meta-{pid}.parquet"))
    return {"docs": docs.num_rows, "shingles": int(values.size), "no_shingles": int((~has_shingles).sum())}


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


def bucket_task(
    map_dir: str,
    map_ids: list[str],
    partition: int,
    partitions: int,
    index: list[IndexPart],
    max_pairs: int,
    edge_partitions: int,
    out_dir: str,
) -> Counters:
    tables = [read_partition(map_dir, map_ids, partition)]
    tables += read_index_bands(index, *partition_bounds(partition, partitions))
    t = pa.concat_tables(tables)
    band, key, node = (t.column(c).to_numpy() for c in ("band", "key", "node"))
    a, b = bucket_pairs(band, key, node, max_pairs)
    first_index = min((p.number for p in index), default=None)
    if first_index is not None:  # pairs inside the index were resolved when it was built
        keep = node_part(a) < first_index
        a, b = a[keep], b[keep]
    a, b = unique_pairs(a, b)
    edges = pa.table({"a": pa.array(a, pa.uint64()), "b": pa.array(b, pa.uint64())})
    write_partitions(
        edges, partition_of(mix64(a ^ mix64(b)), edge_partitions), edge_partitions, out_dir, f"p{partition:05d}"
    )
    return {"band_rows": t.num_rows, "candidate_pairs": int(a.size)}


def load_sets(nodes: np.ndarray, shingle_files: dict[int, str]) -> tuple[np.ndarray, np.ndarray]:
    """Shingle sets (CSR) of the sorted unique ``nodes``, read part by part."""
    parts = node_part(nodes)
    lists = []
    for p in np.unique(parts):
        rows = node_row(nodes[parts == p])
        lists.append(read_rows(shingle_files[int(p)], rows).column("shingles").combine_chunks())
    if not lists:
        return np.zeros(0, dtype=U64), np.zeros(1, dtype=np.int64)
    sizes = np.concatenate([np.diff(arr.offsets.to_numpy()) for arr in lists])
    values = np.concatenate([arr.flatten().to_numpy() for arr in lists]).astype(U64)
    return values, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def verify_task(
    bucket_dir: str,
    bucket_ids: list[str],
    partition: int,
    shingle_files: dict[int, str],
    threshold: float,
    out_path: str,
) -> Counters:
    t = read_partition(bucket_dir, bucket_ids, partition)
    a, b = unique_pairs(t.column("a").to_numpy(), t.column("b").to_numpy()) if t.num_rows else (np.zeros(0, U64),) * 2
    nodes = np.unique(np.concatenate([a, b]))
    values, offsets = load_sets(nodes, shingle_files)
    ia, ib = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    sim = np.array(
        [jaccard(values[offsets[i] : offsets[i + 1]], values[offsets[j] : offsets[j + 1]]) for i, j in zip(ia, ib)],
        dtype=np.float64,
    )
    keep = sim >= threshold
    fs.write_parquet(pa.table({"a": a[keep], "b": b[keep], "jaccard": sim[keep]}), out_path)
    return {"pairs_checked": int(a.size), "pairs_verified": int(keep.sum()), "false_positives": int((~keep).sum())}


def choose_keepers(nodes: np.ndarray, root: np.ndarray, size: np.ndarray, meta_files: dict[int, str]) -> pa.Table:
    """One row per clustered node (``nodes`` sorted), best first in its cluster; ``kept`` marks the first.

    Nodes of an index (parts without a meta file) always come first: they are already curated.
    """
    parts = node_part(nodes)
    is_index = ~np.isin(parts, list(meta_files))
    ids, prios = [], []
    for p in np.unique(parts[~is_index]):
        meta = read_rows(meta_files[int(p)], node_row(nodes[parts == p]))
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


def clusters_task(stars: str, meta_files: dict[int, str], out_dir: str, partition: int) -> Counters:
    """Keep the best document of every component whose centre is in this partition."""
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
    write_removals(removed, removals_path(out_dir, partition))
    docs = table.filter(pa.array(~is_index)).drop_columns(["is_index", "prio"])
    fs.write_parquet(docs, fs.join(out_dir, f"clusters-{partition:05d}.parquet"))
    return {
        "clusters": int(np.unique(docs.column("cluster").to_numpy()).size),
        "clustered_docs": docs.num_rows,
        "removed": int(removed.size),
        "index_matches": int((~kept & np.isin(cluster, cluster[is_index])).sum()),
    }


def read_clusters(clusters_dir: str) -> pa.Table:
    """Every clustered document of a ``clusters`` phase folder: id, node, cluster, size, kept."""
    paths = [p for p in fs.listdir(clusters_dir, ".parquet") if p.rsplit("/", 1)[-1].startswith("clusters-")]
    return pa.concat_tables([fs.read_parquet(p) for p in paths])


def removals_path(out_dir: str, partition: int) -> str:
    return fs.join(out_dir, f"remove-{partition:05d}.parquet")


def connected_components(ctx: RunContext, edge_paths: list[str], edges_fp: str, partitions: int) -> tuple[str, str]:
    """Run large-star / small-star rounds until the graph is stars; (folder of the stars, its fingerprint)."""
    task_ids = [f"p{p:05d}" for p in range(partitions)]
    fp = ctx.fingerprint("dedup.minhash.route", edges_fp, partitions)
    prev = ctx.work_dir("dedup.minhash.route", fp)
    groups = [edge_paths[p::partitions] for p in range(partitions)]
    ctx.run_phase(
        "dedup.minhash.route",
        fp,
        [Task(t, components.route_task, {"edge_paths": g, "partitions": partitions, "out_dir": prev, "task_id": t})
         for t, g in zip(task_ids, groups)],
    )
    for round_ in range(1, components.MAX_ROUNDS + 1):
        for step, fn in (("large_star", components.large_star_task), ("small_star", components.small_star_task)):
            phase = f"dedup.minhash.{step}.{round_}"
            fp = ctx.fingerprint(phase, fp)
            out_dir = ctx.work_dir(phase, fp)
            kwargs = {"map_dir": prev, "map_ids": task_ids, "partitions": partitions, "out_dir": out_dir}
            results = ctx.run_phase(phase, fp, [Task(t, fn, {"partition": p, **kwargs}) for p, t in enumerate(task_ids)])
            if step == "large_star" and sum(r["violations"] for r in results) == 0:
                return out_dir, fp
            prev = out_dir
    raise RuntimeError(f"connected components did not converge in {components.MAX_ROUNDS} rounds")


def run(ctx: RunContext, parts: list[str], cfg: MinHashConfig) -> list[str]:
    """Run the MinHash phases over ``parts``; return the kept parts."""
    settings = cfg.model_dump(exclude={"index_out"})
    partitions = cfg.partitions or max(1, len(parts))
    ids = [part_id(p) for p in parts]
    index = index_parts(cfg.index, cfg, first_number=2**31)

    sig_fp = ctx.fingerprint("dedup.minhash.signatures", settings, list(parts))
    sig_dir = ctx.work_dir("dedup.minhash.signatures", sig_fp)
    sig_kwargs = {"cfg": cfg, "partitions": partitions, "out_dir": sig_dir}
    ctx.run_phase(
        "dedup.minhash.signatures",
        sig_fp,
        [
            Task(pid, signature_task, {"src": p, "part_index": i, **sig_kwargs})
            for i, (pid, p) in enumerate(zip(ids, parts))
        ],
    )

    buck_fp = ctx.fingerprint("dedup.minhash.buckets", sig_fp, [p.as_dict() for p in index])
    buck_dir = ctx.work_dir("dedup.minhash.buckets", buck_fp)
    buck_kwargs = {
        "map_dir": sig_dir,
        "map_ids": ids,
        "partitions": partitions,
        "index": index,
        "max_pairs": cfg.max_bucket_pairs,
        "edge_partitions": partitions,
        "out_dir": buck_dir,
    }
    bucket_ids = [f"p{p:05d}" for p in range(partitions)]
    ctx.run_phase(
        "dedup.minhash.buckets",
        buck_fp,
        [Task(b, bucket_task, {"partition": p, **buck_kwargs}) for p, b in enumerate(bucket_ids)],
    )

    if cfg.verify:
        shingle_files = {i: fs.join(sig_dir, f"shingles-{pid}.parquet") for i, pid in enumerate(ids)}
        shingle_files |= {p.number: p.shingles for p in index}
        ver_fp = ctx.fingerprint("dedup.minhash.verify", buck_fp)
        ver_dir = ctx.work_dir("dedup.minhash.verify", ver_fp)
        edge_paths = [fs.join(ver_dir, f"edges-{p:05d}.parquet") for p in range(partitions)]
        ctx.run_phase(
            "dedup.minhash.verify",
            ver_fp,
            [
                Task(
                    b,
                    verify_task,
                    {
                        "bucket_dir": buck_dir,
                        "bucket_ids": bucket_ids,
                        "partition": p,
                        "shingle_files": shingle_files,
                        "threshold": cfg.threshold,
                        "out_path": edge_paths[p],
                    },
                )
                for p, b in enumerate(bucket_ids)
            ],
        )
        edges_fp = ver_fp
    else:
        edge_paths = [shard_path(buck_dir, b, p) for b in bucket_ids for p in range(partitions)]
        edges_fp = buck_fp

    stars_dir, stars_fp = connected_components(ctx, edge_paths, edges_fp, partitions)
    meta_files = {i: fs.join(sig_dir, f"meta-{pid}.parquet") for i, pid in enumerate(ids)}
    clu_fp = ctx.fingerprint("dedup.minhash.clusters", stars_fp)
    clu_dir = ctx.work_dir("dedup.minhash.clusters", clu_fp)
    ctx.run_phase(
        "dedup.minhash.clusters",
        clu_fp,
        [
            Task(b, clusters_task, {"stars": components.stars_path(stars_dir, p), "meta_files": meta_files,
                                    "out_dir": clu_dir, "partition": p})
            for p, b in enumerate(bucket_ids)
        ],
    )
    removals = [removals_path(clu_dir, p) for p in range(partitions)]
    kept = apply_removals(ctx, "dedup.minhash", parts, removals, "dedup.minhash", clu_fp)
    if cfg.index_out:
        write_index(ctx, kept, cfg)
    return kept

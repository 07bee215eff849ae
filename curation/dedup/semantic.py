"""Semantic dedup (SemDeDup, Abbas et al. 2023), as in NeMo Curator: embed, k-means, and within
each cluster remove documents whose cosine similarity to a better-ranked one is >= 1 - eps.

Ranking inside a cluster is the keep policy (newest / longest / highest quality, then id): the
first document is always kept, a later one goes when it is too close to *any* earlier one (as in
the paper, whether or not that one is itself removed). Phases: ``embed`` (one task per part;
GPU when present), ``kmeans`` (one task, fit on an evenly strided sample), ``assign`` (one task
per part, shuffled by cluster), ``pairs`` (one task per cluster range), apply. Needs the torch
extra (sentence-transformers); imported only when semantic dedup is enabled.
"""

from __future__ import annotations

import importlib.util
import itertools
import os

import numpy as np
import pyarrow as pa

from curation.dedup.config import SemanticDedupConfig
from curation.dedup.hashing import node_ids
from curation.dedup.ranking import best_first, priority
from curation.dedup.removal import apply_removals, write_removals
from curation.dedup.shuffle import read_partition, write_partitions
from curation.io import fs
from curation.runtime.context import RunContext, part_id
from curation.runtime.executor import Counters, Task
from curation.runtime.worker_cache import cached

BLOCK = 1024


def resolve_model(name: str) -> str:
    """A local path as is; ``<package>/<dir>`` inside an installed package; otherwise a hub id."""
    if os.path.exists(name):
        return name
    package, _, rest = name.partition("/")
    spec = importlib.util.find_spec(package) if package.isidentifier() else None
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(next(iter(spec.submodule_search_locations)), rest)
        if os.path.exists(path):
            return path
    return name


def load_model(name: str, device: str | None):
    import torch
    from sentence_transformers import SentenceTransformer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return cached(
        ("sentence-transformer", name, device), lambda: SentenceTransformer(resolve_model(name), device=device)
    )


def embed(texts: list[str], cfg: SemanticDedupConfig) -> np.ndarray:
    """Unit-norm float32 embeddings of the first ``max_chars`` characters of each text."""
    model = load_model(cfg.model, cfg.device)
    if not texts:
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return np.zeros((0, dimension()), dtype=np.float32)
    clipped = [(t or "")[: cfg.max_chars] for t in texts]
    emb = model.encode(clipped, batch_size=cfg.batch_size, normalize_embeddings=True, convert_to_numpy=True)
    return np.asarray(emb, dtype=np.float32).reshape(len(texts), -1)


def vectors(table: pa.Table) -> np.ndarray:
    col = table.column("emb").combine_chunks()
    return col.values.to_numpy(zero_copy_only=False).reshape(len(col), col.type.list_size)


def embed_task(src: str, part_index: int, cfg: SemanticDedupConfig, out_path: str) -> Counters:
    docs = fs.read_parquet(src, columns=["id", "text", "date", "quality_score"])
    emb = embed(docs.column("text").to_pylist(), cfg)
    dim = emb.shape[1]
    table = pa.table(
        {
            "node": pa.array(node_ids(part_index, docs.num_rows), pa.uint64()),
            "id": docs.column("id"),
            "prio": priority(docs, cfg.keep),
            "emb": pa.FixedSizeListArray.from_arrays(pa.array(emb.reshape(-1), pa.float32()), dim),
        }
    )
    fs.write_parquet(table, out_path)
    return {"docs": docs.num_rows}


def kmeans_task(emb_paths: list[str], clusters: int, fit_sample: int, seed: int, out_path: str) -> Counters:
    from sklearn.cluster import KMeans

    data = np.concatenate([vectors(fs.read_parquet(p, columns=["emb"])) for p in emb_paths])
    step = max(1, -(-len(data) // fit_sample))
    sample = data[::step]
    k = min(clusters, len(sample))
    centroids = data[:0]
    if k:
        centroids = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(sample).cluster_centers_.astype(np.float32)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    fs.write_parquet(
        pa.table({"emb": pa.FixedSizeListArray.from_arrays(pa.array(centroids.reshape(-1)), centroids.shape[1])}),
        out_path,
    )
    return {"fit_docs": len(sample), "clusters": k}


def assign_task(emb_path: str, centroids_path: str, partitions: int, out_dir: str, task_id: str) -> Counters:
    table = fs.read_parquet(emb_path)
    centroids = vectors(fs.read_parquet(centroids_path))
    cluster = (
        np.argmax(vectors(table) @ centroids.T, axis=1).astype(np.int64) if table.num_rows else np.zeros(0, np.int64)
    )
    table = table.append_column("cluster", pa.array(cluster))
    write_partitions(table, cluster % partitions, partitions, out_dir, task_id)
    return {}


def near_duplicates(emb: np.ndarray, eps: float) -> np.ndarray:
    """Mask of rows whose cosine similarity to some earlier row is >= 1 - eps (block by block)."""
    drop = np.zeros(len(emb), dtype=bool)
    for start in range(0, len(emb), BLOCK):
        cols = emb[start : start + BLOCK]
        sim = emb[: start + len(cols)] @ cols.T
        earlier = np.arange(start + len(cols))[:, None] < (start + np.arange(len(cols)))[None, :]
        sim = np.where(earlier, sim, -np.inf)
        drop[start : start + len(cols)] = sim.max(axis=0) >= 1 - eps
    return drop


def pairs_task(map_dir: str, map_ids: list[str], partition: int, eps: float, out_path: str) -> Counters:
    table = best_first(read_partition(map_dir, map_ids, partition), group="cluster")
    cluster = table.column("cluster").to_numpy()
    emb = vectors(table)
    bounds = np.nonzero(np.concatenate([[True], cluster[1:] != cluster[:-1], [True]]))[0] if table.num_rows else [0]
    drop = np.zeros(table.num_rows, dtype=bool)
    for lo, hi in itertools.pairwise(bounds):
        drop[lo:hi] = near_duplicates(emb[lo:hi], eps)
    write_removals(table.column("node").to_numpy()[drop], out_path)
    return {"clusters": len(bounds) - 1, "removed": int(drop.sum())}


def run(ctx: RunContext, parts: list[str], cfg: SemanticDedupConfig) -> list[str]:
    """Embed, cluster and remove semantic near-duplicates; return the kept parts."""
    ids = [part_id(p) for p in parts]
    partitions = cfg.partitions or max(1, len(parts))
    settings = cfg.model_dump(exclude={"device", "batch_size"})
    emb_fp = ctx.fingerprint("dedup.semantic.embed", settings, list(parts))
    emb_dir = ctx.work_dir("dedup.semantic.embed", emb_fp)
    emb_paths = [fs.join(emb_dir, f"emb-{pid}.parquet") for pid in ids]
    ctx.run_phase(
        "dedup.semantic.embed",
        emb_fp,
        [
            Task(pid, embed_task, {"src": p, "part_index": i, "cfg": cfg, "out_path": emb_paths[i]})
            for i, (pid, p) in enumerate(zip(ids, parts))
        ],
    )
    km_fp = ctx.fingerprint("dedup.semantic.kmeans", emb_fp, ctx.config.seed)
    centroids = fs.join(ctx.work_dir("dedup.semantic.kmeans", km_fp), "centroids.parquet")
    ctx.run_phase(
        "dedup.semantic.kmeans",
        km_fp,
        [
            Task(
                "kmeans",
                kmeans_task,
                {
                    "emb_paths": emb_paths,
                    "clusters": cfg.clusters,
                    "fit_sample": cfg.fit_sample,
                    "seed": ctx.config.seed,
                    "out_path": centroids,
                },
            )
        ],
    )
    as_fp = ctx.fingerprint("dedup.semantic.assign", km_fp, partitions)
    as_dir = ctx.work_dir("dedup.semantic.assign", as_fp)
    ctx.run_phase(
        "dedup.semantic.assign",
        as_fp,
        [
            Task(
                pid,
                assign_task,
                {
                    "emb_path": emb_paths[i],
                    "centroids_path": centroids,
                    "partitions": partitions,
                    "out_dir": as_dir,
                    "task_id": pid,
                },
            )
            for i, pid in enumerate(ids)
        ],
    )
    pr_fp = ctx.fingerprint("dedup.semantic.pairs", as_fp, cfg.eps)
    pr_dir = ctx.work_dir("dedup.semantic.pairs", pr_fp)
    removals = [fs.join(pr_dir, f"remove-{p:05d}.parquet") for p in range(partitions)]
    ctx.run_phase(
        "dedup.semantic.pairs",
        pr_fp,
        [
            Task(
                f"p{p:05d}",
                pairs_task,
                {"map_dir": as_dir, "map_ids": ids, "partition": p, "eps": cfg.eps, "out_path": removals[p]},
            )
            for p in range(partitions)
        ],
    )
    return apply_removals(ctx, "dedup.semantic", parts, removals, "dedup.semantic", pr_fp)

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
from functools import partial

import numpy as np
import pyarrow as pa

from curation.dedup.config import SemanticDedupConfig
from curation.dedup.hashing import mix64, node_ids
from curation.dedup.ranking import best_first, priority
from curation.dedup.removal import apply_removals, removal_table
from curation.io import fs
from curation.runtime.context import RunContext, TaskOutput
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


def embed_part(cfg: SemanticDedupConfig, src: str, part_index: int) -> TaskOutput:
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
    return TaskOutput(files={"emb": table}, counters={"docs": docs.num_rows})


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


def assign(centroids_path: str, emb_path: str, part_index: int) -> TaskOutput:
    """Map: each embedding with its nearest centroid, shuffled by cluster."""
    table = fs.read_parquet(emb_path)
    centroids = vectors(fs.read_parquet(centroids_path))
    cluster = (
        np.argmax(vectors(table) @ centroids.T, axis=1).astype(np.int64) if table.num_rows else np.zeros(0, np.int64)
    )
    return TaskOutput(shuffle=(table.append_column("cluster", pa.array(cluster)), mix64(cluster.astype(np.uint64))))


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


def cluster_duplicates(eps: float, rows: pa.Table, partition: int) -> TaskOutput:
    """Reduce: in each cluster of this range, the documents too close to a better-ranked one."""
    table = best_first(rows, group="cluster")
    cluster = table.column("cluster").to_numpy()
    emb = vectors(table)
    bounds = np.nonzero(np.concatenate([[True], cluster[1:] != cluster[:-1], [True]]))[0] if table.num_rows else [0]
    drop = np.zeros(table.num_rows, dtype=bool)
    for lo, hi in itertools.pairwise(bounds):
        drop[lo:hi] = near_duplicates(emb[lo:hi], eps)
    removed = removal_table(table.column("node").to_numpy()[drop])
    return TaskOutput(files={"remove": removed}, counters={"clusters": len(bounds) - 1, "removed": int(drop.sum())})


def run(ctx: RunContext, parts: list[str], cfg: SemanticDedupConfig) -> list[str]:
    """Embed, cluster and remove semantic near-duplicates; return the kept parts."""
    partitions = cfg.partitions or ctx.partitions(parts)
    settings = cfg.model_dump(exclude={"device", "batch_size", "partitions"})
    embedded = ctx.map("dedup.semantic.embed", parts, partial(embed_part, cfg), settings)
    emb_paths = embedded.files("emb")
    km_fp = ctx.fingerprint("dedup.semantic.kmeans", embedded.fingerprint, ctx.config.seed)
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
        kind="reduce",
    )
    assigned = ctx.map("dedup.semantic.assign", emb_paths, partial(assign, centroids), km_fp, partitions)
    removals = ctx.reduce("dedup.semantic.pairs", assigned.shuffled, partial(cluster_duplicates, cfg.eps), cfg.eps)
    return apply_removals(ctx, "dedup.semantic", parts, removals.files("remove"), "dedup.semantic",
                          removals.fingerprint)

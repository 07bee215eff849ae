"""Duplicate-cluster sizes left by the dedup phases (``*cluster*`` files in their work folders).

The dedup phases own the format; this reader accepts the plain shapes such a file can take and
reports what it could not read instead of failing the whole statistics run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curation.io import fs
from curation.stats.summary import add_counts, describe_counts, int_counts, value_counts

SIZE_COLUMNS = ("cluster_size", "size", "sizes", "n", "count")
ID_COLUMNS = ("cluster_id", "cluster", "component")


def dedup_work_dirs(run_dir: str, manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(phase, folder) of the dedup phases of this run: the manifest's fingerprints, else every ``work/dedup*``."""
    phases = [p for p in manifest.get("phases", []) if p["name"].startswith("dedup") and p.get("fingerprint")]
    if phases:
        return [(p["name"], fs.join(run_dir, "work", p["name"], p["fingerprint"])) for p in phases]
    work = fs.join(run_dir, "work")
    return [(path.rsplit("/", 1)[-1], path) for path in fs.listdir(work) if path.rsplit("/", 1)[-1].startswith("dedup")]


def sizes_from_parquet(path: str) -> np.ndarray | None:
    fs_, inner = fs.filesystem(path)
    with fs_.open(inner, "rb") as f:
        names = pq.ParquetFile(f).schema_arrow.names
        size_col = next((c for c in SIZE_COLUMNS if c in names), None)
        id_col = next((c for c in ID_COLUMNS if c in names), None)
        if size_col is None and id_col is None:
            return None
        table = pq.read_table(f, columns=[id_col or size_col])
    if id_col:  # one row per clustered document: a cluster's size is how many rows carry its id
        counts = pc.value_counts(table.column(id_col).drop_null().combine_chunks())
        return counts.field("counts").to_numpy(zero_copy_only=False)
    return table.column(size_col).drop_null().to_numpy(zero_copy_only=False)  # one row per cluster


def sizes_from_json(data: Any) -> np.ndarray | None:
    """A list of sizes, ``{"sizes": [...]}``, or a histogram ``{"<size>": <clusters>}``."""
    if isinstance(data, list) and all(isinstance(x, int) for x in data):
        return np.asarray(data, dtype=np.int64)
    if isinstance(data, dict):
        for key in ("cluster_sizes", "sizes", "size_counts", "histogram"):
            if key in data:
                return sizes_from_json(data[key])
        if data and all(str(k).isdigit() and isinstance(v, int) for k, v in data.items()):
            return np.repeat(np.array([int(k) for k in data], dtype=np.int64), [int(v) for v in data.values()])
    return None


def cluster_stats(run_dir: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """Per dedup phase with cluster files: cluster count, documents in clusters and the size
    distribution. A phase may split its clusters over several files (one per partition); no
    cluster spans two files."""
    out: dict[str, Any] = {}
    for phase, folder in dedup_work_dirs(run_dir, manifest):
        found: dict[float, int] = {}  # cluster size -> clusters, added file by file
        seen, errors = False, []
        for path in fs.listdir(folder, (".parquet", ".json"), recursive=True):
            name = path.rsplit("/", 1)[-1]
            if "cluster" not in name:
                continue
            try:
                sizes = sizes_from_parquet(path) if name.endswith(".parquet") else sizes_from_json(fs.read_json(path))
            except (OSError, ValueError) as err:
                errors.append(f"{name} unreadable: {err}")
                continue
            if sizes is None:
                errors.append(f"{name}: no cluster size or id column")
                continue
            add_counts(found, value_counts(sizes[sizes > 1]))
            seen = True
        if errors:
            out[phase] = {"error": "; ".join(errors)}
        elif seen:
            clusters = sum(found.values())
            documents = int(sum(size * n for size, n in found.items()))
            out[phase] = {
                "clusters": clusters,
                "documents": documents,
                "duplicates": documents - clusters,  # documents beyond one per cluster
                "sizes": describe_counts(found, bins=0),
                "size_counts": int_counts(found),
            }
    return out

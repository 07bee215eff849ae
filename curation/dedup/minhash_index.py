"""A MinHash index of an already-curated corpus, for incremental dedup of a new crawl against it.

Folder layout: ``index.json`` (the MinHash settings and the parts), and per part
``bands-<part>.parquet`` (band, key, row; sorted by key so a key range reads few row groups) and
``shingles-<part>.parquet`` (for exact-Jaccard verification). Documents of the index take part
in the buckets and clusters of a later run under their own numbers and always win their cluster.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from curation.dedup.config import MinHashConfig
from curation.dedup.signatures import shingle_table, sketch
from curation.io import fs
from curation.runtime.context import RunContext, part_id
from curation.runtime.executor import Counters, Task

COMPATIBLE_KEYS = ("ngram", "bands", "rows", "seed")


@dataclass(frozen=True)
class IndexPart:
    number: int
    bands: str
    shingles: str
    docs: int

    def as_dict(self) -> dict:
        return asdict(self)


def index_parts(folders: list[str], cfg: MinHashConfig, first_number: int) -> list[IndexPart]:
    """The parts of the index folders, numbered from ``first_number``; settings must match ``cfg``."""
    out: list[IndexPart] = []
    for folder in folders:
        info = fs.read_json(fs.join(folder, "index.json"))
        for key in COMPATIBLE_KEYS:
            if info[key] != getattr(cfg, key):
                raise ValueError(
                    f"MinHash index {folder}: {key}={info[key]} but dedup.minhash.{key}={getattr(cfg, key)}"
                )
        for part in info["parts"]:
            out.append(
                IndexPart(
                    first_number + len(out),
                    fs.join(folder, f"bands-{part['name']}.parquet"),
                    fs.join(folder, f"shingles-{part['name']}.parquet"),
                    int(part["docs"]),
                )
            )
    return out


def index_task(src: str, cfg: MinHashConfig, out_dir: str) -> Counters:
    texts = fs.read_parquet(src, columns=["text"]).column("text")
    values, offsets, keys = sketch(texts, cfg)
    has = np.nonzero(np.diff(offsets) > 0)[0]
    band_keys = keys[has].reshape(-1)
    order = np.argsort(band_keys, kind="stable")
    table = pa.table(
        {
            "band": pa.array(np.tile(np.arange(cfg.bands, dtype=np.uint16), has.size)[order], pa.uint16()),
            "key": pa.array(band_keys[order], pa.uint64()),
            "row": pa.array(np.repeat(has, cfg.bands)[order].astype(np.uint32), pa.uint32()),
        }
    )
    pid = part_id(src)
    fs.write_parquet(table, fs.join(out_dir, f"bands-{pid}.parquet"))
    fs.write_parquet(shingle_table(values, offsets), fs.join(out_dir, f"shingles-{pid}.parquet"))
    return {"docs": len(texts)}


def write_index(ctx: RunContext, parts: list[str], cfg: MinHashConfig) -> None:
    """Write the MinHash index of ``parts`` (the kept documents) into ``cfg.index_out``."""
    out_dir = cfg.index_out
    fp = ctx.fingerprint("dedup.minhash.index", cfg.model_dump(), list(parts))
    tasks = [Task(part_id(p), index_task, {"src": p, "cfg": cfg, "out_dir": out_dir}) for p in parts]
    results = ctx.run_phase("dedup.minhash.index", fp, tasks)
    info = {key: getattr(cfg, key) for key in COMPATIBLE_KEYS}
    info["parts"] = [{"name": part_id(p), "docs": int(r["docs"])} for p, r in zip(parts, results)]
    fs.write_json(fs.join(out_dir, "index.json"), info)

"""Statistics of a finished run, written as ``DIR/stats/<section>.json`` and read back by ``curate stats``.

Sections: ``funnel`` (documents and tokens in/out per phase, rejects by reason, from the
manifest), ``documents`` (lengths in chars and tokens, quality scores, language/domain/source
shares), ``shards`` (rows, tokens, documents per row, split documents, padding), ``dedup``
(duplicate-cluster sizes) and ``meta`` (which manifest they describe, to spot stale stats).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import reduce
from typing import Any

from curation.io import fs
from curation.stats import documents, shards, tokens
from curation.stats.dedup import cluster_stats
from curation.stats.funnel import funnel_rows, report_console
from curation.stats.tables import print_run_stats
from curation.stats.tasks import map_tasks

SECTIONS = ("meta", "funnel", "documents", "shards", "dedup")
STATS_VERSION = 2  # 2: distinct_urls/distinct_hosts, quality scores summarised at 5 decimals


class StatsError(ValueError):
    """The folder is neither a run folder nor a shard folder; phrased as one line for the user."""


def _manifest(run_dir: str) -> tuple[dict[str, Any], str | None]:
    """The run manifest and the sha256 of its bytes (``{}``, None when the run has none yet)."""
    path = fs.join(run_dir, "manifest.json")
    if not fs.exists(path):
        return {}, None
    data = fs.read_bytes(path)
    return json.loads(data), hashlib.sha256(data).hexdigest()


def funnel_stats(manifest: dict[str, Any], shards: dict[str, Any] | None, documents: int | None) -> dict[str, Any]:
    rows = funnel_rows(manifest)
    by_reason: dict[str, int] = {}
    for row in rows:
        for reason, n in row["reasons"].items():
            by_reason[reason] = by_reason.get(reason, 0) + n
    return {
        "phases": rows,
        "documents_in": rows[0]["in"] if rows else None,
        "documents_out": documents,
        "rejected": sum(by_reason.values()),
        "rejected_by_reason": dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        "tokens_out": shards["total"]["document_tokens"] if shards else None,
    }


def gather(shard_dir: str, doc_dir: str | None, scratch: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(shard statistics, document statistics) of a shard folder and a docs folder (None when
    empty): one task per file (summary + its rows shuffled by document id into ``scratch``), one
    per partition (``stats.tokens``), run by ``map_tasks``; only summaries are merged here."""
    shard_files = fs.listdir(shard_dir, ".parquet", recursive=True)
    doc_files = fs.listdir(doc_dir, ".parquet", recursive=True) if doc_dir else []
    parts = tokens.partition_count(shard_files + doc_files)
    splits = [shards.split_of(f, shard_dir) for f in shard_files]
    shard_out = [fs.join(scratch, f"shards-{i:06d}.arrow") for i in range(len(shard_files))]
    doc_out = [fs.join(scratch, f"docs-{i:06d}.arrow") for i in range(len(doc_files))]
    per_shard = map_tasks(tokens.scatter_shard, list(zip(shard_files, splits, [parts] * len(splits), shard_out)))
    per_doc = map_tasks(tokens.scatter_docs, list(zip(doc_files, [parts] * len(doc_files), doc_out)))
    calls = [(shard_out, doc_out, p) for p in range(parts)] if shard_files else []
    per_range = map_tasks(tokens.partition_task, calls)
    shard_stats = shards.shard_section(shard_dir, splits, per_shard, per_range) if shard_files else None
    doc_stats = None
    if doc_files:
        doc_stats = documents.document_stats(reduce(documents.add_file, per_doc),
                                             tokens.merge_partitions(per_range) if per_range else None)
    return shard_stats, doc_stats


@contextmanager
def scratch_folder(run_dir: str | None) -> Iterator[str]:
    """Where the statistics' shuffle files go while they are computed: ``DIR/work/stats/<uuid>`` of a
    writable run folder (the tasks may run on other nodes), else a local temporary folder."""
    if run_dir is None:
        with tempfile.TemporaryDirectory(prefix="curate-stats-") as local:
            yield local
        return
    folder = fs.join(run_dir, "work", "stats", uuid.uuid4().hex)
    try:
        yield folder
    finally:
        fs.remove(folder, recursive=True)


def compute_run_stats(run_dir: str, write: bool = True) -> dict[str, Any]:
    """Compute every statistic of a run folder and (by default) write ``DIR/stats/<section>.json``."""
    run_dir = run_dir.rstrip("/")
    manifest, digest = _manifest(run_dir)
    with scratch_folder(run_dir if write else None) as scratch:
        shard_stats, doc_stats = gather(fs.join(run_dir, "shards"), fs.join(run_dir, "docs"), scratch)
    stats = {
        "meta": {"run_dir": run_dir, "manifest_sha256": digest, "stats_version": STATS_VERSION},
        "funnel": funnel_stats(manifest, shard_stats, doc_stats["documents"] if doc_stats else None),
        "documents": doc_stats,
        "shards": shard_stats,
        "dedup": cluster_stats(run_dir, manifest),
    }
    if write:
        for section in SECTIONS:
            fs.write_json(fs.join(run_dir, "stats", f"{section}.json"), stats[section])
    return stats


def load_run_stats(run_dir: str) -> dict[str, Any] | None:
    """The stats stored in ``DIR/stats``, or None when absent, incomplete or older than the manifest."""
    paths = {s: fs.join(run_dir, "stats", f"{s}.json") for s in SECTIONS}
    if not all(fs.exists(p) for p in paths.values()):
        return None
    stats = {s: fs.read_json(p) for s, p in paths.items()}
    meta = stats["meta"] or {}
    if meta.get("stats_version") != STATS_VERSION or meta.get("manifest_sha256") != _manifest(run_dir)[1]:
        return None
    return stats


def is_run_folder(folder: str) -> bool:
    """A run folder has ``docs/`` or a manifest with phases (a shard folder's manifest has none)."""
    return fs.exists(fs.join(folder, "docs")) or "phases" in _manifest(folder)[0]


def run_or_shard_stats(folder: str) -> dict[str, Any]:
    """Stats of a run folder (stored ones when fresh, else computed and stored) or of a shard folder."""
    folder = folder.rstrip("/")
    if is_run_folder(folder):
        stats = load_run_stats(folder)
        if stats is not None:
            return stats
        try:
            return compute_run_stats(folder)
        except PermissionError:  # a read-only run folder: show the stats without storing them
            return compute_run_stats(folder, write=False)
    with scratch_folder(None) as scratch:
        shard_stats, _ = gather(folder, None, scratch)
    if shard_stats is None:
        raise StatsError(f"{folder} is neither a run folder (docs/, manifest.json) nor a shard folder (*.parquet)")
    return {"meta": {"shard_dir": folder, "stats_version": STATS_VERSION}, "shards": shard_stats}


def stats_command(run_dir: str, as_json: bool) -> None:
    """What ``curate stats DIR [--json]`` does: print a run's (or shard folder's) statistics."""
    stats = run_or_shard_stats(run_dir)
    if as_json:
        print(json.dumps(stats, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print_run_stats(stats, report_console())

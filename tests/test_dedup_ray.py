"""Dedup output does not depend on the number of Ray workers: 1 and 2 in flight give the same bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from curation.config import parse_config
from curation.dedup.phases import run
from curation.runtime import executor
from curation.runtime.context import RunContext
from tests.test_dedup_data import write_parts
from tests.test_dedup_phases import near_duplicate_corpus


def without_fingerprint(path: Path) -> str:
    """``work/<phase>/<fingerprint>/<file>`` -> ``<phase>/<file>`` (fingerprints hash the run folder)."""
    _, phase, _, *rest = path.parts
    return "/".join([phase, *rest])


def digests(run_dir: Path) -> dict[str, str]:
    """sha256 of every parquet file the dedup phases wrote (documents, rejects, removals, clusters)."""
    return {
        without_fingerprint(p.relative_to(run_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run_dir.rglob("*.parquet"))
    }


def test_one_and_two_workers_write_identical_bytes(tmp_path, ray_local):
    docs = near_duplicate_corpus(seed=4, bases=12)
    docs["url"] = [f"http://site/{i % 40}" for i in range(len(docs["id"]))]
    docs["text"] = [t + "\nShare this page" for t in docs["text"]]
    parts = write_parts(tmp_path, docs, 4)
    cfg = parse_config({"dedup": {"lines": {"bucket_docs": 20}}})
    results = {}
    try:
        for workers in (1, 2):
            executor.configure(use_ray=True, max_in_flight=workers, progress=False)
            run_dir = tmp_path / f"workers{workers}"
            out = run(RunContext(cfg, str(run_dir)), parts)
            results[workers] = (digests(run_dir), [without_fingerprint(Path(p).relative_to(run_dir)) for p in out])
    finally:
        executor.configure(use_ray=True, max_in_flight=2, progress=False)
    assert results[1] == results[2]
    assert any("rejects-" in name for name in results[1][0])

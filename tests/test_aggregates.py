"""Driver-side aggregates from per-task summaries: exact percentiles (radix select) and the KL threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from test_filters import documents, make_run

from curation.common import order_stats
from curation.config import parse_config
from curation.filters.phases import PERCENTILE, THRESHOLDS_FILE, run
from curation.io import fs
from curation.runtime.context import RunContext, part_id
from curation.runtime.executor import finished_tasks
from curation.schema import get_signal


def values_of(part: str) -> np.ndarray:
    return fs.read_parquet(part, columns=["x"]).column("x").to_numpy()


def task_summaries(ctx: RunContext, phase: str, parts: list[str]) -> list[dict]:
    """What every task of every pass of ``phase`` returned to the driver (as its markers keep it)."""
    ids = [part_id(p) for p in parts]
    return [counters for r in ctx.phases if r.name == phase
            for counters in finished_tasks(fs.join(r.work_dir, "_done"), ids)[0].values()]


@pytest.mark.parametrize("limit", [order_stats.COLLECT_LIMIT, 40])
def test_percentile_equals_numpy_from_bucket_summaries(tmp_path: Path, limit: int) -> None:
    rng = np.random.default_rng(7)
    # spread values, a spike of equal values (only the full-depth key resolves it), ties, both signs
    chunks = [rng.normal(size=900), np.full(600, 0.25), rng.choice([-3.0, 0.0, 1e-9, 7.5], 300),
              rng.exponential(size=700) * 1e-4, np.zeros(0)]
    parts = []
    for i, chunk in enumerate(chunks):
        parts.append(str(tmp_path / "in" / f"part-{i:05d}.parquet"))
        fs.write_parquet(pa.table({"x": rng.permutation(chunk)}), parts[-1])
    everything = np.concatenate(chunks)
    ctx = RunContext(parse_config({}), str(tmp_path / "run"))
    for q in (0, 5, 33.3, 50, 62.5, 90, 99.9, 100):
        got = order_stats.percentile(ctx, "agg.percentile", parts, values_of, q, collect_limit=limit)
        assert got == float(np.percentile(everything, q)), q
    summaries = task_summaries(ctx, "agg.percentile", parts)
    collected = sum(len(bucket) for s in summaries for bucket in s.get("values", []))
    digits = max(len(d) for s in summaries for d, _ in s.get("digits", []))
    passes = len({r.fingerprint for r in ctx.phases})
    # summaries, not documents: at most a bucket's values per percentile rank, and sparse histograms
    assert collected <= 2 * 8 * limit and collected < everything.size // 2
    assert digits <= max(len(c) for c in chunks) and passes <= 4 * 8
    empty = str(tmp_path / "empty" / "part-00000.parquet")
    fs.write_parquet(pa.table({"x": pa.array([], pa.float64())}), empty)
    assert order_stats.percentile(ctx, "agg.empty", [empty], values_of, 50) is None


def test_kl_threshold_is_numpy_percentile_without_collecting_the_signal(tmp_path: Path) -> None:
    texts = documents(60, seed=11)
    ctx, parts = make_run(tmp_path, texts, [])
    run(ctx, parts)
    kl_record = next(r for r in ctx.phases if r.name == "filters.kl")
    kl_parts = fs.listdir(kl_record.work_dir, ".parquet")
    kl = np.concatenate([get_signal(fs.read_parquet(p), "kl_divergence").to_numpy() for p in kl_parts])
    decide = next(r for r in ctx.phases if r.name == "filters.decide")
    used = fs.read_json(fs.join(decide.work_dir, THRESHOLDS_FILE))
    assert used["default"]["kl.max_kl"] == float(np.percentile(kl, 90))
    # the KL phase's own histogram is the first pass; one collecting pass returns only one bucket's values
    summaries = task_summaries(ctx, PERCENTILE, kl_parts)
    assert len({r.fingerprint for r in ctx.phases if r.name == PERCENTILE}) == 1
    assert sum(len(b) for s in summaries for b in s["values"]) < len(kl) // 4

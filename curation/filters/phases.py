"""The filter phases: signals before decisions.

    filters.signals    (per part) line transforms, PII, language ID and every signal; drops nothing
    filters.reference  (per part, then merged) the corpus token histogram for the KL signal
    filters.kl         (per part) each document's KL divergence from that reference, and a mergeable
                       histogram of it (``common.order_stats``)
    filters.kl_percentile  (per part, only for ``kl.max_percentile``) the exact percentile by radix
                       select: usually one pass that returns the few values of one histogram bucket
    filters.decide     (per part) thresholds -> kept / rejected with reason "<filter>.<rule>"

Only ``filters.decide``'s fingerprint holds thresholds, so ``--set filters.gopher_quality.min_words=100``
on a finished run resumes the first three phases from disk and re-decides from stored signals.
Language routing: the ``lang`` column (fastText label) is set here; later phases group by it.
Rejected documents carry the text as the signal pass left it (C4 lines, n-gram lines and PII removed).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.common import order_stats
from curation.filters.config import FiltersConfig, settings_by_language
from curation.filters.kl import divergences, log_reference
from curation.filters.rules import decide_by_language, thresholds_by_language
from curation.filters.signals import SignalExtractor
from curation.io import fs
from curation.runtime.context import RunContext, part_id
from curation.runtime.executor import Counters, Task
from curation.schema import split_by_reason, with_signals

SIGNALS, REFERENCE, KL, DECIDE = "filters.signals", "filters.reference", "filters.kl", "filters.decide"
PERCENTILE = "filters.kl_percentile"
THRESHOLDS_FILE = "thresholds.json"
"""Written in the decide phase's work dir: the thresholds in force, default and per language (with a
resolved KL percentile)."""


def hist_path(out_dir: str, pid: str) -> str:
    return fs.join(out_dir, f"hist-{pid}.parquet")


def save_array(path: str, array: np.ndarray) -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, array=array)  # per-part token histograms are mostly zeros (512 KiB dense)
    fs.atomic_write_bytes(path, buf.getvalue())


def load_array(path: str) -> np.ndarray:
    data = np.load(io.BytesIO(fs.read_bytes(path)), allow_pickle=False)
    return data["array"] if isinstance(data, np.lib.npyio.NpzFile) else data


def signals_task(extractor: SignalExtractor, src: str, out_dir: str) -> Counters:
    docs = fs.read_parquet(src)
    docs, hist, counters = extractor(docs)
    pid = part_id(src)
    fs.write_parquet(hist, hist_path(out_dir, pid))
    fs.write_parquet(docs, fs.join(out_dir, f"part-{pid}.parquet"))
    return {"in": docs.num_rows, "out": docs.num_rows, **counters}


def reference_task(hist: str, out: str, buckets: int) -> Counters:
    table = fs.read_parquet(hist)
    values = pc.list_flatten(table.column("buckets")).to_numpy(zero_copy_only=False)
    counts = pc.list_flatten(table.column("counts")).to_numpy(zero_copy_only=False)
    totals = np.rint(np.bincount(values, weights=counts, minlength=buckets)).astype(np.int64)  # exact below 2**53
    save_array(out, totals)
    return {"tokens": int(totals.sum())}


def kl_task(src: str, hist: str, reference: str, smoothing: float, out_dir: str) -> Counters:
    docs = fs.read_parquet(src)
    table = fs.read_parquet(hist)
    log_q = log_reference(load_array(reference), smoothing)
    buckets = table.column("buckets").combine_chunks()
    counts = table.column("counts").combine_chunks()
    offsets = buckets.offsets.to_numpy()
    values = pc.list_flatten(buckets).to_numpy(zero_copy_only=False)
    weights = pc.list_flatten(counts).to_numpy(zero_copy_only=False).astype(np.float64)
    kl = divergences(offsets - offsets[0], values, weights, log_q)
    docs = with_signals(docs, {"kl_divergence": pa.array(kl, type=pa.float64())})
    fs.write_parquet(docs, fs.join(out_dir, f"part-{part_id(src)}.parquet"))
    return {"in": docs.num_rows, "out": docs.num_rows, "kl_digits": order_stats.digit_counts(
        order_stats.sortable(kl), (0, 0))}


class Decider:
    """The decide stage for ``ctx.map_documents``: thresholds (``thresholds_by_language``) in,
    (kept, rejected) out."""

    def __init__(self, active: dict[str, Any]):
        self.active = active

    def __call__(self, docs: pa.Table) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
        kept, rejected = split_by_reason(docs, pa.array(decide_by_language(docs, self.active), type=pa.string()))
        return kept, rejected, {}


def run_signals(ctx: RunContext, cfg: FiltersConfig, parts: list[str]) -> tuple[list[str], list[str]]:
    settings, _ = settings_by_language(cfg)
    settings["kl"].pop("smoothing")  # used by filters.kl only
    fp = ctx.fingerprint(SIGNALS, settings, list(parts))
    out_dir = ctx.work_dir(SIGNALS, fp)
    extractor = SignalExtractor(cfg)
    tasks = [Task(part_id(p), signals_task, {"extractor": extractor, "src": p, "out_dir": out_dir}) for p in parts]
    ctx.run_phase(SIGNALS, fp, tasks)
    ids = [part_id(p) for p in parts]
    return [fs.join(out_dir, f"part-{i}.parquet") for i in ids], [hist_path(out_dir, i) for i in ids]


def run_reference(ctx: RunContext, cfg: FiltersConfig, parts: list[str], hists: list[str]) -> str:
    """Per-part histograms summed into one reference file (streamed: one part in memory at a time)."""
    fp = ctx.fingerprint(REFERENCE, cfg.kl.buckets, hists)
    out_dir = ctx.work_dir(REFERENCE, fp)
    totals_of = {part_id(p): fs.join(out_dir, f"totals-{part_id(p)}.npy") for p in parts}
    tasks = [
        Task(pid, reference_task, {"hist": h, "out": totals_of[pid], "buckets": cfg.kl.buckets})
        for h, pid in zip(hists, totals_of)
    ]
    ctx.run_phase(REFERENCE, fp, tasks)
    reference = fs.join(out_dir, "reference.npy")
    if not fs.exists(reference):
        merged = np.zeros(cfg.kl.buckets, dtype=np.int64)
        for path in totals_of.values():
            merged += load_array(path)
        save_array(reference, merged)
    return reference


def run_kl(
    ctx: RunContext, cfg: FiltersConfig, parts: list[str], hists: list[str], reference: str
) -> tuple[list[str], dict[int, int] | None]:
    """The parts with ``kl_divergence``, and the merged first-digit histogram of it (None for runs
    whose finished tasks predate it)."""
    fp = ctx.fingerprint(KL, cfg.kl.smoothing, reference, list(parts))
    out_dir = ctx.work_dir(KL, fp)
    tasks = [
        Task(part_id(p), kl_task, {"src": p, "hist": h, "reference": reference, "smoothing": cfg.kl.smoothing,
                                   "out_dir": out_dir})
        for p, h in zip(parts, hists)
    ]
    results = ctx.run_phase(KL, fp, tasks)
    first = None
    if all("kl_digits" in r for r in results):
        first = order_stats.merge_counts([r["kl_digits"] for r in results])
    return [fs.join(out_dir, f"part-{part_id(p)}.parquet") for p in parts], first


def kl_values(part: str) -> np.ndarray:
    """The ``kl_divergence`` signal of one part (only that leaf of the signals struct is read)."""
    return fs.read_parquet(part, columns=["signals.kl_divergence"]).column(0).to_numpy()


def kl_percentile(ctx: RunContext, parts: list[str], q: float, first: dict[int, int] | None) -> float | None:
    """The q-th percentile of the stored KL signal over the whole corpus, exactly ``np.percentile``
    of all values, from per-task histograms (no per-document value reaches the driver)."""
    return order_stats.percentile(ctx, PERCENTILE, parts, kl_values, q, first)


def run(ctx: RunContext, parts: list[str]) -> list[str]:
    """Filter the documents of ``parts``; return the kept parts (rejects carry "<filter>.<rule>")."""
    cfg: FiltersConfig = ctx.config.filters
    if not cfg.enabled:
        return list(parts)
    parts, hists = run_signals(ctx, cfg, parts)
    kl_threshold = None
    if cfg.kl.enabled:
        reference = run_reference(ctx, cfg, parts, hists)
        parts, first = run_kl(ctx, cfg, parts, hists, reference)
        if cfg.kl.max_percentile is not None:
            kl_threshold = kl_percentile(ctx, parts, cfg.kl.max_percentile, first)
    active = thresholds_by_language(cfg, kl_threshold)
    fs.write_json(fs.join(ctx.work_dir(DECIDE, ctx.fingerprint(DECIDE, active, list(parts))), THRESHOLDS_FILE), active)
    return ctx.map_documents(DECIDE, parts, Decider(active), active)

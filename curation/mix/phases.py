"""Mix phases: count (real tokens per document and its group) -> plan -> sample (copies).

Tokens are counted with the shard tokenizer and its BOS/EOS settings, so every share in the
report is in the tokens the shards will hold; the ids go on with the sampled documents
(``token_ids``), so pack does not tokenize them again. The plan merges per-part summaries on the
driver: each count task returns its documents and tokens per group and a token histogram over the
sampling keys; ``mix.plan`` passes narrow each group's cut to a small bucket and collect it
(``sampler.find_cuts``). Up-sampled documents come out as extra copies with ids ``<id>#rep<k>``; documents the mix leaves out are rejects (``mix.downsampled``,
``mix.unmapped``, ``mix.low_quality``). The report goes to ``DIR/stats/mix_report.json`` (and a
printable ``mix_report.txt``).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.common.hashing import repeat_id, uniform
from curation.common.order_stats import Bucket, below_bucket, digit_counts, in_bucket
from curation.common.tokenizer import TOKEN_IDS, TokenizerConfig, get_tokenizer, token_column
from curation.io import fs
from curation.mix.config import MixConfig
from curation.mix.groups import assign_groups, sampling_weights
from curation.mix.report import build_report, format_report
from curation.mix.sampler import END, GroupPlan, Row, copies, find_cuts, plan_mix, rank_keys, sampling_keys
from curation.runtime.context import RunContext, part_id
from curation.runtime.executor import Counters, Task
from curation.schema import reject_counts, split_by_reason, with_column

log = logging.getLogger(__name__)
COUNT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("group", pa.string()),
        ("tokens", pa.int64()),
        ("key", pa.float64()),
        ("reason", pa.string()),
    ]
)


def tokens_path(out_dir: str, pid: str) -> str:
    return fs.join(out_dir, f"tokens-{pid}.parquet")


def count_task(src: str, out_dir: str, cfg: MixConfig, pack: TokenizerConfig, seed: int) -> Counters:
    """Group, token count and sampling key of every document of one part -> ``counts-<part>``; its
    token ids -> ``tokens-<part>`` (one ``token_ids`` row per document, for the sample phase)."""
    docs = fs.read_parquet(src)
    groups, values = assign_groups(docs, cfg)
    reasons: list[str | None] = [None if g is not None else "mix.unmapped" for g in groups]
    if cfg.min_quality is not None:
        quality = docs.column(cfg.quality_column).to_pylist()
        for i, q in enumerate(quality):
            if reasons[i] is None and (q is None or q < cfg.min_quality):
                reasons[i] = "mix.low_quality"
    tokenizer = get_tokenizer(pack.tokenizer, pack.add_bos, pack.add_eos)
    encoded = tokenizer.encode_texts(docs.column("text").to_pylist(), pack.batch_size)
    tokens = np.fromiter((0 if t is None else len(t) for t in encoded), dtype=np.int64, count=len(encoded))
    pid = part_id(src)
    fs.write_parquet(pa.table({TOKEN_IDS: token_column(encoded)}), tokens_path(out_dir, pid))
    ids = docs.column("id").to_pylist()
    keys = sampling_keys(uniform(seed, "mix", ids), sampling_weights(docs, values, cfg))
    table = pa.Table.from_arrays(
        [pa.array(ids), pa.array(groups, pa.string()), pa.array(tokens), pa.array(keys), pa.array(reasons, pa.string())],
        schema=COUNT_SCHEMA,
    )
    fs.write_parquet(table, fs.join(out_dir, f"counts-{pid}.parquet"))
    labelled = sum(v is not None for v in values)
    by_group = group_rows(table)
    return {
        "in": len(ids),
        "out": len(ids),
        "labelled": labelled,
        "tokens": int(tokens.sum()),
        "totals": {g: [len(t), int(t.sum())] for g, (_, _, t) in by_group.items()},
        "first": {g: digit_counts(rank_keys(k), (0, 0), t) for g, (k, _, t) in by_group.items()},
    }


def group_rows(counts: pa.Table) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(sampling keys, ids, tokens) per group of the documents the mix may take (no reject reason)."""
    live = counts.filter(pc.is_null(counts.column("reason")))
    groups = np.array(live.column("group").to_pylist(), dtype=object)
    keys, tokens = live.column("key").to_numpy(), live.column("tokens").to_numpy()
    ids = np.array(live.column("id").to_pylist(), dtype=object)
    return {g: (keys[groups == g], ids[groups == g], tokens[groups == g]) for g in sorted(set(groups))}


def last_row(keys: np.ndarray, ids: np.ndarray, tokens: np.ndarray, rows: np.ndarray) -> Row | None:
    """The last of ``rows`` in the plan's order (key descending, then id)."""
    if not rows.any():
        return None
    ranks = rank_keys(keys)
    top = np.flatnonzero(rows & (ranks == ranks[rows].max()))
    i = max(top, key=lambda j: ids[j])
    return float(keys[i]), str(ids[i]), int(tokens[i])


def plan_task(counts: str, buckets: dict[str, Bucket], collect: bool) -> Counters:
    return {"groups": plan_summary(group_rows(fs.read_parquet(counts)), buckets, collect)}


def plan_summary(
    by_group: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], buckets: dict[str, Bucket], collect: bool
) -> dict[str, Any]:
    """One part's summary per group inside its bucket: the token histogram of the next digit, or
    (``collect``) the bucket's documents and the last document before it."""
    out: dict[str, Any] = {}
    for group, bucket in buckets.items():
        keys, ids, tokens = by_group.get(group, (np.zeros(0), np.zeros(0, dtype=object), np.zeros(0, np.int64)))
        ranks = rank_keys(keys)
        if not collect:
            out[group] = digit_counts(ranks, bucket, tokens)
            continue
        end = bucket == END
        inside = np.zeros(len(keys), bool) if end else in_bucket(ranks, bucket)
        below = np.ones(len(keys), bool) if end else below_bucket(ranks, bucket)
        rows = [[float(keys[i]), str(ids[i]), int(tokens[i])] for i in np.flatnonzero(inside)]
        out[group] = [rows, last_row(keys, ids, tokens, below)]
    return out


def merge_histograms(parts: list[list[list[int]]]) -> list[list[int]]:
    """Sum ``[digits, documents, tokens]`` histograms of several tasks."""
    docs: dict[int, int] = {}
    tokens: dict[int, int] = {}
    for digits, counts, sums in parts:
        for digit, n, t in zip(digits, counts, sums):
            docs[digit] = docs.get(digit, 0) + n
            tokens[digit] = tokens.get(digit, 0) + t
    order = sorted(docs)
    return [order, [docs[d] for d in order], [tokens[d] for d in order]]


def plan_passes(ctx: RunContext, parts: list[str], count_dir: str, first: dict[str, list[list[int]]]):
    """``find_cuts`` over the count files, each pass a resumable ``mix.plan`` phase of one task per part."""

    def run(buckets: dict[str, Bucket], collect: bool) -> list[dict[str, Any]]:
        fp = ctx.fingerprint("mix.plan", count_dir, sorted(buckets.items()), collect)
        tasks = [Task(part_id(p), plan_task, {"counts": fs.join(count_dir, f"counts-{part_id(p)}.parquet"),
                                              "buckets": buckets, "collect": collect}) for p in parts]
        return [r["groups"] for r in ctx.run_phase("mix.plan", fp, tasks)]

    def count(buckets: dict[str, Bucket]) -> dict[str, list[list[int]]]:
        results = run(buckets, False)
        return {g: merge_histograms([r[g] for r in results]) for g in buckets}

    return lambda remainders: find_cuts(remainders, first, count, lambda b: merge_collected(run(b, True), b))


def merge_collected(results: list[dict[str, Any]], buckets: dict[str, Bucket]) -> dict[str, tuple[list[Row], Row | None]]:
    """Per group: the bucket's documents from every part, and the last of the parts' last documents before it."""
    out = {}
    for group in buckets:
        rows = [tuple(row) for r in results for row in r[group][0]]
        before = [tuple(r[group][1]) for r in results if r[group][1] is not None]
        previous = max(before, key=lambda row: (int(rank_keys(np.array([row[0]]))[0]), row[1]), default=None)
        out[group] = (rows, previous)
    return out


def sample_task(
    src: str, counts: str, token_file: str, out_dir: str, plans: dict[str, GroupPlan], write_rejects: bool
) -> Counters:
    """Write each document of one part (with its ``token_ids``) as many times as the plan says; the
    others are rejects."""
    docs = fs.read_parquet(src)
    table = fs.read_parquet(counts)
    groups = np.array(table.column("group").to_pylist(), dtype=object)
    keys = table.column("key").to_numpy()
    ids = np.array(table.column("id").to_pylist(), dtype=str)
    tokens = table.column("tokens").to_numpy()
    reasons = table.column("reason").to_pylist()
    n_copies = np.zeros(len(ids), dtype=np.int64)
    realised: dict[str, dict[str, int]] = {}
    for name, plan in plans.items():
        rows = np.flatnonzero((groups == name) & pc.is_null(table.column("reason")).to_numpy(zero_copy_only=False))
        n_copies[rows] = copies(plan, keys[rows], ids[rows])
        realised[name] = {
            "docs": int(n_copies[rows].sum()),
            "unique_docs": int((n_copies[rows] > 0).sum()),
            "tokens": int((n_copies[rows] * tokens[rows]).sum()),
        }
    reasons = [r if r is not None or n > 0 else "mix.downsampled" for r, n in zip(reasons, n_copies)]
    _, rejected = split_by_reason(docs, reasons)
    with_ids = docs.append_column(TOKEN_IDS, fs.read_parquet(token_file).column(TOKEN_IDS))
    outputs = []
    for copy in range(int(n_copies.max(initial=0))):
        rows = np.flatnonzero(n_copies > copy)
        chunk = with_ids.take(pa.array(rows))
        if copy:
            chunk = with_column(chunk, "id", [repeat_id(i, copy) for i in chunk.column("id").to_pylist()])
        outputs.append(chunk)
    kept = pa.concat_tables(outputs) if outputs else with_ids.slice(0, 0)
    pid = part_id(src)
    if write_rejects and rejected.num_rows:
        fs.write_parquet(rejected, fs.join(out_dir, f"rejects-{pid}.parquet"))
    fs.write_parquet(kept, fs.join(out_dir, f"part-{pid}.parquet"))
    unmapped = [i for i, r in enumerate(reasons) if r == "mix.unmapped"]
    return {
        "in": docs.num_rows,
        "out": kept.num_rows,
        "rejected": reject_counts(rejected),
        "groups": realised,
        "unmapped_tokens": int(tokens[unmapped].sum()),
    }


def write_report(ctx: RunContext, report: dict[str, Any]) -> None:
    stats = fs.join(ctx.run_dir, "stats")
    fs.write_json(fs.join(stats, "mix_report.json"), report)
    text = format_report(report)
    fs.atomic_write_bytes(fs.join(stats, "mix_report.txt"), (text + "\n").encode())
    log.info("%s", text)


def run(ctx: RunContext, parts: list[str]) -> list[str]:
    """Sample ``parts`` to the configured mix; return the new parts (the same when nothing is labelled)."""
    cfg: MixConfig = ctx.config.mix
    if not cfg.enabled:
        return list(parts)
    pack: TokenizerConfig = ctx.config.pack
    seed = int(ctx.config.seed)
    tokenizer_settings = pack.model_dump(include={"tokenizer", "add_bos", "add_eos"})
    tokenizer_sha = get_tokenizer(pack.tokenizer, pack.add_bos, pack.add_eos).info.sha256
    settings = cfg.model_dump(exclude={"budget_tokens"})
    count_fp = ctx.fingerprint("mix.count", settings, tokenizer_settings, tokenizer_sha, seed, list(parts))
    count_dir = ctx.work_dir("mix.count", count_fp)
    results = ctx.run_phase(
        "mix.count",
        count_fp,
        [
            Task(part_id(p), count_task, {"src": p, "out_dir": count_dir, "cfg": cfg, "pack": pack, "seed": seed})
            for p in parts
        ],
    )
    base = {"status": "mixed", "group_by": cfg.group_by, "seed": seed, "tokenizer": tokenizer_settings}
    if not sum(r["labelled"] for r in results):
        status = f"skipped: no document has a value in '{cfg.group_by}'; documents pass once"
        write_report(ctx, {**base, "status": status})
        return list(parts)
    count_files = [fs.join(count_dir, f"counts-{part_id(p)}.parquet") for p in parts]
    totals: dict[str, list[int]] = {}
    for r in results:
        for group, (docs, tokens) in r["totals"].items():
            totals[group] = [a + b for a, b in zip(totals.get(group, [0, 0]), (docs, tokens))]
    first = {g: merge_histograms([r["first"][g] for r in results if g in r["first"]]) for g in totals}
    budget, plans = plan_mix(totals, cfg, plan_passes(ctx, parts, count_dir, first))

    sample_fp = ctx.fingerprint("mix.sample", {g: p.as_dict() for g, p in plans.items()}, count_fp)
    sample_dir = ctx.work_dir("mix.sample", sample_fp)
    write_rejects = bool(ctx.config.output.write_rejects)
    settings = {"out_dir": sample_dir, "plans": plans, "write_rejects": write_rejects}
    tasks = [
        Task(part_id(p), sample_task, {"src": p, "counts": c, "token_file": tokens_path(count_dir, part_id(p)), **settings})
        for p, c in zip(parts, count_files)
    ]
    sampled = ctx.run_phase("mix.sample", sample_fp, tasks)
    realised: dict[str, dict[str, int]] = {}
    for counters in sampled:
        for group, got in counters["groups"].items():
            for key, value in got.items():
                realised.setdefault(group, {}).setdefault(key, 0)
                realised[group][key] += value
    rejected = {}
    for counters in sampled:
        for reason, n in counters["rejected"].items():
            rejected[reason] = rejected.get(reason, 0) + n
    extra = {
        **base,
        "unmapped_docs": rejected.get("mix.unmapped", 0),
        "unmapped_tokens": sum(c["unmapped_tokens"] for c in sampled),
        "rejected": rejected,
    }
    write_report(ctx, build_report(plans, realised, budget, extra))
    return [fs.join(sample_dir, f"part-{part_id(p)}.parquet") for p in parts]

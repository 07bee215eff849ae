"""Tokenize and pack phases: document parts in, ``DIR/shards/*.parquet`` + ``manifest.json`` out.

tokenize (one task per part): encode the texts (or take the ``token_ids`` an earlier phase left in
the part, e.g. the mix's) and file each document under its split (by id hash) and bucket (by
another id hash). pack (one task per split x bucket): read the bucket's
documents in part order, plan rows, shuffle them with the seed and write them in shards. Buckets
are random samples of the whole corpus, so reading the shards in order is a global shuffle; and
nothing depends on the number of workers or on which task finishes first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curation.common.hashing import base_id, uniform
from curation.common.tokenizer import TOKEN_IDS, get_tokenizer, token_arrays, token_column
from curation.io import fs
from curation.pack.config import PackConfig
from curation.pack.packing import plan_rows, plan_stats, rows_table
from curation.runtime.context import RunContext, part_id
from curation.runtime.executor import Counters, Task

SPLITS = ("train", "validation")
TOKENS_SCHEMA = pa.schema([pa.field("id", pa.string()), pa.field("tokens", pa.list_(pa.uint32()))])


def bucket_count(parts: Sequence[str], bucket_bytes: int) -> int:
    """Buckets for these inputs: one per ``bucket_bytes`` of part files (a function of the inputs only)."""
    total = 0
    for path in parts:
        filesystem, inner = fs.filesystem(path)
        total += filesystem.size(inner)
    return max(1, math.ceil(total / bucket_bytes))


def token_table(ids: Sequence[str], tokens: Sequence[np.ndarray]) -> pa.Table:
    return pa.Table.from_arrays([pa.array(ids, pa.string()), token_column(tokens)], schema=TOKENS_SCHEMA)


def part_tokens(src: str, cfg: PackConfig) -> tuple[list[str], list[np.ndarray | None]]:
    """Ids and token ids of one part's documents (None for empty texts): the part's ``token_ids``
    when a phase left them there (same tokenizer: its fingerprint is upstream), else encoded here."""
    filesystem, inner = fs.filesystem(src)
    with filesystem.open(inner, "rb") as f:
        has_ids = TOKEN_IDS in pq.ParquetFile(f).schema_arrow.names
    docs = fs.read_parquet(src, columns=["id", TOKEN_IDS if has_ids else "text"])
    ids = docs.column("id").to_pylist()
    if has_ids:
        return ids, token_arrays(docs.column(TOKEN_IDS))
    tokenizer = get_tokenizer(cfg.tokenizer, cfg.add_bos, cfg.add_eos)
    return ids, tokenizer.encode_texts(docs.column("text").to_pylist(), cfg.batch_size)


def tokenize_task(src: str, out_dir: str, cfg: PackConfig, seed: int, buckets: int) -> Counters:
    """Encode one part; write ``tok-<part>-<split>-<bucket>.parquet`` for every non-empty group."""
    ids, encoded = part_tokens(src, cfg)
    keep = [i for i, t in enumerate(encoded) if t is not None]
    tokens: list[np.ndarray] = [encoded[i] for i in keep]  # type: ignore[misc]
    kept_ids = [ids[i] for i in keep]
    is_val = uniform(seed, "validation", map(base_id, kept_ids)) < cfg.validation_fraction
    bucket = (uniform(seed, "bucket", kept_ids) * buckets).astype(np.int64)
    pid = part_id(src)
    files: dict[str, list[int]] = {}
    for split_code, split in enumerate(SPLITS):
        for b in np.unique(bucket[is_val == bool(split_code)]):
            rows = np.flatnonzero((is_val == bool(split_code)) & (bucket == b))
            key = f"{split}-{b:05d}"
            table = token_table([kept_ids[i] for i in rows], [tokens[i] for i in rows])
            fs.write_parquet(table, fs.join(out_dir, f"tok-{pid}-{key}.parquet"))
            files[key] = [len(rows), int(sum(len(tokens[i]) for i in rows))]
    empty = len(ids) - len(keep)
    return {
        "in": len(ids),
        "out": len(keep),
        "rejected": {"pack.empty_text": empty} if empty else {},
        "tokens": int(sum(len(t) for t in tokens)),
        "files": files,
    }


def read_tokens(files: Sequence[str]) -> tuple[list[str], list[np.ndarray]]:
    """Ids and token arrays (zero-copy views) of token files, in the given order."""
    ids: list[str] = []
    tokens: list[np.ndarray] = []
    for path in files:
        table = fs.read_parquet(path)
        column = table.column("tokens").combine_chunks()
        values = column.values.to_numpy()
        offsets = column.offsets.to_numpy()
        ids += table.column("id").to_pylist()
        tokens += [values[offsets[i] : offsets[i + 1]] for i in range(len(column))]
    return ids, tokens


def pack_task(files: list[str], out_dir: str, key: str, cfg: PackConfig, seed: int, pad_id: int) -> Counters:
    """Pack one split x bucket, shuffle its rows with the seed, write ``rows-<key>-<n>.parquet``."""
    ids, tokens = read_tokens(files)
    lengths = [len(t) for t in tokens]
    rows = plan_rows(lengths, cfg.seq_len, cfg.mode)
    if cfg.shuffle:
        order = np.argsort(uniform(seed, f"rows:{key}", (str(i) for i in range(len(rows)))), kind="stable")
        rows = [rows[i] for i in order]
    written = []
    for n, start in enumerate(range(0, len(rows), cfg.rows_per_shard)):
        chunk = rows[start : start + cfg.rows_per_shard]
        name = f"rows-{key}-{n:05d}.parquet"
        fs.write_parquet(rows_table(chunk, tokens, ids, cfg.seq_len, pad_id), fs.join(out_dir, name))
        written.append([name, len(chunk)])
    return {"in": len(ids), "out": len(ids), **plan_stats(rows, lengths, cfg.seq_len), "shards": written}


def manifest(
    cfg: PackConfig, seed: int, tokenizer_info: dict[str, Any], pad_id: int, shards: list[dict], totals: dict
) -> dict[str, Any]:
    rows, tokens = totals["rows"], totals["tokens"]
    capacity = rows * cfg.seq_len
    return {
        "format": "curation.packed-shards/1",
        "tokenizer": tokenizer_info,
        "vocab_size": tokenizer_info["vocab_size"],
        "bos_id": tokenizer_info["bos_id"],
        "eos_id": tokenizer_info["eos_id"],
        "pad_id": pad_id,
        "add_bos": cfg.add_bos,
        "add_eos": cfg.add_eos,
        "delimiting": (
            "each document is encoded as "
            + " ".join(x for x, on in (("BOS", cfg.add_bos), ("text", True), ("EOS", cfg.add_eos)) if on)
            + "; cu_seqlens bounds every segment (a document or a piece of one, see seg_offsets); "
            "a row's free tail is one padding segment of pad_id with doc_id ''"
        ),
        "seq_len": cfg.seq_len,
        "mode": cfg.mode,
        "seed": seed,
        "shuffle": cfg.shuffle,
        "validation_fraction": cfg.validation_fraction,
        "counts": {
            **totals,
            "padding_share": totals["padding_tokens"] / capacity if capacity else 0.0,
            "non_pad_share": tokens / capacity if capacity else 0.0,
            "split_share": totals["split_docs"] / totals["docs"] if totals["docs"] else 0.0,
            "docs_per_row": totals["segments"] / rows if rows else 0.0,
        },
        "shards": shards,
    }


def collect_shards(
    keys: Sequence[str], packed: Sequence[Counters], pack_dir: str
) -> tuple[list[tuple[str, str]], list[dict], dict[str, int]]:
    """Published names (``<split>-<n>.parquet``, in key order), the shard list and summed counts."""
    published: list[tuple[str, str]] = []
    shards: list[dict] = []
    totals = dict.fromkeys(("rows", "tokens", "padding_tokens", "docs", "split_docs", "segments"), 0)
    split_rows = dict.fromkeys(SPLITS, 0)
    for key, counters in zip(keys, packed):
        split = key.split("-")[0]
        for name, n_rows in counters["shards"]:
            target = f"{split}-{sum(s['split'] == split for s in shards):05d}.parquet"
            published.append((target, fs.join(pack_dir, name)))
            shards.append({"file": target, "split": split, "rows": n_rows})
        split_rows[split] += counters["rows"]
        for field in totals:
            totals[field] += counters[field]
    totals.update({f"{s}_rows": n for s, n in split_rows.items()})
    return published, shards, totals


def run(ctx: RunContext, parts: list[str]) -> dict[str, Any]:
    """Tokenize and pack ``parts``; publish ``DIR/shards``; return the shard manifest."""
    cfg: PackConfig = ctx.config.pack
    seed = int(ctx.config.seed)
    tokenizer = get_tokenizer(cfg.tokenizer, cfg.add_bos, cfg.add_eos)
    pad_id = cfg.pad_id if cfg.pad_id is not None else tokenizer.info.eos_id
    if pad_id is None:
        raise ValueError(f"tokenizer {cfg.tokenizer!r} has no EOS token to pad with; set pack.pad_id")
    buckets = bucket_count(parts, cfg.bucket_bytes)
    tok_settings = cfg.model_dump(exclude={"enabled", "shuffle", "rows_per_shard", "mode", "seq_len"})
    tok_fp = ctx.fingerprint("tokenize", tok_settings, seed, buckets, tokenizer.info.sha256, list(parts))
    tok_dir = ctx.work_dir("tokenize", tok_fp)
    tok_kwargs = {"out_dir": tok_dir, "cfg": cfg, "seed": seed, "buckets": buckets}
    tok_tasks = [Task(part_id(p), tokenize_task, {"src": p, **tok_kwargs}) for p in parts]
    results = ctx.run_phase("tokenize", tok_fp, tok_tasks)

    groups: dict[str, list[str]] = {}
    for part, counters in zip(parts, results):
        for key in counters["files"]:
            groups.setdefault(key, []).append(fs.join(tok_dir, f"tok-{part_id(part)}-{key}.parquet"))
    keys = sorted(groups, key=lambda k: (SPLITS.index(k.split("-")[0]), k))
    pack_fp = ctx.fingerprint("pack", cfg.model_dump(exclude={"enabled"}), seed, pad_id, tok_fp)
    pack_dir = ctx.work_dir("pack", pack_fp)
    pack_kwargs = {"out_dir": pack_dir, "cfg": cfg, "seed": seed, "pad_id": pad_id}
    pack_tasks = [Task(key, pack_task, {"files": groups[key], "key": key, **pack_kwargs}) for key in keys]
    packed = ctx.run_phase("pack", pack_fp, pack_tasks)

    published, shards, totals = collect_shards(keys, packed, pack_dir)
    result = manifest(cfg, seed, tokenizer.info.as_dict(), pad_id, shards, totals)
    manifest_path = fs.join(pack_dir, "manifest.json")
    fs.write_json(manifest_path, result)
    ctx.publish("shards", [*published, ("manifest.json", manifest_path)])
    return result

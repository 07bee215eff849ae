"""Label a stratified sample of a run's documents with an LLM and a versioned prompt.

Llama 3 and FineWeb-Edu both train their classifiers on LLM answers for a sample of the corpus.
The sample is drawn in a streaming way, one part file at a time: stratum sizes first, then each
stratum's lowest seeded hash ranks, then only the sampled texts are read, so the driver never
holds the corpus. Answers go to an append-only cache the moment they arrive; the labels Parquet
is assembled from the cache at the end, so re-running a killed job only asks for what is missing.

``mode="logprob"`` (default) reads each label's probability after the prefilled answer prefix in
one forward pass (every document gets a label); ``mode="generate"`` parses a generated answer
(for servers without logprobs; unparseable answers are counted, never guessed).
"""

from __future__ import annotations

import heapq
import json
import math
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from classifiers.backends import Backend
from classifiers.cache import AnswerCache, cache_key
from classifiers.prompts import Prompt
from curation.common.files import read_columns
from curation.common.hashing import hash_order, uniform
from curation.io import fs

SAMPLE_SALT = "label.sample"  # the sample ranks ids by common.hashing.uniform(seed, this, id), ties by id

Mode = Literal["logprob", "generate"]
LOW_MASS = 0.5
"""A logprob label whose label set held less than this share of the next-token probability is
counted as ``low_mass``: the model mostly wanted to say something else."""

LABEL_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text_hash", pa.string()),
        pa.field("label", pa.string()),
        pa.field("score", pa.float32()),
        pa.field("status", pa.string()),  # ok | unparseable | failed
        pa.field("raw_answer", pa.string()),
        pa.field("model", pa.string()),
        pa.field("prompt", pa.string()),
        pa.field("prompt_version", pa.string()),
        pa.field("source", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("text", pa.string()),
        pa.field("mode", pa.string()),  # logprob | generate
        pa.field("label_probs", pa.string()),  # logprob: JSON {label: probability over the label set, calibrated}
        pa.field("label_mass", pa.float32()),  # logprob: next-token probability on the label set
    ]
)


def text_hash(text: str) -> str:
    return xxhash.xxh3_128_hexdigest(text.encode())


def document_files(source: str | Sequence[str]) -> list[str]:
    """Parquet files of a run folder (``DIR/docs/*.parquet``), a folder, or given files."""
    paths = [source] if isinstance(source, str) else list(source)
    files: list[str] = []
    for path in paths:
        if path.endswith(".parquet"):
            files.append(path)
        else:
            files += fs.listdir(fs.join(path, "docs"), ".parquet") or fs.listdir(path, ".parquet")
    if not files:
        raise FileNotFoundError(f"no document parquet files in {', '.join(paths)}")
    return files


def _strata(table: pa.Table, stratify_by: Sequence[str]) -> list[tuple]:
    if not stratify_by:
        return [()] * table.num_rows
    return list(zip(*[table.column(c).to_pylist() for c in stratify_by]))


def _has_text(table: pa.Table) -> pa.Table:
    return table.filter(pc.is_valid(table.column("text")))


def _ranks(ids: Sequence[str], seed: int) -> np.ndarray:
    return uniform(seed, SAMPLE_SALT, ids)


def _quotas(sizes: Counter, n: int) -> dict[tuple, int]:
    ordered = sorted(sizes, key=lambda k: [str(v) for v in k])
    return dict(zip(ordered, _allocate(n, [sizes[k] for k in ordered])))


def _lowest(keyed: dict[tuple, list[tuple[float, str]]], quotas: dict[tuple, int]) -> set[str]:
    return {i for key, rows in keyed.items() for _, i in heapq.nsmallest(quotas.get(key, 0), rows)}


def sample_documents(docs: pa.Table, n: int, seed: int, stratify_by: Sequence[str]) -> pa.Table:
    """A seeded sample of ``n`` documents of one table (as ``sample_files`` does over files)."""
    docs = _has_text(docs)
    ids = docs.column("id").to_pylist()
    keyed: dict[tuple, list[tuple[float, str]]] = {}
    for key, rank, doc_id in zip(_strata(docs, stratify_by), _ranks(ids, seed).tolist(), ids):
        keyed.setdefault(key, []).append((rank, doc_id))
    picked = _lowest(keyed, _quotas(Counter({k: len(v) for k, v in keyed.items()}), n))
    return _order_by_hash(docs.filter(pa.array([i in picked for i in ids])), seed)


def sample_files(files: Sequence[str], n: int, seed: int, stratify_by: Sequence[str]) -> pa.Table:
    """A seeded sample of ``n`` documents with text, allocated to strata in proportion to their size.

    Three streaming passes over the files: stratum sizes; each stratum's ``quota`` lowest seeded
    hash ranks of the id (so the sample does not depend on file or row order; strata get
    largest-remainder shares, every non-empty stratum at least one when n allows); the sampled rows
    (a sampled document without text is dropped: run folders have none). The driver holds
    O(strata + n) values and reads no text but the sampled rows'.
    """
    columns = ["id", "text", "source", "lang"]
    keys = list(dict.fromkeys(stratify_by))
    sizes: Counter = Counter()
    for path in files:
        sizes.update(_strata(read_columns(path, keys), keys))
    quotas = _quotas(sizes, n)
    best: dict[tuple, list[tuple[float, str]]] = {}
    for path in files:
        part = read_columns(path, ["id", *keys])
        ids = part.column("id").to_pylist()
        for key, rank, doc_id in zip(_strata(part, keys), _ranks(ids, seed).tolist(), ids):
            rows = best.setdefault(key, [])
            if len(rows) < quotas[key]:
                heapq.heappush(rows, (-rank, doc_id))  # a max-heap of the quota lowest
            elif rows and (-rank, doc_id) > rows[0]:
                heapq.heapreplace(rows, (-rank, doc_id))
    picked = {doc_id for rows in best.values() for _, doc_id in rows}
    chosen = []
    for path in files:
        part = read_columns(path, columns)
        chosen.append(part.filter(pc.is_in(part.column("id"), pa.array(sorted(picked), pa.string()))))
    return _order_by_hash(_has_text(pa.concat_tables(chosen)), seed)


def _allocate(n: int, sizes: list[int]) -> list[int]:
    total = sum(sizes)
    if not total:
        return [0] * len(sizes)
    exact = [n * s / total for s in sizes]
    quotas = [min(s, max(1 if n >= len(sizes) else 0, math.floor(e))) for s, e in zip(sizes, exact)]
    by_remainder = sorted(range(len(sizes)), key=lambda i: (-(exact[i] - math.floor(exact[i])), i))
    while sum(quotas) > n:  # the at-least-one floor overshot: trim the largest strata
        quotas[max(range(len(sizes)), key=lambda i: (quotas[i], -i))] -= 1
    for i in by_remainder * 2:
        if sum(quotas) == n:
            break
        if quotas[i] < sizes[i]:
            quotas[i] += 1
    return quotas


def _order_by_hash(docs: pa.Table, seed: int) -> pa.Table:
    return docs.take(hash_order(seed, SAMPLE_SALT, docs.column("id").to_pylist()))


def label(
    source: str | Sequence[str],
    out: str,
    *,
    prompt: Prompt,
    backend: Backend,
    samples: int,
    seed: int = 0,
    stratify_by: Sequence[str] = ("source", "lang"),
    max_chars: int = 4000,
    max_tokens: int = 256,
    temperature: float = 0.0,
    cache: str | None = None,
    mode: Mode = "logprob",
) -> dict[str, Any]:
    """Label a sample of the documents in ``source``; write the labels Parquet ``out``; return counts."""
    start = time.perf_counter()
    sample = sample_files(document_files(source), samples, seed, stratify_by)
    texts = [t[:max_chars] for t in sample.column("text").to_pylist()]
    hashes = [text_hash(t) for t in sample.column("text").to_pylist()]
    settings: tuple = ("logprob",) if mode == "logprob" else (max_tokens, temperature)
    keys = [cache_key(backend.model, prompt.id, text_hash(t), *settings) for t in texts]
    content_free = prompt.content_free if mode == "logprob" else ()
    free_keys = [cache_key(backend.model, prompt.id, text_hash(t), *settings) for t in content_free]
    cache_path = cache or default_cache_path(out)
    counts: Counter[str] = Counter()
    with AnswerCache(cache_path) as answers:
        counts["cached"] = sum(k in answers for k in set(keys))
        # identical texts: one request; shortest first, so batches hold texts of similar length (less padding)
        asked = zip([*free_keys, *keys], [*content_free, *texts])
        todo = dict(sorted(((k, t) for k, t in asked if k not in answers), key=lambda kt: len(kt[1])))
        failures: dict[str, str] = {}
        if mode == "logprob":
            stream = backend.stream_probs(((k, prompt.messages(t, True)) for k, t in todo.items()), prompt.continuations())
        else:
            stream = backend.stream((k, prompt.messages(t)) for k, t in todo.items())
        for key, answer in stream:
            if isinstance(answer, BaseException):
                failures[key] = f"{type(answer).__name__}: {answer}"
                continue
            entry = {"key": key, "model": backend.model, "prompt": prompt.id, "mode": mode}
            if mode == "logprob":
                entry["probs"] = answer
            else:
                lab, score = prompt.parse(answer)
                entry.update({"raw": answer, "label": lab, "score": score})
            answers.append(entry)
            counts["requested"] += 1
        rows = [answers.get(k) for k in keys]
        calibration = _calibration(prompt, [answers.get(k) for k in free_keys])
    table = _labels_table(sample, hashes, rows, backend.model, prompt, mode, calibration)
    fs.write_parquet(table, out)
    statuses = Counter(table.column("status").to_pylist())
    masses = [m for m in table.column("label_mass").to_pylist() if m is not None]
    return {
        "labels": out,
        "cache": cache_path,
        "model": backend.model,
        "prompt": prompt.id,
        "mode": mode,
        "sampled": sample.num_rows,
        "cached": counts["cached"],
        "requested": counts["requested"],
        "ok": statuses["ok"],
        "unparseable": statuses["unparseable"],
        "failed": statuses["failed"],
        "low_mass": sum(m < LOW_MASS for m in masses),
        "mean_label_mass": round(float(np.mean(masses)), 4) if masses else None,
        "calibration": {k: round(v, 4) for k, v in calibration.items()} if calibration else None,
        "errors": sorted(set(failures.values()))[:5],
        "label_counts": dict(sorted(Counter(v for v in table.column("label").to_pylist() if v).items())),
        "seconds": round(time.perf_counter() - start, 3),
    }


def default_cache_path(out: str) -> str:
    return out.removesuffix(".parquet") + ".cache.jsonl"


def _calibration(prompt: Prompt, entries: list[dict[str, Any] | None]) -> dict[str, float] | None:
    """The mean label probabilities given the prompt's content-free inputs (``Prompt.read_probs``);
    None without content-free inputs, or while one of them failed (the labels are then uncalibrated,
    and the summary says so: a re-run asks for the missing ones)."""
    if not entries or any(e is None for e in entries):
        return None
    readings = [prompt.read_probs(e["probs"]).probs for e in entries]  # type: ignore[index]
    return {label: float(np.mean([r[label] for r in readings])) for label in prompt.labels}


def _read_entry(
    entry: dict[str, Any] | None, prompt: Prompt, calibration: dict[str, float] | None
) -> dict[str, Any]:
    """A label row's answer columns from its cache entry (None: the request failed)."""
    if entry is None:
        return {"status": "failed"}
    if "probs" not in entry:
        ok = entry["label"] is not None
        return {"status": "ok" if ok else "unparseable", "label": entry["label"], "score": entry["score"],
                "raw_answer": entry["raw"]}  # fmt: skip
    reading = prompt.read_probs(entry["probs"], calibration)
    return {
        "status": "ok",
        "label": reading.label,
        "score": reading.score,
        "label_probs": json.dumps({k: round(v, 6) for k, v in reading.probs.items()}),
        "label_mass": reading.mass,
    }


def _labels_table(
    sample: pa.Table,
    hashes: list[str],
    rows: list[dict[str, Any] | None],
    model: str,
    prompt: Prompt,
    mode: Mode,
    calibration: dict[str, float] | None,
) -> pa.Table:
    n = sample.num_rows
    read = [_read_entry(r, prompt, calibration) for r in rows]
    columns: dict[str, Any] = {
        "id": sample.column("id"),
        "text_hash": hashes,
        "model": [model] * n,
        "prompt": [prompt.name] * n,
        "prompt_version": [prompt.version] * n,
        "source": sample.column("source"),
        "lang": sample.column("lang"),
        "text": sample.column("text"),
        "mode": [mode] * n,
    }
    for name in ("label", "score", "status", "raw_answer", "label_probs", "label_mass"):
        columns[name] = [r.get(name) for r in read]
    return pa.Table.from_pydict(
        {f.name: _as_array(columns[f.name], f.type) for f in LABEL_SCHEMA}, schema=LABEL_SCHEMA
    )


def _as_array(values: Any, type_: pa.DataType) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values.cast(type_)
    return pa.array(values, type=type_)

"""Label a stratified sample of a run's documents with an LLM and a versioned prompt.

Llama 3 and FineWeb-Edu both train their classifiers on LLM answers for a sample of the corpus.
Answers go to an append-only cache the moment they arrive; the labels Parquet is assembled from
the cache at the end, so re-running a killed job only asks for what is missing.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from classifiers.backends import Backend
from classifiers.cache import AnswerCache, cache_key
from classifiers.prompts import Prompt
from curation.common.hashing import hash_order
from curation.io import fs

SAMPLE_SALT = "label.sample"  # the sample ranks ids by common.hashing.uniform(seed, this, id)

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


def read_documents(source: str | Sequence[str], columns: Sequence[str]) -> pa.Table:
    tables = [fs.read_parquet(f, columns=list(columns)) for f in document_files(source)]
    return pa.concat_tables(tables)


def sample_documents(docs: pa.Table, n: int, seed: int, stratify_by: Sequence[str]) -> pa.Table:
    """A seeded sample of ``n`` documents, allocated to strata in proportion to their size.

    Rows are ranked by a seeded hash of their id, so the sample does not depend on file or row
    order; strata get largest-remainder shares (every non-empty stratum at least one when n allows).
    """
    if n >= docs.num_rows:
        return _order_by_hash(docs, seed)
    keys = [tuple(row) for row in zip(*[docs.column(c).to_pylist() for c in stratify_by])] if stratify_by else None
    strata: dict[tuple, list[int]] = {}
    for i, key in enumerate(keys or [()] * docs.num_rows):
        strata.setdefault(key, []).append(i)
    ordered = sorted(strata, key=lambda k: [str(v) for v in k])
    quotas = _allocate(n, [len(strata[k]) for k in ordered])
    position = {row: rank for rank, row in enumerate(hash_order(seed, SAMPLE_SALT, docs.column("id").to_pylist()))}
    picked: list[int] = []
    for key, quota in zip(ordered, quotas):
        picked += sorted(strata[key], key=position.__getitem__)[:quota]
    return _order_by_hash(docs.take(sorted(picked)), seed)


def _allocate(n: int, sizes: list[int]) -> list[int]:
    total = sum(sizes)
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
) -> dict[str, Any]:
    """Label a sample of the documents in ``source``; write the labels Parquet ``out``; return counts."""
    start = time.perf_counter()
    docs = read_documents(source, ["id", "text", "source", "lang"])
    docs = docs.filter(pc.invert(pc.is_null(docs.column("text"))))
    sample = sample_documents(docs, samples, seed, stratify_by)
    texts = [t[:max_chars] for t in sample.column("text").to_pylist()]
    hashes = [text_hash(t) for t in sample.column("text").to_pylist()]
    keys = [cache_key(backend.model, prompt.id, text_hash(t), max_tokens, temperature) for t in texts]
    cache_path = cache or default_cache_path(out)
    counts: Counter[str] = Counter()
    with AnswerCache(cache_path) as answers:
        counts["cached"] = sum(k in answers for k in set(keys))
        todo = {k: t for k, t in zip(keys, texts) if k not in answers}  # identical texts: one request
        failures: dict[str, str] = {}
        for key, answer in backend.stream((k, prompt.messages(t)) for k, t in todo.items()):
            if isinstance(answer, BaseException):
                failures[key] = f"{type(answer).__name__}: {answer}"
                continue
            lab, score = prompt.parse(answer)
            answers.append(
                {"key": key, "model": backend.model, "prompt": prompt.id, "raw": answer, "label": lab, "score": score}
            )
            counts["requested"] += 1
        rows = [answers.get(k) for k in keys]
    table = _labels_table(sample, hashes, rows, backend.model, prompt)
    fs.write_parquet(table, out)
    statuses = Counter(table.column("status").to_pylist())
    return {
        "labels": out,
        "cache": cache_path,
        "model": backend.model,
        "prompt": prompt.id,
        "sampled": sample.num_rows,
        "cached": counts["cached"],
        "requested": counts["requested"],
        "ok": statuses["ok"],
        "unparseable": statuses["unparseable"],
        "failed": statuses["failed"],
        "errors": sorted(set(failures.values()))[:5],
        "label_counts": dict(sorted(Counter(v for v in table.column("label").to_pylist() if v).items())),
        "seconds": round(time.perf_counter() - start, 3),
    }


def default_cache_path(out: str) -> str:
    return out.removesuffix(".parquet") + ".cache.jsonl"


def _labels_table(
    sample: pa.Table, hashes: list[str], rows: list[dict[str, Any] | None], model: str, prompt: Prompt
) -> pa.Table:
    def status(row: dict[str, Any] | None) -> str:
        return "failed" if row is None else ("ok" if row["label"] is not None else "unparseable")

    n = sample.num_rows
    columns = {
        "id": sample.column("id"),
        "text_hash": hashes,
        "label": [r and r["label"] for r in rows],
        "score": [r and r["score"] for r in rows],
        "status": [status(r) for r in rows],
        "raw_answer": [r and r["raw"] for r in rows],
        "model": [model] * n,
        "prompt": [prompt.name] * n,
        "prompt_version": [prompt.version] * n,
        "source": sample.column("source"),
        "lang": sample.column("lang"),
        "text": sample.column("text"),
    }
    return pa.Table.from_pydict(
        {f.name: _as_array(columns[f.name], f.type) for f in LABEL_SCHEMA}, schema=LABEL_SCHEMA
    )


def _as_array(values: Any, type_: pa.DataType) -> pa.Array | pa.ChunkedArray:
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values.cast(type_)
    return pa.array(values, type=type_)

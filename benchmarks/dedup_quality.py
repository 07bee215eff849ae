"""MinHash dedup quality against brute-force exact Jaccard, side by side with datatrove's MinHash.

Corpus: real text (``../shared/data/text/*.jsonl`` cut into windows of about ``--words`` words;
generated text when absent) plus near-duplicates with known edits (a random share of up to 12% of
words replaced, deleted or inserted). Neighbouring windows overlap, which gives many partial
duplicates (Jaccard 0.2-0.7): hard negatives for precision. Ground truth: exact Jaccard over the
very shingles our MinHash uses (5-word shingles of normalised text), all pairs, through a sparse
product. Reported at
Jaccard >= 0.8, for our dedup (default 20x6 bands with verification, and without it; datatrove's
14x8 with and without it: "14x8, no verify" is datatrove's own method, the like-for-like row) and
for datatrove's four MinHash stages run locally on the same documents:
- pair recall: true pairs that end in the same cluster;
- pair precision: same-cluster pairs that are true pairs (transitive chains count against it);
- document precision / recall: documents put in a duplicate cluster vs documents with a true partner.

Saves ``benchmarks/results/dedup_quality.json`` (``dedup_quality-small.json`` with ``--small``).

    python benchmarks/dedup_quality.py [--small]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import save
from curation.config import parse_config
from curation.dedup import minhash
from curation.dedup.shingles import shingle_sets
from curation.io import fs
from curation.runtime import executor
from curation.runtime.context import RunContext
from curation.schema import make_documents

SHARED_TEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "text"
THRESHOLD = 0.8


def real_words() -> list[str]:
    words: list[str] = []
    for path in sorted(SHARED_TEXT.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            words += json.loads(line).get("text", "").split()
    return words


def generated_words(rng: random.Random, count: int) -> list[str]:
    """Zipf-distributed pseudo-words: a stand-in for real text when the shared data is absent."""
    vocab = ["".join(rng.choice("etaoinshrdlucmfwypvbgkjqxz") for _ in range(rng.randint(2, 10))) for _ in range(20000)]
    weights = [1 / (r + 1) for r in range(len(vocab))]
    return rng.choices(vocab, weights=weights, k=count)


def base_documents(n: int, words: int, rng: random.Random) -> tuple[list[str], str]:
    pool = real_words()
    source = "shared/data/text"
    if len(pool) < words * 10:
        pool, source = generated_words(rng, n * words), "generated"
    docs = []
    for i in range(n):
        start = (i * words) % max(1, len(pool) - words)
        length = rng.randint(words // 2, words * 3 // 2)
        docs.append(" ".join(pool[start : start + length]))
    return docs, source


def edited(text: str, rate: float, vocab: list[str], rng: random.Random) -> str:
    """A near-duplicate: each word replaced, deleted or followed by an insertion with probability ``rate``."""
    out = []
    for word in text.split():
        r = rng.random()
        if r < rate / 3:
            out.append(rng.choice(vocab))
        elif r < 2 * rate / 3:
            continue
        elif r < rate:
            out += [word, rng.choice(vocab)]
        else:
            out.append(word)
    return " ".join(out)


def make_corpus(n_base: int, n_variants: int, words: int, seed: int) -> tuple[list[str], str]:
    rng = random.Random(seed)
    bases, source = base_documents(n_base, words, rng)
    vocab = " ".join(bases[: min(200, len(bases))]).split()
    texts = list(bases)
    for _ in range(n_variants):
        texts.append(edited(rng.choice(bases), rng.uniform(0.0, 0.12), vocab, rng))
    rng.shuffle(texts)
    return texts, source


def true_pairs(texts: list[str], ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i < j) with exact Jaccard >= THRESHOLD over our shingles, by a sparse product."""
    values, offsets = shingle_sets(pa.array(texts), ngram)
    _, cols = np.unique(values, return_inverse=True)
    rows = np.repeat(np.arange(len(texts)), np.diff(offsets))
    x = sparse.csr_matrix((np.ones(values.size, dtype=np.float32), (rows, cols)), shape=(len(texts), cols.max() + 1))
    inter = sparse.triu(x @ x.T, k=1).tocoo()
    sizes = np.diff(offsets)
    jac = inter.data / (sizes[inter.row] + sizes[inter.col] - inter.data)
    keep = jac >= THRESHOLD
    return inter.row[keep], inter.col[keep]


def write_parts(texts: list[str], folder: str, n_parts: int) -> list[str]:
    paths = []
    for k in range(n_parts):
        rows = list(range(k, len(texts), n_parts))
        table = make_documents({"id": [f"{i:08d}" for i in rows], "text": [texts[i] for i in rows]})
        paths.append(fs.join(folder, f"part-{k:05d}.parquet"))
        fs.write_parquet(table, paths[-1])
    return paths


def ours(parts: list[str], n_docs: int, run_dir: str, **minhash_cfg) -> tuple[np.ndarray, float]:
    """Cluster label per document (-1 = no duplicate) from our MinHash phases, and the seconds taken."""
    executor.configure(use_ray=False, max_in_flight=1, progress=False)
    cfg = parse_config({"dedup": {"minhash": minhash_cfg}})
    ctx = RunContext(cfg, run_dir)
    start = time.perf_counter()
    minhash.run(ctx, parts, cfg.dedup.minhash)
    seconds = time.perf_counter() - start
    comp = next(p for p in ctx.phases if p.name == "dedup.minhash.clusters")
    clusters = minhash.read_clusters(comp.work_dir)
    labels = np.full(n_docs, -1, dtype=np.int64)
    labels[np.array(clusters.column("id").to_pylist(), dtype=np.int64)] = clusters.column("cluster").to_numpy()
    return labels, seconds


def patch_datatrove_xxhash() -> None:
    """datatrove 0.10 passes ``str`` to xxhash, which xxhash 4 no longer accepts: encode first."""
    import xxhash
    from datatrove.utils.hashes import xxhash as datatrove_xxhash

    datatrove_xxhash.xxhash64 = lambda data: xxhash.xxh64_intdigest(data.encode() if isinstance(data, str) else data)
    datatrove_xxhash.xxhash32 = lambda data: xxhash.xxh32_intdigest(data.encode() if isinstance(data, str) else data)


def datatrove_stages(texts: list[str], folder: str, bands: int = 14, rows: int = 8, tasks: int = 1) -> dict:
    """Run datatrove's four MinHash stages locally; return the stage folders and seconds."""
    patch_datatrove_xxhash()
    from datatrove.data import Document
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )

    config = MinhashConfig(num_buckets=bands, hashes_per_bucket=rows)
    shards = [
        [Document(text=t, id=str(i)) for i in range(k, len(texts), tasks) for t in [texts[i]]] for k in range(tasks)
    ]

    def reader(data, rank: int = 0, world_size: int = 1):
        yield from shards[rank]

    def run(pipeline: list, n: int, name: str) -> None:
        executor = LocalPipelineExecutor(
            pipeline=pipeline, tasks=n, workers=1, logging_dir=f"{folder}/logs/{name}", skip_completed=False
        )
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            executor.run()  # its per-stage logs and stats tables stay out of the report

    start = time.perf_counter()
    run([reader, MinhashDedupSignature(output_folder=f"{folder}/sigs", config=config)], tasks, "sigs")
    run(
        [MinhashDedupBuckets(input_folder=f"{folder}/sigs", output_folder=f"{folder}/buckets", config=config)],
        bands,
        "buckets",
    )
    run(
        [
            MinhashDedupCluster(
                input_folder=f"{folder}/buckets", output_folder=f"{folder}/remove", config=config, save_cluster_id=True
            )
        ],
        1,
        "cluster",
    )
    run([reader, MinhashDedupFilter(input_folder=f"{folder}/remove", load_cluster_ids=True)], tasks, "filter")
    return {"folder": folder, "seconds": time.perf_counter() - start, "tasks": tasks}


def datatrove_labels(result: dict, n_docs: int) -> np.ndarray:
    labels = np.full(n_docs, -1, dtype=np.int64)
    tasks = result["tasks"]
    for rank in range(tasks):
        path = Path(result["folder"]) / "remove" / f"{rank:06d}.clusters"
        if path.exists():
            data = path.read_bytes()
            for doc, cluster in struct.iter_unpack("<2I", data):
                labels[rank + doc * tasks] = cluster
    return labels


def metrics(labels: np.ndarray, ti: np.ndarray, tj: np.ndarray) -> dict[str, float]:
    same = (labels[ti] == labels[tj]) & (labels[ti] >= 0)
    truth = set(zip(ti.tolist(), tj.tolist()))
    predicted = 0
    correct = 0
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    bounds = np.nonzero(np.diff(sorted_labels))[0] + 1
    for group in np.split(order, bounds):
        if labels[group[0]] < 0 or group.size < 2:
            continue
        members = np.sort(group)
        for a in range(members.size):
            for b in range(a + 1, members.size):
                predicted += 1
                correct += (int(members[a]), int(members[b])) in truth
    true_docs = set(ti.tolist()) | set(tj.tolist())
    pred_docs = set(np.nonzero(labels >= 0)[0].tolist())
    return {
        "pair_recall": float(same.mean()) if same.size else 1.0,
        "pair_precision": correct / predicted if predicted else 1.0,
        "doc_recall": len(true_docs & pred_docs) / len(true_docs) if true_docs else 1.0,
        "doc_precision": len(true_docs & pred_docs) / len(pred_docs) if pred_docs else 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="a quick run (600 base documents)")
    parser.add_argument("--base", type=int, default=3000, help="base documents")
    parser.add_argument("--variants", type=int, default=2000, help="near-duplicates added")
    parser.add_argument("--words", type=int, default=300, help="average words per base document")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.small:
        args.base, args.variants = 600, 400
    texts, source = make_corpus(args.base, args.variants, args.words, args.seed)
    ti, tj = true_pairs(texts, 5)
    print(f"corpus: {len(texts)} documents from {source}; {ti.size} true pairs at Jaccard >= {THRESHOLD}")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        parts = write_parts(texts, f"{tmp}/input", 4)
        variants = {
            "ours 20x6 + verify (default)": {},
            "ours 20x6, no verify": {"verify": False},
            "ours 14x8 + verify": {"bands": 14, "rows": 8},
            "ours 14x8, no verify (datatrove's method)": {"bands": 14, "rows": 8, "verify": False},
        }
        for name, overrides in variants.items():
            labels, seconds = ours(parts, len(texts), f"{tmp}/{len(rows)}", **overrides)
            rows[name] = {**metrics(labels, ti, tj), "seconds": seconds}
        result = datatrove_stages(texts, f"{tmp}/datatrove")
        rows["datatrove 14x8 (4 stages)"] = {
            **metrics(datatrove_labels(result, len(texts)), ti, tj),
            "seconds": result["seconds"],
        }
    header = f"{'method':42s} {'pair rec':>9s} {'pair prec':>9s} {'doc rec':>8s} {'doc prec':>8s} {'seconds':>8s}"
    print(header)
    for name, r in rows.items():
        print(
            f"{name:42s} {r['pair_recall']:9.4f} {r['pair_precision']:9.4f} {r['doc_recall']:8.4f} "
            f"{r['doc_precision']:8.4f} {r['seconds']:8.2f}"
        )
    default, anchor = rows["ours 20x6 + verify (default)"], rows["datatrove 14x8 (4 stages)"]
    met = min(default["pair_recall"], default["doc_recall"], default["doc_precision"]) >= 0.95
    print(
        f"pair recall vs datatrove: {default['pair_recall']:.4f} vs {anchor['pair_recall']:.4f}; goal recall and "
        f"(document) precision >= 0.95: {'met' if met else 'NOT met'}"
    )
    result = {"documents": len(texts), "true_pairs": int(ti.size), "threshold": THRESHOLD, "source": source,
              "results": rows}
    print(f"saved {save('dedup_quality-small' if args.small else 'dedup_quality', result)}")


if __name__ == "__main__":
    main()

"""LLM labelling: logprob mode against generation mode on the same documents and the same model.

Both modes label the same documents with the bundled SmolLM2-135M-Instruct through the local
``transformers`` backend (same batch size, same prompt, same truncation, model loaded once, cold
answer caches, the prefix cache cleared before each mode): logprob mode reads the label
probabilities after the prefilled answer prefix in one forward pass; generation mode generates up to
``--max-tokens`` (the ``quality.label`` default, 256) and parses the answer. What speeds up both
(documents ordered by length, the shared prompt prefix's KV cache computed once) runs in both; only
logprob mode's own forward pass keeps just the last position's logits, as ``generate`` already does.
Reported: documents/s of each (wall clock, and per CPU-second of this process, steadier on a shared
machine) and their ratios (goal >= 10x), generation's parse rate, the agreement of the two modes'
labels where generation parsed, and the load average.

    python benchmarks/label.py [--docs 100] [--max-tokens 256]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow.parquet as pq  # noqa: E402
from common import save  # noqa: E402

from classifiers.backends import TransformersBackend  # noqa: E402
from classifiers.label import label  # noqa: E402
from classifiers.prompts import LLAMA3_QUALITY_BINARY  # noqa: E402
from classifiers.synthetic import make_corpus  # noqa: E402
from curation.io import fs  # noqa: E402
from curation.schema import make_documents  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--max-chars", type=int, default=600)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    load_start = round(os.getloadavg()[0], 2)
    docs = make_corpus(args.docs, seed=0)
    backend = TransformersBackend(batch_size=args.batch_size, max_tokens=args.max_tokens)
    results, labels = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        fs.write_parquet(
            make_documents({"id": [d["id"] for d in docs], "text": [d["text"] for d in docs]}),
            f"{tmp}/run/docs/part-000000.parquet",
        )
        for mode in ("logprob", "generate"):
            out = f"{tmp}/{mode}.parquet"
            backend.clear_prefix_cache()
            start, cpu_start = time.perf_counter(), time.process_time()
            summary = label(f"{tmp}/run", out, prompt=LLAMA3_QUALITY_BINARY, backend=backend, samples=args.docs,
                            max_chars=args.max_chars, max_tokens=args.max_tokens, mode=mode)  # fmt: skip
            seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
            table = pq.read_table(out)
            labels[mode] = dict(zip(table.column("id").to_pylist(), table.column("label").to_pylist()))
            results[mode] = {
                "seconds": round(seconds, 2),
                "docs_per_s": round(args.docs / seconds, 3),
                "cpu_seconds": round(cpu_seconds, 2),
                "docs_per_cpu_s": round(args.docs / cpu_seconds, 3),
                "parsed": summary["ok"],
                "parse_rate": round(summary["ok"] / args.docs, 4),
                "labels": dict(Counter(v for v in labels[mode].values() if v)),
            }
            print(f"{mode:9s} {results[mode]['docs_per_s']:.3f} docs/s  parse rate {results[mode]['parse_rate']:.2%}"
                  f"  labels {results[mode]['labels']}", flush=True)  # fmt: skip
    parsed = [i for i, v in labels["generate"].items() if v]
    agree = sum(labels["generate"][i] == labels["logprob"][i] for i in parsed)
    speedup = results["logprob"]["docs_per_s"] / results["generate"]["docs_per_s"]
    cpu_speedup = results["logprob"]["docs_per_cpu_s"] / results["generate"]["docs_per_cpu_s"]
    result = {
        "benchmark": "label",
        "model": backend.model,
        "prompt": LLAMA3_QUALITY_BINARY.id,
        "docs": args.docs,
        "max_chars": args.max_chars,
        "batch_size": args.batch_size,
        "generate_max_tokens": args.max_tokens,
        "logprob": results["logprob"],
        "generate": results["generate"],
        "speedup": round(speedup, 2),
        "cpu_speedup": round(cpu_speedup, 2),
        "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
        "agreement_where_generation_parsed": round(agree / len(parsed), 4) if parsed else None,
        "generation_parsed": len(parsed),
        "goal": "logprob >= 10x generation docs/s",
    }
    print(f"logprob / generate: {speedup:.1f}x wall, {cpu_speedup:.1f}x CPU; agreement {result['agreement_where_generation_parsed']} "
          f"on {len(parsed)} documents generation parsed")  # fmt: skip
    print(f"saved {save('label', result)}")


if __name__ == "__main__":
    main()

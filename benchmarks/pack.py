"""Tokenize + pack throughput against raw ``tokenizers`` ``encode_batch`` on the same text, same run.

Ours: ``TextTokenizer.encode`` (Llama 3, BOS/EOS added) + row planning + the Arrow shard table of
every row (what a pack task does before writing Parquet). Anchor: ``Tokenizer.encode_batch`` over
the same batches; ``encode_batch_fast`` (the call ours makes: no character offsets) is shown too,
so the cost of packing itself is visible. Both are timed in alternation, best of ``--repeats``. Also prints, for both
packing modes at ``--seq-len``, the share of non-pad tokens and the share of documents split.

    python benchmarks/pack.py [--small] [--seq-len 8192] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import SHARED_DATA, save  # noqa: E402
from curation.pack.packing import plan_rows, plan_stats, rows_table  # noqa: E402
from curation.common.tokenizer import TextTokenizer, llama3_tokenizer_path  # noqa: E402

BATCH = 1024


def load_texts(small: bool) -> tuple[list[str], str]:
    files = sorted((SHARED_DATA / "text").glob("*.jsonl"))
    if files:
        texts = [json.loads(line)["text"] for f in files for line in f.open()]
        source = ", ".join(f.name for f in files)
    else:
        rng = np.random.default_rng(0)
        words = "the of and to in data model learning training token sequence attention".split()
        texts = [" ".join(rng.choice(words, size=int(n))) for n in rng.lognormal(6, 1.2, size=2000)]
        source = "generated (shared data absent)"
    texts = [t for t in texts if t]
    return (texts[: len(texts) // 4] if small else texts), source


def batches(texts: list[str]) -> list[list[str]]:
    return [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]


def raw_encode(tokenizer: Tokenizer, texts: list[str], method: str = "encode_batch") -> int:
    encode = getattr(tokenizer, method)
    return sum(len(e.ids) for batch in batches(texts) for e in encode(batch))


def pack(tokens: list[np.ndarray], seq_len: int, mode: str, pad_id: int) -> int:
    """Plan rows and build their shard tables, as a pack task does."""
    rows = plan_rows([len(t) for t in tokens], seq_len, mode)
    ids = [str(i) for i in range(len(tokens))]
    for start in range(0, len(rows), 1024):
        rows_table(rows[start : start + 1024], tokens, ids, seq_len, pad_id)
    return sum(len(t) for t in tokens)


def tokenize_and_pack(tokenizer: TextTokenizer, texts: list[str], seq_len: int, mode: str) -> int:
    tokens = [t for batch in batches(texts) for t in tokenizer.encode(batch)]
    return pack(tokens, seq_len, mode, tokenizer.info.eos_id)


def best_time(fn, repeats: int) -> tuple[float, int]:
    best, out = float("inf"), 0
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a quarter of the text")
    parser.add_argument("--seq-len", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts, source = load_texts(args.small)
    raw = Tokenizer.from_file(llama3_tokenizer_path())
    ours = TextTokenizer("llama3", add_bos=True, add_eos=True)
    print(f"text: {source}: {len(texts):,} documents, {sum(map(len, texts)):,} characters")

    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    for _ in range(args.repeats):  # alternate, so a noisy neighbour hits both sides alike
        for name, fn in (
            ("raw_encode_batch", lambda: raw_encode(raw, texts)),
            ("raw_encode_batch_fast", lambda: raw_encode(raw, texts, "encode_batch_fast")),
            ("tokenize_pack_best_fit", lambda: tokenize_and_pack(ours, texts, args.seq_len, "best_fit")),
            ("tokenize_pack_concat", lambda: tokenize_and_pack(ours, texts, args.seq_len, "concat")),
        ):
            seconds, counts[name] = best_time(fn, 1)
            timings[name] = min(timings.get(name, float("inf")), seconds)
    anchor = counts["raw_encode_batch"] / timings["raw_encode_batch"]
    result: dict = {"source": source, "documents": len(texts), "seq_len": args.seq_len, "modes": {}}
    print(f"{'':<26}{'tokens':>12}{'tokens/s':>14}{'vs anchor':>11}")
    print(f"{'raw encode_batch (anchor)':<26}{counts['raw_encode_batch']:>12,}{anchor:>14,.0f}{1:>10.2f}x")
    fast = counts["raw_encode_batch_fast"] / timings["raw_encode_batch_fast"]
    print(f"{'raw encode_batch_fast':<26}{counts['raw_encode_batch_fast']:>12,}{fast:>14,.0f}{fast / anchor:>10.2f}x")
    encoded = [t for batch in batches(texts) for t in ours.encode(batch)]
    lengths = [len(t) for t in encoded]
    for mode in ("best_fit", "concat"):
        name = f"tokenize_pack_{mode}"
        rate = counts[name] / timings[name]
        print(
            f"{'tokenize+pack ' + mode:<26}{counts[name]:>12,}{rate:>14,.0f}{rate / anchor:>10.2f}x"
            f"   ({rate / fast:.2f}x of encode_batch_fast, the call we use)"
        )
        plan_seconds, rows = best_time(lambda m=mode: plan_rows(lengths, args.seq_len, m), args.repeats)
        pack_seconds, _ = best_time(lambda m=mode: pack(encoded, args.seq_len, m, ours.info.eos_id), args.repeats)
        stats = plan_stats(rows, lengths, args.seq_len)
        result["modes"][mode] = {
            "tokens_per_s": rate,
            "ratio_vs_encode_batch": rate / anchor,
            "ratio_vs_encode_batch_fast": rate / fast,
            "plan_seconds": plan_seconds,
            "pack_seconds": pack_seconds,
            "pack_share_of_encode_batch_time": pack_seconds / timings["raw_encode_batch"],
            "non_pad_share": stats["tokens"] / (stats["rows"] * args.seq_len),
            "split_docs_share": stats["split_docs"] / stats["docs"],
            **stats,
        }
    result["anchor_tokens_per_s"] = anchor
    result["encode_batch_fast_tokens_per_s"] = fast
    print(f"\npacking efficiency at seq_len {args.seq_len} ({len(lengths):,} documents, {sum(lengths):,} tokens)")
    print(
        f"{'mode':<10}{'rows':>8}{'non-pad share':>15}{'docs split':>12}{'split share':>13}"
        f"{'plan s':>9}{'pack s':>9}{'pack/encode':>13}"
    )
    for mode, r in result["modes"].items():
        print(
            f"{mode:<10}{r['rows']:>8,}{r['non_pad_share']:>14.2%}{r['split_docs']:>12,}{r['split_docs_share']:>12.2%}"
            f"{r['plan_seconds']:>9.3f}{r['pack_seconds']:>9.3f}{r['pack_share_of_encode_batch_time']:>12.1%}"
        )
    print(f"\nsaved {save('pack-small' if args.small else 'pack', result)}")


if __name__ == "__main__":
    main()

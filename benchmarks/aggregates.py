"""Driver-side aggregates and tokenize-once, each against the way main did it, in the same run.

- KL percentile (``common.order_stats``): what reaches the driver (bytes of the task results)
  and the wall time, against reading every part's values on the driver and ``np.percentile``;
  at 100k and 1M values in 64 parts. The values must be equal.
- Mix plan (``mix.plan``): bytes reaching the driver against the per-document count tables
  main concatenated, on the same count files; the plans must be equal.
- Tokenize once: mix + pack with pack reusing the mix's ``token_ids`` against pack encoding
  the same parts again (main), same documents; the shards must be equal.

Runs in one process (the in-process executor), so task work and driver work share the clock.

    python benchmarks/aggregates.py [--small]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import save, timer  # noqa: E402
from curation.common import order_stats  # noqa: E402
from curation.common.tokenizer import TOKEN_IDS  # noqa: E402
from curation.config import parse_config  # noqa: E402
from curation.io import fs  # noqa: E402
from curation.mix import phases as mix  # noqa: E402
from curation.pack import phases as pack  # noqa: E402
from curation.runtime import executor  # noqa: E402
from curation.runtime.context import RunContext, part_id  # noqa: E402

PARTS = 64
GROUPS = ("general", "code", "math_reasoning", "multilingual")


def returned_bytes(ctx: RunContext, names: tuple[str, ...], parts: list[str]) -> int:
    """JSON bytes of every task result of the phases ``names`` (what the driver received)."""
    ids = [part_id(p) for p in parts]
    return sum(len(json.dumps(c)) for r in ctx.phases if r.name in names
               for c in executor.finished_tasks(fs.join(r.work_dir, "_done"), ids)[0].values())


def read_x(path: str) -> np.ndarray:
    return fs.read_parquet(path, columns=["x"]).column(0).to_numpy()


def percentile_case(folder: Path, n: int) -> dict:
    rng = np.random.default_rng(n)
    values = rng.lognormal(0.4, 0.5, n)  # the shape of per-document KL divergences
    parts = [str(folder / f"v{n}" / f"part-{i:05d}.parquet") for i in range(PARTS)]
    for path, chunk in zip(parts, np.array_split(values, PARTS)):
        fs.write_parquet(pa.table({"x": chunk}), path)
    with timer() as anchor:
        everything = np.concatenate([read_x(p) for p in parts])
        expected = float(np.percentile(everything, 99))
    ctx = RunContext(parse_config({}), str(folder / f"run{n}"))
    with timer() as ours:
        got = order_stats.percentile(ctx, "bench.percentile", parts, read_x, 99)
    assert got == expected, (got, expected)
    return {
        "values": n,
        "parts": PARTS,
        "anchor_seconds": round(anchor["seconds"], 3),
        "anchor_driver_bytes": int(everything.nbytes),
        "ours_seconds": round(ours["seconds"], 3),
        "ours_driver_bytes": returned_bytes(ctx, ("bench.percentile",), parts),
        "ours_passes": len(ctx.phases),
    }


def corpus(folder: Path, docs: int, words: int) -> list[str]:
    rng = np.random.default_rng(docs)
    vocab = np.array("the of data model token rows pack shard mask learning llama attention theorem proof".split())
    lengths = rng.integers(words // 4, words * 2, docs)
    flat = rng.choice(vocab, int(lengths.sum()))
    cuts = np.concatenate([[0], np.cumsum(lengths)])
    texts = [" ".join(flat[cuts[i] : cuts[i + 1]]) for i in range(docs)]
    domains = rng.choice(["news", "code", "math", "arts_entertainment"], docs, p=[0.6, 0.15, 0.15, 0.1])
    langs = np.where(rng.random(docs) < 0.1, "de", "en")
    parts = []
    for k, rows in enumerate(np.array_split(np.arange(docs), PARTS)):
        path = str(folder / "docs" / f"part-{k:05d}.parquet")
        fs.write_parquet(pa.table({"id": [f"doc-{i}" for i in rows], "text": [texts[i] for i in rows],
                                   "domain": domains[rows], "lang": langs[rows]}), path)
        parts.append(path)
    return parts


def mix_and_pack_case(folder: Path, docs: int, words: int) -> dict:
    parts = corpus(folder, docs, words)
    cfg = parse_config({"seed": 0, "mix": {"preset": "llama3"}, "pack": {"seq_len": 2048}})
    ctx = RunContext(cfg, str(folder / "run"))
    with timer() as mixing:
        mixed = mix.run(ctx, parts)
    count_record = next(r for r in ctx.phases if r.name == "mix.count")
    counts = fs.listdir(count_record.work_dir, ".parquet", prefix="counts-")
    anchor_bytes = sum(fs.read_parquet(f).nbytes for f in counts)  # what main concatenated on the driver
    ours_bytes = returned_bytes(ctx, ("mix.count", "mix.plan"), parts)

    with timer() as reused:
        reused_manifest = pack.run(RunContext(cfg, str(folder / "reuse")), mixed)
    stripped = []
    for path in mixed:  # the same parts without their token ids: pack encodes them, as on main
        stripped.append(str(folder / "stripped" / path.rsplit("/", 1)[-1]))
        fs.write_parquet(fs.read_parquet(path).drop_columns([TOKEN_IDS]), stripped[-1])
    with timer() as encoded:
        encoded_manifest = pack.run(RunContext(cfg, str(folder / "encode")), stripped)
    same = [fs.read_bytes(p) for p in fs.listdir(str(folder / "reuse" / "shards"), ".parquet")] == [
        fs.read_bytes(p) for p in fs.listdir(str(folder / "encode" / "shards"), ".parquet")]
    assert same and reused_manifest["counts"] == encoded_manifest["counts"]
    return {
        "documents": docs,
        "tokens": reused_manifest["counts"]["tokens"],
        "mix_seconds": round(mixing["seconds"], 3),
        "mix_plan_anchor_driver_bytes": int(anchor_bytes),
        "mix_plan_ours_driver_bytes": ours_bytes,
        "mix_plan_passes": sum(r.name == "mix.plan" for r in ctx.phases),
        "pack_reusing_token_ids_seconds": round(reused["seconds"], 3),
        "pack_encoding_again_seconds": round(encoded["seconds"], 3),
        "shards_identical": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="10k/100k values and 5k documents")
    args = parser.parse_args()
    executor.configure(use_ray=False, max_in_flight=1, progress=False)
    sizes = (10_000, 100_000) if args.small else (100_000, 1_000_000)
    docs = 5_000 if args.small else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        percentiles = [percentile_case(folder, n) for n in sizes]
        mixing = mix_and_pack_case(folder / "mix", docs, words=150)
    for row in percentiles:
        print(f"KL percentile, {row['values']:,} values in {PARTS} parts: driver receives "
              f"{row['ours_driver_bytes']:,} B vs {row['anchor_driver_bytes']:,} B "
              f"({row['anchor_driver_bytes'] / row['ours_driver_bytes']:.0f}x less); "
              f"{row['ours_seconds']:.2f} s vs {row['anchor_seconds']:.2f} s, {row['ours_passes']} passes")
    m = mixing
    print(f"mix plan, {m['documents']:,} documents: driver receives {m['mix_plan_ours_driver_bytes']:,} B vs "
          f"{m['mix_plan_anchor_driver_bytes']:,} B of count tables "
          f"({m['mix_plan_anchor_driver_bytes'] / m['mix_plan_ours_driver_bytes']:.1f}x less), "
          f"{m['mix_plan_passes']} plan passes")
    print(f"pack after mix, {m['tokens']:,} tokens: {m['pack_reusing_token_ids_seconds']:.2f} s reusing the mix's "
          f"token ids vs {m['pack_encoding_again_seconds']:.2f} s encoding again "
          f"({m['pack_encoding_again_seconds'] / m['pack_reusing_token_ids_seconds']:.2f}x); shards identical")
    path = save("aggregates" + ("_small" if args.small else ""), {"percentile": percentiles, "mix_and_pack": mixing})
    print(f"saved {path}")


if __name__ == "__main__":
    main()

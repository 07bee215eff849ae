"""Small generated corpora with known duplicates for the dedup tests (helpers only, no tests)."""

from __future__ import annotations

import random
from pathlib import Path

from curation.io import fs
from curation.schema import make_documents

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    return ["".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 9))) for _ in range(size)]


def random_text(rng: random.Random, vocab: list[str], words: int) -> str:
    return " ".join(rng.choice(vocab) for _ in range(words))


def edit(rng: random.Random, vocab: list[str], text: str, changes: int) -> str:
    """Replace ``changes`` random words: a near duplicate with a known edit."""
    words = text.split()
    for _ in range(changes):
        words[rng.randrange(len(words))] = rng.choice(vocab)
    return " ".join(words)


def write_parts(folder: Path, columns: dict[str, list], n_parts: int) -> list[str]:
    """Split documents round-robin into ``n_parts`` part files; return their paths."""
    n = len(columns["id"])
    paths = []
    for k in range(n_parts):
        rows = list(range(k, n, n_parts))
        table = make_documents({name: [values[i] for i in rows] for name, values in columns.items()})
        path = str(folder / f"part-{k:05d}.parquet")
        fs.write_parquet(table, path)
        paths.append(path)
    return paths


def read_all(parts: list[str]):
    import pyarrow as pa

    return pa.concat_tables([fs.read_parquet(p) for p in parts])

"""Each dedup method through ``run(ctx, parts)`` on small generated corpora (in-process executor)."""

from __future__ import annotations

import random

import pyarrow.compute as pc
import pytest

from curation.config import parse_config
from curation.dedup.minhash import read_clusters
from curation.dedup.phases import run
from curation.io import fs
from curation.runtime import executor
from curation.runtime.context import RunContext
from tests.test_dedup_data import edit, random_text, read_all, vocabulary, write_parts

ONLY = {"url": False, "exact": False, "minhash": False, "lines": False}


@pytest.fixture(autouse=True)
def in_process():
    executor.configure(use_ray=False, max_in_flight=1, progress=False)


def dedup(tmp_path, parts, name="run", **sections):
    cfg = parse_config({"dedup": {**{k: {"enabled": v} for k, v in ONLY.items()}, **sections}})
    ctx = RunContext(cfg, str(tmp_path / name))
    return ctx, run(ctx, parts)


def phase(ctx, name):
    return next(p for p in ctx.phases if p.name == name)


def test_url_dedup_keeps_newest_then_smallest_id(tmp_path):
    docs = {
        "id": ["a", "b", "c", "d", "e", "f"],
        "text": ["one", "two", "three", "four", "five", "six"],
        "url": ["http://x.org/p", "HTTP://X.org/p#top", "http://x.org/p", "http://y.org/", "http://y.org/", None],
        "date": ["2023-01-01", "2024-05-01", "2022-01-01", "2024-01-01", "2024-01-01", "2020-01-01"],
    }
    parts = write_parts(tmp_path, docs, 2)
    ctx, out = dedup(tmp_path, parts, url={"enabled": True})
    assert sorted(read_all(out).column("id").to_pylist()) == ["b", "d", "f"]
    assert phase(ctx, "dedup.url").rejected == {"dedup.url": 3}
    assert [p.rsplit("/", 1)[-1] for p in out] == [p.rsplit("/", 1)[-1] for p in parts]


def test_exact_dedup_on_normalised_text(tmp_path):
    docs = {
        "id": ["a", "b", "c", "d"],
        "text": ["Hello, World!", "hello world", "Héllo world 2024", "hello world 1999"],
        "date": ["2024-01-01", "2023-01-01", None, None],
    }
    ctx, out = dedup(tmp_path, write_parts(tmp_path, docs, 2), exact={"enabled": True})
    assert sorted(read_all(out).column("id").to_pylist()) == ["a", "c"]
    assert phase(ctx, "dedup.exact").rejected == {"dedup.exact": 2}


def near_duplicate_corpus(seed=0, bases=30):
    """Each base document with a close copy (J ~ 0.9), a far copy (J ~ 0.3) and an unrelated one."""
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    ids, texts, dates = [], [], []
    for i in range(bases):
        base = random_text(rng, vocab, 300)
        for kind, text in (
            ("base", base),
            ("close", edit(rng, vocab, base, 4)),
            ("far", edit(rng, vocab, base, 90)),
            ("other", random_text(rng, vocab, 300)),
        ):
            ids.append(f"{kind}-{i:03d}")
            texts.append(text)
            dates.append(f"2024-01-{1 + (i + len(kind)) % 28:02d}")
    return {"id": ids, "text": texts, "date": dates}


def test_minhash_removes_near_duplicates_only(tmp_path):
    docs = near_duplicate_corpus()
    ctx, out = dedup(tmp_path, write_parts(tmp_path, docs, 3), minhash={"enabled": True, "keep": "newest"})
    kept = read_all(out)
    removed = set(docs["id"]) - set(kept.column("id").to_pylist())
    assert len(removed) == 30 and all(r.split("-")[0] in ("base", "close") for r in removed)
    for i in range(30):  # the newer of each (base, close) pair survives
        pair = {f"base-{i:03d}": docs["date"][4 * i], f"close-{i:03d}": docs["date"][4 * i + 1]}
        assert max(pair, key=lambda k: (pair[k], [-ord(c) for c in k])) not in removed
    comp = phase(ctx, "dedup.minhash.clusters")
    assert comp.counters["clusters"] == 30 and comp.counters["removed"] == 30
    clusters = read_clusters(comp.work_dir)
    assert set(pc.unique(clusters.column("size")).to_pylist()) == {2}
    assert phase(ctx, "dedup.minhash").rejected == {"dedup.minhash": 30}


def test_minhash_keep_longest_and_verification_drops_false_candidates(tmp_path):
    rng = random.Random(3)
    vocab = vocabulary(rng)
    base = random_text(rng, vocab, 200)
    docs = {"id": ["a", "b", "c"], "text": [base, base + " " + random_text(rng, vocab, 6), edit(rng, vocab, base, 30)]}
    ctx, out = dedup(tmp_path, write_parts(tmp_path, docs, 1), minhash={"enabled": True, "keep": "longest"})
    assert read_all(out).column("id").to_pylist() == ["b", "c"]
    verify = phase(ctx, "dedup.minhash.verify")
    assert verify.counters["pairs_verified"] == 1
    assert verify.counters["pairs_checked"] >= 1


def test_minhash_against_index_of_earlier_run(tmp_path):
    rng = random.Random(5)
    vocab = vocabulary(rng)
    old = [random_text(rng, vocab, 200) for _ in range(10)]
    old_parts = write_parts(tmp_path / "old", {"id": [f"old{i}" for i in range(10)], "text": old}, 2)
    index = str(tmp_path / "index")
    dedup(tmp_path, old_parts, "first", minhash={"enabled": True, "index_out": index})
    new = [edit(rng, vocab, old[i], 3) for i in range(4)] + [random_text(rng, vocab, 200) for _ in range(4)]
    new += [new[4]]  # a duplicate inside the new crawl too
    new_parts = write_parts(tmp_path / "new", {"id": [f"new{i}" for i in range(9)], "text": new}, 3)
    ctx, out = dedup(tmp_path, new_parts, "second", minhash={"enabled": True, "index": [index]})
    assert sorted(read_all(out).column("id").to_pylist()) == ["new4", "new5", "new6", "new7"]
    comp = phase(ctx, "dedup.minhash.clusters")
    assert comp.counters["index_matches"] == 4 and comp.counters["removed"] == 5
    with pytest.raises(ValueError, match="rows"):
        dedup(tmp_path, new_parts, "third", minhash={"enabled": True, "index": [index], "rows": 5})


def test_line_dedup_counts_per_bucket_and_rejects_emptied_docs(tmp_path):
    rng = random.Random(7)
    vocab = vocabulary(rng)
    ids, texts = [], []
    for i in range(15):
        lines = [f"Subscribe to our newsletter {i % 3}!", random_text(rng, vocab, 12)]
        if i % 2 == 0:
            lines.append("Cookie policy")  # 8 times: 4 in each bucket of two parts
        ids.append(f"d{i:02d}")
        texts.append("\n".join(lines))
    ids.append("boiler")
    texts.append("Subscribe to our NEWSLETTER 7!\n\n")  # numbers are normalised: the same line
    parts = write_parts(tmp_path, {"id": ids, "text": texts}, 4)  # round-robin: 4 parts of 4 documents
    ctx, out = dedup(tmp_path, parts, "one", lines={"enabled": True, "bucket_docs": 1000})
    kept = read_all(out)
    assert "boiler" not in kept.column("id").to_pylist()
    assert not any("newsletter" in t or "Cookie" in t for t in kept.column("text").to_pylist())
    record = phase(ctx, "dedup.lines")
    assert record.rejected == {"dedup.lines_empty": 1}
    assert record.counters["lines_removed"] == 16 + 8
    ctx, out = dedup(tmp_path, parts, "two", lines={"enabled": True, "bucket_docs": 8})
    texts = read_all(out).column("text").to_pylist()
    assert sum("Cookie policy" in t for t in texts) == 8  # 4 per bucket: not more than 6
    assert not any("newsletter" in t for t in texts)  # 8 per bucket


def test_all_methods_resume_to_the_same_bytes(tmp_path):
    docs = near_duplicate_corpus(seed=2, bases=8)
    docs["url"] = [f"http://site/{i % 30}" for i in range(len(docs["id"]))]
    parts = write_parts(tmp_path, docs, 3)
    cfg = parse_config({"dedup": {"lines": {"bucket_docs": 10}}})
    first = RunContext(cfg, str(tmp_path / "run"))
    out = run(first, parts)
    again = RunContext(cfg, str(tmp_path / "run"))
    assert run(again, parts) == out
    assert all(p.resumed == p.tasks for p in again.phases)
    assert [p.name for p in first.phases][::3][:3] == ["dedup.url.map", "dedup.exact.map", "dedup.minhash.signatures"]


def test_empty_parts_and_texts_pass_through(tmp_path):
    docs = {"id": ["a", "b", "c"], "text": ["x y z w v u", "x y z w v u", ""], "url": ["http://u", "http://u", None]}
    parts = write_parts(tmp_path, docs, 5)  # parts 3 and 4 hold no documents
    cfg = parse_config({"dedup": {"lines": {"bucket_docs": 2}}})
    out = run(RunContext(cfg, str(tmp_path / "run")), parts)
    assert len(out) == 5 and read_all(out).column("id").to_pylist() == ["a", "c"]

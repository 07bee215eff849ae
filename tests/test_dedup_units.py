"""Unit tests of the dedup building blocks: normalisation, shingles, MinHash, buckets, components."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from curation.dedup.config import MinHashConfig
from curation.runtime.shuffle import partition_bounds, partition_of
from curation.dedup.keyed import canonical_url
from curation.dedup.lines import buckets
from curation.dedup.minhash import bucket_pairs
from curation.dedup.normalize import normalize, words
from curation.dedup.shingles import jaccard, shingle_sets
from curation.dedup.signatures import MinHasher, sketch
from tests.test_dedup_data import edit, random_text, vocabulary


def test_normalize_lowercases_strips_accents_punctuation_and_digits():
    out = normalize(pa.array(["Héllo,  WORLD! Price: 3.14 or 1,000 —\tnaïve", None]))
    assert out.to_pylist() == ["hello world price 0 or 0 naive", ""]
    assert words(pa.array(["", " a  b "])).to_pylist() == [[], ["a", "b"]]


def test_shingles_are_sorted_distinct_ngrams_and_short_docs_get_one():
    values, offsets = shingle_sets(pa.array(["a b c d e f", "A, b c d e f!", "x y", "", "a b a b a b a b"]), 5)
    sets = [values[offsets[i] : offsets[i + 1]] for i in range(5)]
    assert [s.size for s in sets] == [2, 2, 1, 0, 2]
    assert np.array_equal(sets[0], sets[1])  # normalisation makes them identical
    assert all(np.all(np.diff(s.astype(np.float64)) > 0) for s in sets)


def test_minhash_estimates_jaccard():
    rng = random.Random(0)
    vocab = vocabulary(rng)
    base = random_text(rng, vocab, 400)
    texts = [base] + [edit(rng, vocab, base, k) for k in (5, 20, 60)]
    values, offsets = shingle_sets(pa.array(texts), 5)
    hasher = MinHasher(20, 6, seed=1)
    sig = hasher.signatures(values, offsets)
    for i in range(1, 4):
        true = jaccard(values[offsets[0] : offsets[1]], values[offsets[i] : offsets[i + 1]])
        assert abs((sig[0] == sig[i]).mean() - true) < 0.12
    keys = hasher.band_keys(sig)
    assert (keys[0] == keys[1]).sum() >= 10  # J ~ 0.88: most bands collide
    assert (keys[0] == keys[3]).sum() <= 2  # J ~ 0.3: almost none


def test_sketch_batches_do_not_change_results():
    rng = random.Random(1)
    vocab = vocabulary(rng)
    texts = pa.chunked_array([pa.array([random_text(rng, vocab, rng.randint(0, 60)) for _ in range(50)])])
    one = sketch(texts, MinHashConfig(batch_docs=64))
    many = sketch(texts, MinHashConfig(batch_docs=7))
    for a, b in zip(one, many):
        assert np.array_equal(a, b)


def test_s_curve_default_beats_datatrove_at_threshold():
    cfg = MinHashConfig()
    ours = 1 - (1 - 0.8**cfg.rows) ** cfg.bands
    datatrove = 1 - (1 - 0.8**8) ** 14
    assert ours > 0.99 > datatrove


def test_bucket_pairs_small_buckets_all_pairs_large_buckets_star():
    band = np.zeros(7, dtype=np.uint16)
    key = np.array([5, 5, 5, 9, 7, 7, 7], dtype=np.uint64)
    node = np.array([30, 10, 20, 1, 3, 2, 4], dtype=np.uint64)
    a, b = bucket_pairs(band, key, node, max_pairs=3)
    assert sorted(zip(a.tolist(), b.tolist())) == [(2, 3), (2, 4), (3, 4), (10, 20), (10, 30), (20, 30)]
    a, b = bucket_pairs(band, key, node, max_pairs=2)
    assert sorted(zip(a.tolist(), b.tolist())) == [(2, 3), (2, 4), (10, 20), (10, 30)]


def route_edge_file(path: str, index: int):
    """A map over edge files shuffling each edge to both endpoints' partitions, as the buckets do."""
    from curation.dedup.components import both_ways, routed
    from curation.io import fs
    from curation.runtime.context import TaskOutput

    t = fs.read_parquet(path)
    return TaskOutput(shuffle=routed(*both_ways(t.column("a").to_numpy(), t.column("b").to_numpy())))


def star_components(tmp_path, u: np.ndarray, v: np.ndarray, partitions: int) -> tuple[dict[int, int], int]:
    """({node: root}, rounds) from the distributed rounds run in-process on edge files."""
    from curation.config import parse_config
    from curation.dedup.components import connected_components
    from curation.io import fs
    from curation.runtime.context import RunContext

    ctx = RunContext(parse_config({}), str(tmp_path / f"run-{partitions}"))
    paths = []
    for k, chunk in enumerate(np.array_split(np.arange(u.size), 4)):  # edge files of uneven content
        paths.append(str(tmp_path / f"edges-{partitions}-{k}.parquet"))
        fs.write_parquet(pa.table({"a": pa.array(u[chunk], pa.uint64()), "b": pa.array(v[chunk], pa.uint64())}),
                         paths[-1])
    edges = ctx.map("edges", paths, route_edge_file, "edges", partitions)
    stars = connected_components(ctx, edges.shuffled)
    tables = [fs.read_parquet(path) for path in stars.files("stars")]
    root = {}
    for t in tables:
        for node, r in zip(t.column("node").to_pylist(), t.column("root").to_pylist()):
            assert node not in root  # every node in exactly one star
            root[node] = r
    return root, sum(p.name.startswith("dedup.minhash.large_star") for p in ctx.phases)


@pytest.mark.parametrize("graph", ["random", "path", "pairs"])
def test_distributed_components_match_scipy(tmp_path, graph):
    rng = np.random.default_rng(7)
    n = 3000
    if graph == "random":  # sparse random graph: long chains and one big component
        u, v = rng.integers(0, n, 2500), rng.integers(0, n, 2500)
    elif graph == "path":  # a shuffled path: the slowest shape for star contraction
        order = rng.permutation(n)
        u, v = order[:-1], order[1:]
    else:  # disjoint duplicate pairs, the common case: already stars, one round
        u = rng.permutation(np.arange(0, n, 2))
        v = u + 1
    _, labels = connected_components(coo_matrix((np.ones(u.size), (u, v)), shape=(n, n)), directed=False)
    touched = np.unique(np.concatenate([u, v]))
    smallest = {label: int(touched[labels[touched] == label].min()) for label in np.unique(labels[touched])}
    expected = {int(m): smallest[labels[m]] for m in touched}
    results = [star_components(tmp_path, u.astype(np.uint64), v.astype(np.uint64), p) for p in (1, 3, 4)]
    for root, rounds in results:
        assert root == expected
        assert rounds <= (1 if graph == "pairs" else 12), rounds


def test_range_partitions_cover_keys():
    keys = np.random.default_rng(0).integers(0, 2**64, 10_000, dtype=np.uint64, endpoint=False)
    for n in (1, 3, 8):
        parts = partition_of(keys, n)
        for p in range(n):
            lo, hi = partition_bounds(p, n)
            inside = (keys >= np.uint64(lo)) & ((keys < np.uint64(hi)) if hi < 2**64 else True)
            assert np.array_equal(inside, parts == p)


def test_canonical_url_and_line_buckets():
    assert canonical_url(" HTTP://Example.COM:80/a?b=1#frag ") == "http://example.com/a?b=1"
    assert canonical_url("https://example.com") == "https://example.com/"
    assert buckets([5, 5, 5, 20, 1], 10) == [0, 0, 1, 2, 3]

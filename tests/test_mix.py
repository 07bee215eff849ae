"""Data-mix sampler: shares in real tokens within 1 pp, short groups reported, determinism, weighting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_pack import make_texts, write_parts

from curation.common.hashing import base_id
from curation.common.order_stats import COLLECT_LIMIT
from curation.common.tokenizer import TOKEN_IDS
from curation.config import ConfigError, parse_config
from curation.io import fs
from curation.mix import phases
from curation.mix.config import MixConfig
from curation.mix.report import format_report
from curation.mix.sampler import find_cuts, sampling_keys
from curation.runtime.context import RunContext

# available data: general is plentiful (down-sampled), the others must be up-sampled
AVAILABLE = {"news": 160, "arts_entertainment": 80, "math": 60, "code": 40}


def corpus(tmp_path: Path, german: int = 30, seed: int = 0) -> list[str]:
    domains = [d for d, n in AVAILABLE.items() for _ in range(n)]
    langs = ["en"] * len(domains) + ["de"] * german
    domains += ["news"] * german
    rng = np.random.default_rng(seed)
    quality = rng.random(len(domains)).round(3).tolist()
    texts = make_texts(len(domains), seed=seed, max_words=120)
    return write_parts(tmp_path, texts, parts=3, domain=domains, lang=langs, quality_score=quality)


def mix_run(run_dir: Path, parts: list[str], seed: int = 0, **mix: object) -> tuple[list[str], dict]:
    ctx = RunContext(parse_config({"seed": seed, "mix": {"preset": "llama3", **mix}}), str(run_dir))
    out = phases.run(ctx, parts)
    return out, fs.read_json(str(run_dir / "stats" / "mix_report.json"))


def ids_of(parts: list[str]) -> list[str]:
    return [i for p in parts for i in fs.read_parquet(p, columns=["id"]).column("id").to_pylist()]


def test_realised_shares_within_one_point_of_targets(tmp_path: Path) -> None:
    parts = corpus(tmp_path)
    out, report = mix_run(tmp_path / "run", parts)
    assert report["status"] == "mixed" and report["short_groups"] == []
    for group in report["groups"]:
        assert abs(group["share_gap_pp"]) < 1.0, group
        assert group["epochs"] <= group["max_epochs"]
    by_name = {g["group"]: g for g in report["groups"]}
    assert by_name["general"]["epochs"] < 1 < by_name["code"]["epochs"]  # down- and up-sampled
    ids = ids_of(out)
    assert len(ids) == len(set(ids)) and any("#rep" in i for i in ids)
    assert sum(g["docs"] for g in report["groups"]) == len(ids)
    assert report["rejected"].get("mix.downsampled", 0) > 0
    assert "general" in format_report(report) and (tmp_path / "run" / "stats" / "mix_report.txt").is_file()


def without(parts: list[str], column: str, folder: Path) -> list[str]:
    """Copies of ``parts`` (same names) with ``column`` dropped."""
    copies = [str(folder / p.rsplit("/", 1)[-1]) for p in parts]
    for src, dst in zip(parts, copies):
        fs.write_parquet(fs.read_parquet(src).drop_columns([column]), dst)
    return copies


def test_shares_are_measured_in_the_tokens_of_the_shards_and_tokenized_once(tmp_path: Path) -> None:
    out, report = mix_run(tmp_path / "run", corpus(tmp_path))
    from curation.pack import phases as pack_phases

    def shards(name: str, parts: list[str]) -> tuple[dict, list[bytes]]:
        ctx = RunContext(parse_config({"pack": {"seq_len": 256, "validation_fraction": 0}}), str(tmp_path / name))
        manifest = pack_phases.run(ctx, parts)
        return manifest, [fs.read_bytes(p) for p in fs.listdir(str(tmp_path / name / "shards"), ".parquet")]

    # pack reads the mix's token ids: it never needs the text (tokenizing again would fail here) ...
    manifest, reused = shards("reused", without(out, "text", tmp_path / "no_text"))
    assert manifest["counts"]["tokens"] == report["realised_tokens"]
    # ... and the shards are the bytes pack makes when it encodes the texts itself
    assert reused == shards("encoded", without(out, TOKEN_IDS, tmp_path / "no_ids"))[1]


def test_short_group_is_named_with_its_shortfall(tmp_path: Path) -> None:
    parts = corpus(tmp_path, german=3)
    _, report = mix_run(tmp_path / "run", parts, max_epochs_per_group={"multilingual": 1})
    assert report["short_groups"] == ["multilingual"]
    short = next(g for g in report["groups"] if g["group"] == "multilingual")
    assert short["epochs"] == pytest.approx(1.0) and short["short_tokens"] > 0
    assert short["realised_tokens"] == short["available_tokens"]
    assert "group 'multilingual' ran short by" in short["message"]
    assert short["message"] in format_report(report) and "SHORT" in format_report(report)
    others = [g for g in report["groups"] if g["group"] != "multilingual"]
    assert all(abs(g["realised_tokens"] - g["target_tokens"]) / g["target_tokens"] < 0.02 for g in others)


def test_same_seed_same_bytes_other_seed_other_sample(tmp_path: Path) -> None:
    parts = corpus(tmp_path)
    a, _ = mix_run(tmp_path / "a", parts, seed=1)
    b, _ = mix_run(tmp_path / "b", parts, seed=1)
    c, _ = mix_run(tmp_path / "c", parts, seed=2)
    assert [Path(p).read_bytes() for p in a] == [Path(p).read_bytes() for p in b]
    assert ids_of(a) != ids_of(c)


def test_quality_and_value_weights_steer_down_sampling(tmp_path: Path) -> None:
    parts = corpus(tmp_path)
    docs = {row["id"]: row for p in parts for row in fs.read_parquet(p).to_pylist()}

    def general_picks(out: list[str]) -> list[dict]:
        picked = [docs[base_id(i)] for i in ids_of(out)]
        return [d for d in picked if d["lang"] == "en" and d["domain"] in ("news", "arts_entertainment")]

    plain, _ = mix_run(tmp_path / "plain", parts, value_weights={})
    weighted, _ = mix_run(tmp_path / "q", parts, quality_weighted=True, quality_alpha=4, value_weights={})
    mean_q = lambda rows: np.mean([r["quality_score"] for r in rows])  # noqa: E731
    assert mean_q(general_picks(weighted)) > mean_q(general_picks(plain)) + 0.1
    arts = lambda rows: sum(r["domain"] == "arts_entertainment" for r in rows) / len(rows)  # noqa: E731
    down, _ = mix_run(tmp_path / "v", parts, value_weights={"arts_entertainment": 0.1})
    assert arts(general_picks(down)) < arts(general_picks(plain)) - 0.1


def test_unlabelled_documents_pass_once(tmp_path: Path) -> None:
    parts = write_parts(tmp_path, make_texts(12), parts=2)
    out, report = mix_run(tmp_path / "run", parts)
    assert out == parts and report["status"].startswith("skipped: no document has a value in 'domain'")


def test_presets_and_config_errors() -> None:
    llama3 = MixConfig(preset="llama3")
    assert llama3.enabled
    assert llama3.shares() == {"multilingual": 0.08, "code": 0.17, "math_reasoning": 0.25, "general": 0.5}
    annealing = parse_config({}, ["mix.preset=annealing", "mix.budget_tokens=1000"]).mix
    assert annealing.quality_weighted and annealing.budget_tokens == 1000
    with pytest.raises(ConfigError, match="mix.groups without a target: extra"):
        parse_config({"mix": {"enabled": True, "targets": {"a": 1}, "groups": {"extra": ["x"]}}})
    with pytest.raises(ConfigError, match="unknown mix preset"):
        parse_config({"mix": {"preset": "nope"}})


def test_same_bytes_on_ray(tmp_path: Path, ray_local) -> None:
    parts = corpus(tmp_path)
    on_ray, report = mix_run(tmp_path / "ray", parts)
    from curation.runtime import executor

    executor.configure(use_ray=False, max_in_flight=1, progress=False)
    try:
        local, local_report = mix_run(tmp_path / "local", parts)
    finally:
        executor.configure(use_ray=True, max_in_flight=2, progress=False)
    assert [Path(p).read_bytes() for p in on_ray] == [Path(p).read_bytes() for p in local]
    assert report == local_report


def reference_cut(keys: np.ndarray, ids: np.ndarray, tokens: np.ndarray, remainder: float) -> tuple:
    """The cut with the whole group sorted in one place: the definition the merged summaries must meet."""
    order = np.lexsort((ids, -keys))
    cumulative = np.cumsum(tokens[order])
    n = int(np.searchsorted(cumulative, remainder, side="right"))
    before = cumulative[n - 1] if n else 0
    if n < len(order) and cumulative[n] - remainder < remainder - before:
        n += 1
    return ((float(keys[order[n - 1]]), str(ids[order[n - 1]])), int(cumulative[n - 1])) if n else (None, 0)


@pytest.mark.parametrize("limit", [COLLECT_LIMIT, 3])
def test_cut_from_per_part_summaries_equals_sorting_the_whole_group(limit: int) -> None:
    rng = np.random.default_rng(1)
    for _ in range(30):
        n = int(rng.integers(0, 300))
        keys = sampling_keys(rng.random(n), rng.choice([0.5, 1.0, 3.0], n))
        keys[::7] = keys[0] if n else keys[::7]  # ties, broken by id
        ids = np.array([f"d{i:04d}" for i in rng.permutation(n)], dtype=object)
        tokens = rng.integers(0, 40, n)  # documents without tokens too
        by_part = [{"g": (keys[p], ids[p], tokens[p])} for p in np.array_split(np.arange(n), rng.integers(1, 5))]

        def count(buckets: dict) -> dict:
            return {g: phases.merge_histograms([phases.plan_summary(p, buckets, False)[g] for p in by_part])
                    for g in buckets}

        def collect(buckets: dict) -> dict:
            return phases.merge_collected([phases.plan_summary(p, buckets, True) for p in by_part], buckets)

        total = int(tokens.sum())
        for remainder in (0, 0.5, total / 3, total - 1, total, total + 5.5):
            last, extra = find_cuts({"g": remainder}, count({"g": (0, 0)}), count, collect, limit)["g"]
            assert ((last[0], last[1]) if last else None, extra) == reference_cut(keys, ids, tokens, remainder)

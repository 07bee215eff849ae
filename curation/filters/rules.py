"""Decisions: the filters' rules as data, applied to stored signals.

Each rule compares one signal (or the ``lang``/``lang_score`` columns) with a threshold from the
config. ``thresholds(cfg)`` resolves the active rules to ``{reason: threshold}``; that mapping is
all ``filters.decide`` depends on, so changing a threshold re-decides without touching signals.
Rules run in datatrove's order and a document's reason is its first failed rule. Documents of a
language with overrides (``filters.languages``) are decided with that language's thresholds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation.filters.config import DUP_NGRAM_SIZES, TOP_NGRAM_SIZES, FiltersConfig


@dataclass(frozen=True)
class Rule:
    reason: str  # "<filter>.<rule>"
    signal: str  # a field of ``signals``, or the column "lang" / "lang_score"
    op: str  # the failing comparison: "<", ">", "<=", "flag" (signal >= 1 while the rule is on), "not_in"
    threshold: Callable[[FiltersConfig], Any]  # None switches the rule off

    @property
    def filter(self) -> str:
        return self.reason.split(".", 1)[0]


def _on(flag: bool) -> bool | None:
    return True if flag else None


RULES: list[Rule] = [
    Rule("url.domain", "url_domain", "flag", lambda c: True),
    Rule("url.subdomain", "url_subdomain", "flag", lambda c: True),
    Rule("url.url", "url_url", "flag", lambda c: True),
    Rule("url.banned_words", "url_banned_words", "flag", lambda c: True),
    Rule("url.soft_banned_words", "url_soft_banned_words", ">=", lambda c: c.url.soft_word_threshold),
    Rule("url.banned_subwords", "url_banned_subwords", "flag", lambda c: True),
    Rule("lid.language", "lang", "not_in", lambda c: c.lid.languages or None),  # None or [] keeps all
    Rule("lid.low_score", "lang_score", "<=", lambda c: c.lid.min_score),
    Rule("gopher_repetition.empty", "gopher_repetition_chars", "<", lambda c: 1),
    Rule("gopher_repetition.dup_para_frac", "gopher_repetition_dup_para_frac", ">",
         lambda c: c.gopher_repetition.dup_para_frac),
    Rule("gopher_repetition.dup_para_char_frac", "gopher_repetition_dup_para_char_frac", ">",
         lambda c: c.gopher_repetition.dup_para_char_frac),
    Rule("gopher_repetition.dup_line_frac", "gopher_repetition_dup_line_frac", ">",
         lambda c: c.gopher_repetition.dup_line_frac),
    Rule("gopher_repetition.dup_line_char_frac", "gopher_repetition_dup_line_char_frac", ">",
         lambda c: c.gopher_repetition.dup_line_char_frac),
    *[
        Rule(f"gopher_repetition.top_{n}_gram", f"gopher_repetition_top_{n}_gram_frac", ">",
             lambda c, n=n: c.gopher_repetition.top_n_grams.get(n))
        for n in TOP_NGRAM_SIZES
    ],
    *[
        Rule(f"gopher_repetition.dup_{n}_gram", f"gopher_repetition_dup_{n}_gram_frac", ">",
             lambda c, n=n: c.gopher_repetition.dup_n_grams.get(n))
        for n in DUP_NGRAM_SIZES
    ],
    Rule("gopher_quality.min_words", "gopher_quality_words", "<", lambda c: c.gopher_quality.min_words),
    Rule("gopher_quality.max_words", "gopher_quality_words", ">", lambda c: c.gopher_quality.max_words),
    Rule("gopher_quality.min_avg_word_length", "gopher_quality_avg_word_length", "<",
         lambda c: c.gopher_quality.min_avg_word_length),
    Rule("gopher_quality.max_avg_word_length", "gopher_quality_avg_word_length", ">",
         lambda c: c.gopher_quality.max_avg_word_length),
    Rule("gopher_quality.max_hash_ratio", "gopher_quality_hash_ratio", ">",
         lambda c: c.gopher_quality.max_symbol_word_ratio),
    Rule("gopher_quality.max_ellipsis_ratio", "gopher_quality_ellipsis_ratio", ">",
         lambda c: c.gopher_quality.max_symbol_word_ratio),
    Rule("gopher_quality.max_bullet_lines_ratio", "gopher_quality_bullet_lines_ratio", ">",
         lambda c: c.gopher_quality.max_bullet_lines_ratio),
    Rule("gopher_quality.max_ellipsis_lines_ratio", "gopher_quality_ellipsis_lines_ratio", ">",
         lambda c: c.gopher_quality.max_ellipsis_lines_ratio),
    Rule("gopher_quality.min_alpha_words_ratio", "gopher_quality_alpha_words_ratio", "<",
         lambda c: c.gopher_quality.min_alpha_words_ratio),
    Rule("gopher_quality.min_stop_words", "gopher_quality_stop_words", "<", lambda c: c.gopher_quality.min_stop_words),
    Rule("c4.lorem_ipsum", "c4_lorem_ipsum", "flag", lambda c: _on(c.c4.filter_lorem_ipsum)),
    Rule("c4.curly_bracket", "c4_curly_bracket", "flag", lambda c: _on(c.c4.filter_curly_bracket)),
    Rule("c4.min_sentences", "c4_sentences", "<", lambda c: c.c4.min_num_sentences),
    Rule("fineweb.empty", "fineweb_lines", "<", lambda c: 1),
    Rule("fineweb.line_punct_ratio", "fineweb_line_punct_ratio", "<punct",
         lambda c: None if c.fineweb.line_punct_thr is None
         else {"below": c.fineweb.line_punct_thr, "exclude_zero": c.fineweb.line_punct_exclude_zero}),
    Rule("fineweb.short_line_ratio", "fineweb_short_line_ratio", ">", lambda c: c.fineweb.short_line_thr),
    Rule("fineweb.char_dup_ratio", "fineweb_char_dup_ratio", ">", lambda c: c.fineweb.char_duplicates_ratio),
    Rule("fineweb.new_line_ratio", "fineweb_new_line_ratio", ">", lambda c: c.fineweb.new_line_ratio),
    Rule("dirty_words.max_count", "dirty_words_count", ">", lambda c: c.dirty_words.max_count),
    Rule("dirty_words.max_ratio", "dirty_words_ratio", ">", lambda c: c.dirty_words.max_ratio),
    Rule("kl.max_kl", "kl_divergence", ">", lambda c: c.kl.max_kl),
    Rule("filters.empty_text", "filters_output_chars", "<", lambda c: 1),
]
BY_REASON = {r.reason: r for r in RULES}


def thresholds(cfg: FiltersConfig, kl_threshold: float | None = None) -> dict[str, Any]:
    """``{reason: threshold}`` of the rules in force (enabled filter, threshold not None).

    ``kl_threshold`` replaces ``kl.max_kl`` when it was resolved from a percentile of the corpus.
    """
    out: dict[str, Any] = {}
    for rule in RULES:
        section = getattr(cfg, rule.filter, None)
        if section is not None and not section.enabled:
            continue
        value = kl_threshold if rule.reason == "kl.max_kl" and kl_threshold is not None else rule.threshold(cfg)
        if value is not None:
            out[rule.reason] = value
    return out


def fails(op: str, values: np.ndarray, threshold: Any) -> np.ndarray:
    """Which values fail the rule; a missing value (NaN) never fails."""
    if op == "not_in":
        return ~np.isin(values, list(threshold))
    with np.errstate(invalid="ignore"):
        if op == "<":
            return values < threshold
        if op == "<=":
            return values <= threshold
        if op == ">":
            return values > threshold
        if op == ">=":
            return values >= threshold
        if op == "flag":
            return values >= 1
        if op == "<punct":
            return (values < threshold["below"]) & ~((values == 0) & threshold["exclude_zero"])
    raise ValueError(f"unknown rule op {op!r}")


def column(docs: pa.Table, name: str) -> np.ndarray | None:
    """A signal (float, NaN where null) or the lang column; None when the table does not have it."""
    if name in ("lang", "lang_score"):
        col = docs.column(name)
        if name == "lang":
            return np.array(col.fill_null("").to_pylist(), dtype=object)
        return col.cast(pa.float64()).fill_null(np.nan).to_numpy()
    if name not in docs.schema.field("signals").type.names:
        return None
    return pc.struct_field(docs.column("signals"), name).cast(pa.float64()).fill_null(np.nan).to_numpy()


def decide(docs: pa.Table, active: dict[str, Any]) -> list[str | None]:
    """The first failed rule of each document (None = kept)."""
    reasons: list[str | None] = [None] * docs.num_rows
    undecided = np.ones(docs.num_rows, dtype=bool)
    for rule in RULES:
        if rule.reason not in active or not undecided.any():
            continue
        values = column(docs, rule.signal)
        if values is None:
            continue
        failed = fails(rule.op, values, active[rule.reason]) & undecided
        for i in np.flatnonzero(failed):
            reasons[i] = rule.reason
        undecided &= ~failed
    return reasons


def thresholds_by_language(cfg: FiltersConfig, kl_threshold: float | None = None) -> dict[str, Any]:
    """``{"default": thresholds, "languages": {lang: thresholds}}`` for ``filters.languages``."""
    return {
        "default": thresholds(cfg, kl_threshold),
        "languages": {lang: thresholds(cfg.for_language(lang), kl_threshold) for lang in sorted(cfg.languages)},
    }


def active_for(active: dict[str, Any], lang: str | None) -> dict[str, Any]:
    """The thresholds (from ``thresholds_by_language``) that apply to a document of ``lang``."""
    return active["languages"].get(lang or "", active["default"])


def decide_by_language(docs: pa.Table, active: dict[str, Any]) -> list[str | None]:
    """``decide`` with each document's language's thresholds."""
    langs = docs.column("lang").to_pylist() if "lang" in docs.column_names else [None] * docs.num_rows
    groups: dict[str | None, list[int]] = {}
    for i, lang in enumerate(langs):
        groups.setdefault(lang if lang in active["languages"] else None, []).append(i)
    reasons: list[str | None] = [None] * docs.num_rows
    for lang, rows in groups.items():
        subset = docs if len(rows) == docs.num_rows else docs.take(pa.array(rows, type=pa.int64()))
        for i, reason in zip(rows, decide(subset, active_for(active, lang))):
            reasons[i] = reason
    return reasons

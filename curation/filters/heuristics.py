"""Signals of the Gopher, C4 and FineWeb heuristics for one document, computed as datatrove does.

Each function mirrors the datatrove filter of the same name but returns the measured values
instead of a decision (``rules.py`` applies the thresholds). Words come from ``WordSplitter``
once per document and are shared by every heuristic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from datatrove.utils.text import TERMINAL_PUNCTUATION  # FineWeb's stop_chars

from curation.filters.config import DUP_NGRAM_SIZES, TOP_NGRAM_SIZES, C4Config
from curation.filters.ngrams import duplicated_ngram_chars, ngram_hashes, top_ngram_chars
from curation.filters.words import SENT_OTHER, SENT_PUNCT, SENT_TERMINAL, WordSplitter

_PARAGRAPHS = re.compile(r"\n{2,}")
_LINES = re.compile("\n+")
_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")  # C4 / datatrove CITATION_REGEX
_END_PUNCTUATION = (".", "?", "!", '"', "'")
_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
_FINEWEB_STOP_CHARS = tuple(TERMINAL_PUNCTUATION)
LINE_SEPARATOR = "\ue000"
"""A private-use word put between lines so one split covers many lines and keeps their borders."""


def duplicates(items: list[str]) -> tuple[int, int]:
    """(elements, characters) that repeat an earlier element (datatrove find_duplicates)."""
    unique = set(items)
    return len(items) - len(unique), sum(map(len, items)) - sum(map(len, unique))


def gopher_repetition(text: str, ids: np.ndarray, lengths: np.ndarray) -> dict[str, float]:
    n_chars = len(text)
    out: dict[str, float] = {"gopher_repetition_chars": n_chars}
    if not n_chars:
        return out
    paragraphs = _PARAGRAPHS.split(text.strip())
    dup, dup_chars = duplicates(paragraphs)
    out["gopher_repetition_dup_para_frac"] = dup / len(paragraphs)
    out["gopher_repetition_dup_para_char_frac"] = dup_chars / n_chars
    lines = _LINES.split(text)
    dup, dup_chars = duplicates(lines)
    out["gopher_repetition_dup_line_frac"] = dup / len(lines)
    out["gopher_repetition_dup_line_char_frac"] = dup_chars / n_chars
    hashes = ngram_hashes(ids, max(DUP_NGRAM_SIZES))
    cumsum = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    for n in TOP_NGRAM_SIZES:
        out[f"gopher_repetition_top_{n}_gram_frac"] = top_ngram_chars(hashes[n], cumsum, n) / n_chars
    any_repeat = True
    for n in DUP_NGRAM_SIZES:
        # a repeated n-gram contains a repeated (n-1)-gram: stop scanning once none is left
        chars = duplicated_ngram_chars(hashes[n], cumsum, n) if any_repeat else 0
        any_repeat = chars > 0
        out[f"gopher_repetition_dup_{n}_gram_frac"] = chars / n_chars
    return out


def gopher_quality(text: str, ids: np.ndarray, words: WordSplitter, stop_ids: np.ndarray) -> dict[str, float]:
    n_words = len(ids)
    non_symbol = words.non_symbol[ids]
    n_non_symbol = int(non_symbol.sum())
    lines = text.splitlines()
    n_lines = max(len(lines), 1)
    return {
        "gopher_quality_words": n_non_symbol,
        "gopher_quality_avg_word_length": float(words.length[ids][non_symbol].mean()) if n_non_symbol else 0.0,
        "gopher_quality_hash_ratio": text.count("#") / n_words if n_words else 0.0,
        "gopher_quality_ellipsis_ratio": (text.count("...") + text.count("…")) / n_words if n_words else 0.0,
        "gopher_quality_bullet_lines_ratio": sum(s.lstrip().startswith(("•", "-")) for s in lines) / n_lines,
        "gopher_quality_ellipsis_lines_ratio": sum(s.rstrip().endswith(("...", "…")) for s in lines) / n_lines,
        "gopher_quality_alpha_words_ratio": float(words.alpha[ids].mean()) if n_words else 0.0,
        "gopher_quality_stop_words": int(np.isin(stop_ids, ids).sum()),
    }


@dataclass
class C4Result:
    """C4 line filtering of one document: the kept lines, document flags and removal counts."""

    lines: list[str]
    lorem_ipsum: bool = False
    curly_bracket: bool = False
    removed: dict[str, int] = field(default_factory=dict)


def c4_lines(text: str, cfg: C4Config) -> C4Result:
    """datatrove C4QualityFilter's line loop; document rules become flags (decided later).

    A lorem-ipsum or curly-bracket line does not stop the loop (datatrove returns there): the
    document is dropped anyway while those rules are on, and the text is right when they are off.
    """
    result = C4Result([])
    removed = result.removed
    for line in text.splitlines():
        line = line.strip()
        words = line.split()
        if cfg.max_word_length != -1 and len(line) > cfg.max_word_length and any(
            len(w) > cfg.max_word_length for w in words
        ):
            removed["too_long_word"] = removed.get("too_long_word", 0) + 1
            continue
        if cfg.remove_citations and "[" in line:
            line = _CITATION.sub("", line)
        if cfg.filter_no_terminal_punct and (not line.endswith(_END_PUNCTUATION) or line.endswith("...")):
            removed["no_terminal_punct"] = removed.get("no_terminal_punct", 0) + 1
            continue
        if len(words) < cfg.min_words_per_line:
            removed["too_few_words"] = removed.get("too_few_words", 0) + 1
            continue
        lower = line.lower()
        if "lorem ipsum" in lower:
            result.lorem_ipsum = True
        if cfg.filter_javascript and "javascript" in lower:
            removed["javascript"] = removed.get("javascript", 0) + 1
            continue
        if "{" in line:
            result.curly_bracket = True
        if cfg.filter_policy and any(p in lower for p in _POLICY):
            removed["policy"] = removed.get("policy", 0) + 1
            continue
        result.lines.append(line)
    return result


def split_lines(lines: list[str], words: WordSplitter) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of ``lines`` (one split) and each token's line number."""
    joined = f" {LINE_SEPARATOR} ".join(lines)
    if joined.count(LINE_SEPARATOR) != max(len(lines) - 1, 0):  # the text itself holds the separator
        joined = f" {LINE_SEPARATOR} ".join(line.replace(LINE_SEPARATOR, " ") for line in lines)
    ids = words.split(joined)
    border = ids == words.token_id(LINE_SEPARATOR)
    line_of = np.cumsum(border)
    return ids[~border], line_of[~border]


def sentence_count(ids: np.ndarray, line_of: np.ndarray, n_lines: int, words: WordSplitter) -> int:
    """Sentences over all lines as spaCy's Sentencizer splits each line (what C4 counts).

    Every line has one; another starts at a non-punctuation token after a sentence-final character.
    """
    if len(ids) == 0:
        return n_lines
    cls = words.sent_class[ids]
    keep = cls != SENT_PUNCT
    cls, line_of = cls[keep], line_of[keep]
    starts = (cls[1:] == SENT_OTHER) & (cls[:-1] == SENT_TERMINAL) & (line_of[1:] == line_of[:-1])
    return int(n_lines + starts.sum())


def fineweb(text: str, n_words: int, short_line_length: int) -> dict[str, float]:
    """datatrove FineWebQualityFilter's measures; ``n_words`` = words of ``text``."""
    lines = [line for line in text.split("\n") if line.strip() != ""]
    out: dict[str, float] = {"fineweb_lines": len(lines)}
    if not lines:
        return out
    out["fineweb_line_punct_ratio"] = sum(line.endswith(_FINEWEB_STOP_CHARS) for line in lines) / len(lines)
    out["fineweb_short_line_ratio"] = sum(len(line) <= short_line_length for line in lines) / len(lines)
    chars = len(text) - text.count("\n")
    out["fineweb_char_dup_ratio"] = duplicates(lines)[1] / chars if chars else 0.0
    out["fineweb_new_line_ratio"] = text.count("\n") / n_words if n_words else float(text.count("\n"))
    return out

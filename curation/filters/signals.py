"""The signal pass: every filter's measurements for a table of documents, and the line transforms.

Per document, in order (the order of FineWeb's pipeline, so each heuristic sees the text the
published filter sees): URL signals; language ID; one word split shared by Gopher repetition,
Gopher quality, dirty words and the KL histogram (all on the input text); C4 line rules (remove
lines; document flags); FineWeb measures on the C4 text; Llama 3 line n-gram removal; PII masking.
Word splitting and the text heuristics follow the document's language when ``filters.languages``
has overrides for it. Nothing is dropped here: ``rules.decide`` does that from the stored signals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from curation.filters.config import DUP_NGRAM_SIZES, TOP_NGRAM_SIZES, FiltersConfig
from curation.filters.dirty_words import dirty_words
from curation.filters.heuristics import (
    c4_lines,
    fineweb,
    gopher_quality,
    gopher_repetition,
    sentence_count,
    split_lines,
)
from curation.filters.kl import histogram
from curation.filters.lid import LanguageIdentifier
from curation.filters.ngrams import line_coverage
from curation.filters.pii import mask_pii
from curation.filters.url import url_blocklist
from curation.filters.words import word_splitter
from curation.schema import with_column, with_signals

INT, FLOAT = pa.int64(), pa.float64()
SIGNAL_FIELDS: dict[str, dict[str, pa.DataType]] = {
    "url": {f"url_{k}": INT for k in ("domain", "subdomain", "url", "banned_words", "soft_banned_words",
                                      "banned_subwords")},
    "gopher_repetition": {
        "gopher_repetition_chars": INT,
        **{f"gopher_repetition_{k}": FLOAT for k in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac",
                                                     "dup_line_char_frac")},
        **{f"gopher_repetition_top_{n}_gram_frac": FLOAT for n in TOP_NGRAM_SIZES},
        **{f"gopher_repetition_dup_{n}_gram_frac": FLOAT for n in DUP_NGRAM_SIZES},
    },
    "gopher_quality": {
        "gopher_quality_words": INT,
        **{f"gopher_quality_{k}": FLOAT for k in ("avg_word_length", "hash_ratio", "ellipsis_ratio",
                                                  "bullet_lines_ratio", "ellipsis_lines_ratio", "alpha_words_ratio")},
        "gopher_quality_stop_words": INT,
    },
    "c4": {"c4_sentences": INT, "c4_lorem_ipsum": INT, "c4_curly_bracket": INT},
    "fineweb": {"fineweb_lines": INT, **{f"fineweb_{k}": FLOAT for k in ("line_punct_ratio", "short_line_ratio",
                                                                          "char_dup_ratio", "new_line_ratio")}},
    "line_ngrams": {"line_ngrams_lines_removed": INT},
    "pii": {"pii_emails": INT, "pii_ips": INT},
    "dirty_words": {"dirty_words_count": INT, "dirty_words_ratio": FLOAT},
    "filters": {"filters_output_chars": INT},
}
"""The signals each filter writes (``<filter>_<signal>``); a disabled filter writes none."""


def signal_fields(cfg: FiltersConfig) -> dict[str, pa.DataType]:
    """The signals of the filters enabled for any language."""
    out: dict[str, pa.DataType] = {}
    configs = [cfg, *(cfg.for_language(lang) for lang in cfg.languages)]
    for name, fields in SIGNAL_FIELDS.items():
        if any(getattr(c, name, None) is None or getattr(c, name).enabled for c in configs):
            out.update(fields)
    return out


HISTOGRAM_SCHEMA = pa.schema([pa.field("buckets", pa.list_(pa.uint32())), pa.field("counts", pa.list_(pa.uint32()))])


class SignalExtractor:
    """Picklable: built on the driver, run on workers (models and lists come from the worker cache)."""

    def __init__(self, cfg: FiltersConfig):
        self.cfg = cfg

    def __call__(self, docs: pa.Table) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
        """(documents with signals and rewritten text, per-document KL histograms, counters)."""
        cfg = self.cfg
        texts = [t or "" for t in docs.column("text").to_pylist()]
        langs = docs.column("lang").to_pylist()
        fields = signal_fields(cfg)
        values: dict[str, list] = {name: [None] * len(texts) for name in fields}
        counters: dict[str, int] = {}

        if cfg.url.enabled:
            blocklist = url_blocklist(cfg.url)
            for i, url in enumerate(docs.column("url").to_pylist()):
                for k, v in zip(SIGNAL_FIELDS["url"], blocklist.signals(url)):
                    values[k][i] = v
        if cfg.lid.enabled:
            langs, scores = LanguageIdentifier(cfg.lid.model_path).predict(texts)
            docs = with_column(with_column(docs, "lang", langs), "lang_score", pa.array(scores))

        dirty = dirty_words(cfg.dirty_words) if cfg.dirty_words.enabled else None
        hist_buckets, hist_counts = [], []
        out_texts = []
        for i, text in enumerate(texts):
            doc_cfg = cfg.for_language(langs[i])  # the heuristics' settings for this language
            signals: dict[str, Any] = {}
            words = word_splitter(doc_cfg.language)
            words.start_document()
            ids = words.split(text)
            if doc_cfg.gopher_repetition.enabled:
                signals.update(gopher_repetition(text, ids, words.length[ids]))
            if doc_cfg.gopher_quality.enabled:
                stop_ids = np.array(words.ids_of(doc_cfg.gopher_quality.stop_words), dtype=np.int32)
                signals.update(gopher_quality(text, ids, words, stop_ids))
            if dirty is not None:
                count = dirty.count(text, langs[i])
                signals["dirty_words_count"] = count
                signals["dirty_words_ratio"] = count / len(ids) if len(ids) else 0.0
            if cfg.kl.enabled:
                buckets, counts = histogram(ids, words, cfg.kl.buckets)
                hist_buckets.append(buckets)
                hist_counts.append(counts)
            text, lines, line_ids, line_of = self._c4(doc_cfg, text, signals, counters, ids)
            if doc_cfg.fineweb.enabled:
                signals.update(fineweb(text, len(line_ids), doc_cfg.fineweb.short_line_length))
            if doc_cfg.line_ngrams.enabled:
                text = self._line_ngrams(doc_cfg, text, lines, line_ids, line_of, signals)
            if cfg.pii.enabled:
                text, signals["pii_emails"], signals["pii_ips"] = mask_pii(text, cfg.pii)
            signals["filters_output_chars"] = len(text.strip())
            out_texts.append(text)
            for k, v in signals.items():
                values[k][i] = v

        for name in ("line_ngrams_lines_removed", "pii_emails", "pii_ips"):
            if name in values:
                counters[name] = int(sum(v or 0 for v in values[name]))
        docs = with_column(docs, "text", out_texts)
        docs = with_signals(docs, {k: pa.array(v, type=fields[k]) for k, v in values.items()})
        hist = pa.table(
            {
                "buckets": pa.array([b.tolist() for b in hist_buckets], type=pa.list_(pa.uint32())),
                "counts": pa.array([c.tolist() for c in hist_counts], type=pa.list_(pa.uint32())),
            },
            schema=HISTOGRAM_SCHEMA,
        )
        return docs, hist, counters

    @staticmethod
    def _c4(cfg: FiltersConfig, text: str, signals: dict, counters: dict, ids: np.ndarray):
        """C4 line rules: (text, its lines, their word ids, line of each word); lines is None when off."""
        if not cfg.c4.enabled:
            return text, None, ids, None
        words = word_splitter(cfg.language)
        result = c4_lines(text, cfg.c4)
        line_ids, line_of = split_lines(result.lines, words)
        signals["c4_sentences"] = sentence_count(line_ids, line_of, len(result.lines), words)
        signals["c4_lorem_ipsum"] = int(result.lorem_ipsum)
        signals["c4_curly_bracket"] = int(result.curly_bracket)
        for rule, n in result.removed.items():
            key = f"c4_lines_removed_{rule}"
            counters[key] = counters.get(key, 0) + n
        return "\n".join(result.lines).strip(), result.lines, line_ids, line_of

    @staticmethod
    def _line_ngrams(cfg: FiltersConfig, text: str, lines, line_ids, line_of, signals: dict) -> str:
        """Llama 3: drop lines whose duplicated n-gram coverage is above the limit."""
        words = word_splitter(cfg.language)
        if lines is None:
            lines = text.split("\n")
            line_ids, line_of = split_lines(lines, words)
        coverage = line_coverage(line_ids, words.length[line_ids], line_of, len(lines), cfg.line_ngrams.n)
        drop = coverage > cfg.line_ngrams.max_coverage
        signals["line_ngrams_lines_removed"] = int(drop.sum())
        if not drop.any():
            return text
        return "\n".join(line for line, d in zip(lines, drop) if not d).strip()

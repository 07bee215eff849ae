"""Gates: drop raw pages that cannot survive the filters before paying for their extraction.

The filters' own rules, applied early: the pipeline builds them from the filters section and hands
them to the extract stage, which runs ``check_url``/``check_language`` without knowing the filters.

Extraction is most of a run's time and most crawl pages are dropped right after it (76% of the
shared mixed-language crawl by language ID alone). Two checks run on the raw record instead:

- ``url``: the URL filter's own rules (``filters.url``, same lists, same thresholds) on the
  record's URL. A page it drops would be dropped by the filter anyway; only its reason differs.
- ``lid``: fastText lid.176 (the filters' model) on the first ``lid_chars`` characters of
  resiliparse's plain text of the whole page (~0.8 ms a page against ~20 ms for trafilatura; its
  main-content heuristics doubled that and gated no more pages). A page is dropped only when its
  top language is outside ``filters.lid.languages`` with a score of at least ``lid_min_score``, a
  threshold measured so that the kept documents stay the same (``benchmarks/end_to_end.py`` lists
  every difference). A page those characters place outside the languages below that score gets a
  second look, at its whole plain text (fastText on ~4,000 characters against ~13 ms of trafilatura).

Dropped pages are rejects with reason ``gate.url.<rule>`` or ``gate.lid.language`` (and the
pre-check's language and score in ``lang``/``lang_score``). Pages that pass are extracted as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from curation.config_base import Section
from curation.filters.rules import BY_REASON, fails, thresholds

GATE_PREFIX = "gate."


class GatesConfig(Section):
    """Checks on raw pages before extraction; each follows the filter it anticipates and is off with it."""

    url: bool = Field(True, description="filters.url's rules on the record URL, before any HTML is parsed")
    lid: bool = Field(True, description="skip pages confidently outside filters.lid.languages")
    # Measured on ../shared/data/crawl (1,217 pages; benchmarks/end_to_end.py checks it every run): no
    # page the filters keep has a non-English pre-check at any score; of the pages whose extracted text
    # is English to lid (>= 0.65), 4 pre-check as another language: one at 0.73 and three at >= 0.85,
    # all three dropped by the heuristics anyway. 0.8 gates 70% of the pages (849 of 1,217, after 4 URL gates).
    # The second look (whole plain text of the 59 pages pre-checked as another language below 0.8) gates 18
    # more (867); none is kept, one has English extracted text (0.95, 0.91 German whole page), dropped by
    # gopher_quality anyway.
    lid_min_score: float = Field(0.8, ge=0, le=1, description="pre-check score needed to drop a page")
    lid_chars: int = Field(2000, gt=0, description="characters of the page's plain text given to fastText")


class Gates:
    """Built once per worker from the extract and filters sections; ``check`` is per page."""

    def __init__(self, cfg: GatesConfig, filters: Any | None, load: bool = True):
        self.cfg, self.filters = cfg, filters
        self.url_rules = self._url_rules(cfg, filters)
        self.languages = self._languages(cfg, filters)
        self.min_score = cfg.lid_min_score
        self.chars = cfg.lid_chars
        self._blocklist = self._lid = None
        if not load:  # settings only (on the driver)
            return
        if self.url_rules:
            from curation.filters.url import url_blocklist

            self._blocklist = url_blocklist(filters.url)
        if self.languages:
            from curation.filters.lid import LanguageIdentifier

            self._lid = LanguageIdentifier(filters.lid.model_path)

    def loaded(self) -> Gates:
        """These gates with their lists and model loaded (a worker builds them from the driver's settings)."""
        return Gates(self.cfg, self.filters)

    def settings(self) -> dict[str, Any]:
        """What the gates' decisions depend on (the extract phase's fingerprint holds it)."""
        return {"url_rules": self.url_rules, "languages": sorted(self.languages), "min_score": self.min_score,
                "chars": self.chars}

    @property
    def active(self) -> bool:
        return bool(self.url_rules or self.languages)

    @staticmethod
    def _url_rules(cfg: GatesConfig, filters: Any | None) -> dict[str, Any]:
        """The URL filter's rules in force, when every language decides them alike (else no gate)."""
        if not cfg.url or filters is None or not filters.enabled or not filters.url.enabled:
            return {}
        per_config = [thresholds(c) for c in (filters, *(filters.for_language(lang) for lang in filters.languages))]
        rules = [{r: t for r, t in active.items() if r.startswith("url.")} for active in per_config]
        return rules[0] if all(r == rules[0] for r in rules) else {}

    @staticmethod
    def _languages(cfg: GatesConfig, filters: Any | None) -> set[str]:
        """The kept languages, when the language filter drops the others (else no gate)."""
        if not cfg.lid or filters is None or not filters.enabled or not filters.lid.enabled:
            return set()
        return set(filters.lid.languages or ())

    def check_url(self, url: str | None) -> str | None:
        if not self.url_rules or not url:
            return None
        values = dict(zip(("url_domain", "url_subdomain", "url_url", "url_banned_words", "url_soft_banned_words",
                           "url_banned_subwords"), self._blocklist.signals(url)))
        for reason, threshold in self.url_rules.items():  # the filter's order: its first failed rule
            rule = BY_REASON[reason]
            if fails(rule.op, np.array([values[rule.signal]], dtype=np.float64), threshold)[0]:
                return GATE_PREFIX + reason
        return None

    def check_language(self, html: str) -> tuple[str | None, str | None, float | None]:
        """(reason or None, pre-check language, its score).

        The first ``lid_chars`` characters decide; a page they place outside the languages without
        confidence gets a second look at its whole plain text (already extracted), as it is about to
        cost a full extraction.
        """
        if not self.languages:
            return None, None, None
        from resiliparse.extract.html2text import extract_plain_text

        text = extract_plain_text(html)  # the whole page's visible text
        langs, scores = self._lid.predict([text[: self.chars]])
        if langs[0] not in self.languages and scores[0] < self.min_score and len(text) > self.chars:
            langs, scores = self._lid.predict([text])
        lang, score = langs[0], float(scores[0])
        if lang not in self.languages and score >= self.min_score:
            return GATE_PREFIX + "lid.language", lang, score
        return None, lang, score

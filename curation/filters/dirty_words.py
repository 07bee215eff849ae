"""Dirty-word counting (Llama 3 counts; C4 dropped a page at the first hit).

Matches are whole words or phrases in the lower-cased text, found with one Aho-Corasick pass;
like C4's regex a match must be flanked by non-word characters, except for languages written
without spaces (ja, th, zh). The built-in list is datatrove's banned and soft-banned URL words
(adult and slur terms, offline; its multi-word URL list is left out: phrases such as "big black"
are harmless in prose); ``lists`` adds files per language.
"""

from __future__ import annotations

import json
from pathlib import Path

from curation.filters.config import DirtyWordsConfig
from curation.filters.url import asset
from curation.runtime.worker_cache import cached

NO_SPACE_LANGUAGES = frozenset({"ja", "th", "zh"})
BUILTIN = ("banned_words.txt", "soft_banned_words.txt")


def _read(path: str) -> set[str]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {w.strip().lower() for w in lines if w.strip() and not w.startswith("#")}


class DirtyWords:
    def __init__(self, cfg: DirtyWordsConfig):
        common = set().union(*(_read(asset(name)) for name in BUILTIN)) if cfg.builtin else set()
        self._common = self._automaton(common)
        self._by_lang = {lang: self._automaton(common.union(*map(_read, paths))) for lang, paths in cfg.lists.items()}

    @staticmethod
    def _automaton(words: set[str]):
        import ahocorasick

        automaton = ahocorasick.Automaton()
        for word in sorted(words):
            automaton.add_word(word, len(word))
        if len(automaton):
            automaton.make_automaton()
        return automaton

    def count(self, text: str, lang: str | None) -> int:
        automaton = self._by_lang.get(lang or "", self._common)
        if not len(automaton):
            return 0
        lower = text.lower()
        if lang in NO_SPACE_LANGUAGES:
            return sum(1 for _ in automaton.iter(lower))
        n = 0
        end_of_text = len(lower) - 1
        for end, length in automaton.iter(lower):
            start = end - length + 1
            if (start == 0 or not _is_word(lower[start - 1])) and (end == end_of_text or not _is_word(lower[end + 1])):
                n += 1
        return n


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # regex \w


def dirty_words(cfg: DirtyWordsConfig) -> DirtyWords:
    return cached(("filters.dirty_words", json.dumps(cfg.model_dump(), sort_keys=True)), lambda: DirtyWords(cfg))

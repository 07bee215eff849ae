"""Word splitting shared by every heuristic: spaCy's rule tokenizer, memoised per whitespace chunk.

datatrove's Gopher/FineWeb filters split words with ``spacy.blank(lang)``'s tokenizer; using the
same rules keeps our signals equal to theirs. spaCy tokenizes each whitespace-separated chunk
independently, so a per-worker cache from chunk to token ids gives the same words at a fraction of
the cost (chunks follow Zipf's law); plain alphabetic or numeric chunks skip spaCy altogether.
Token ids index per-token arrays (length, symbol/alpha flags, sentence class, hash) so document
statistics are numpy gathers instead of Python loops over words.
"""

from __future__ import annotations

import unicodedata
from itertools import chain

import numpy as np
import xxhash
from datatrove.utils.text import PUNCTUATION_SET  # a word made only of these is a "symbol" (Gopher)

from curation.runtime.worker_cache import cached

_PREFIX_CHARS = frozenset('(["{')
_SUFFIX_CHARS = frozenset(',;:!?)]}"')
_LOWER_OR_DIGIT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")

SENT_TERMINAL, SENT_PUNCT, SENT_OTHER = 0, 1, 2
"""Sentence classes of a token for spaCy's Sentencizer: in its punct_chars, other punctuation, other."""


class _Column:
    """A growable numpy column (capacity doubling), so new tokens append in O(1)."""

    def __init__(self, dtype: type):
        self.data = np.zeros(1024, dtype=dtype)

    def set(self, i: int, value) -> None:
        if i >= len(self.data):
            self.data = np.resize(self.data, 2 * i)
        self.data[i] = value


class WordSplitter:
    """Split texts into spaCy words (whitespace tokens dropped, as datatrove's ``split_into_words``)."""

    def __init__(self, language: str = "en", max_tokens: int = 4_000_000):
        import spacy
        from spacy.pipeline import Sentencizer

        self._tokenizer = spacy.blank(language).tokenizer
        self._special = frozenset(self._tokenizer.rules or ())
        self._sent_terminal = frozenset(Sentencizer.default_punct_chars)
        self._max_tokens = max_tokens
        self._reset()

    def _reset(self) -> None:
        self._chunks: dict[str, tuple[int, ...]] = {}
        self._token_ids: dict[str, int] = {}
        self.tokens: list[str] = []
        self._len = _Column(np.int32)
        self._non_symbol = _Column(np.bool_)
        self._alpha = _Column(np.bool_)
        self._sent_class = _Column(np.int8)
        self._hash = _Column(np.uint64)

    # per-token arrays (views valid until the next split)
    @property
    def length(self) -> np.ndarray:
        return self._len.data

    @property
    def non_symbol(self) -> np.ndarray:
        return self._non_symbol.data

    @property
    def alpha(self) -> np.ndarray:
        return self._alpha.data

    @property
    def sent_class(self) -> np.ndarray:
        return self._sent_class.data

    @property
    def lower_hash(self) -> np.ndarray:
        """xxh3 of the lower-cased token: a stable key across workers (token-distribution KL)."""
        return self._hash.data

    def token_id(self, token: str) -> int:
        tid = self._token_ids.get(token)
        if tid is None:
            tid = len(self.tokens)
            self._token_ids[token] = tid
            self.tokens.append(token)
            self._len.set(tid, len(token))
            self._non_symbol.set(tid, any(ch not in PUNCTUATION_SET for ch in token))
            self._alpha.set(tid, any(ch.isalpha() for ch in token))
            if token in self._sent_terminal:
                cls = SENT_TERMINAL
            elif all(unicodedata.category(ch).startswith("P") for ch in token):
                cls = SENT_PUNCT  # spaCy's is_punct
            else:
                cls = SENT_OTHER
            self._sent_class.set(tid, cls)
            self._hash.set(tid, xxhash.xxh3_64_intdigest(token.lower().encode()))
        return tid

    def ids_of(self, tokens: list[str]) -> list[int]:
        return [self.token_id(t) for t in tokens]

    def _split_chunk(self, chunk: str) -> tuple[int, ...]:
        words = self._split_simple(chunk)
        if words is None:
            words = [w for w in (t.text.strip() for t in self._tokenizer(chunk)) if w]
        return tuple(self.token_id(w) for w in words)

    def _split_simple(self, chunk: str) -> list[str] | None:
        """spaCy's result for the common shapes ``(("word"),.`` without running its affix regexes.

        A letter or digit core wrapped in punctuation that spaCy always splits off one character
        at a time; a final period splits after a lower-case letter or a digit. Anything else (or
        any piece that is a spaCy special case, such as ``:)`` or ``Mr.``) returns None.
        """
        n = len(chunk)
        i = 0
        while i < n and chunk[i] in _PREFIX_CHARS:
            i += 1
        j = n
        while j > i and chunk[j - 1] in _SUFFIX_CHARS:
            j -= 1
        end = j
        if end - i > 1 and chunk[end - 1] == "." and chunk[end - 2] in _LOWER_OR_DIGIT:
            end -= 1
        core = chunk[i:end]
        if not (core.isalpha() or (core.isascii() and core.isdecimal())):
            return None
        special = self._special
        for a in range(i + 1):
            for b in range(end, n + 1):
                if chunk[a:b] in special:
                    return None
        affixes = chunk[:i] + "|" + chunk[end:]
        if any(affixes[a : a + k] in special for k in (2, 3) for a in range(len(affixes) - k + 1)):
            return None
        return [*chunk[:i], core, *chunk[end:]]

    def start_document(self) -> None:
        """Bound memory: forget every token between documents once there are too many.

        Token ids are only valid until then, so callers hold them for one document at most.
        """
        if len(self.tokens) > self._max_tokens:
            self._reset()

    def split(self, text: str) -> np.ndarray:
        """Token ids of ``text``'s words, in order."""
        chunks = text.split()
        cache = self._chunks
        for chunk in set(chunks).difference(cache):
            cache[chunk] = self._split_chunk(chunk)
        return np.fromiter(chain.from_iterable(map(cache.__getitem__, chunks)), dtype=np.int32)

    def words(self, text: str) -> list[str]:
        """The words themselves (for tests and explanations)."""
        return [self.tokens[i] for i in self.split(text)]


def word_splitter(language: str = "en") -> WordSplitter:
    """The worker's splitter for ``language`` (built once per process)."""
    return cached(("filters.words", language), lambda: WordSplitter(language))

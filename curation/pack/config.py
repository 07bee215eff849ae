"""Config of tokenization and packing (the ``pack:`` section)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from curation.common.tokenizer import TokenizerConfig


class PackConfig(TokenizerConfig):
    """The tokenizer settings (``TokenizerConfig``) plus row packing."""

    enabled: bool = True
    pad_id: int | None = Field(None, ge=0, description="padding token id; None = the EOS id")
    seq_len: int = Field(8192, ge=8, description="tokens per row; Llama 3 pre-trains on 8,192-token sequences")
    # best_fit: best-fit decreasing, as in "Fewer Truncations Improve Language Modeling" (Ding et al. 2024);
    # concat: the classic concatenate-and-split of GPT-style pre-training.
    mode: Literal["best_fit", "concat"] = "best_fit"
    validation_fraction: float = Field(0.005, ge=0, lt=1, description="share of documents held out (by id hash)")
    shuffle: bool = Field(True, description="shuffle rows with the run seed")
    rows_per_shard: int = Field(1024, ge=1, description="rows per Parquet shard (1024 x 8192 x 4 B = 32 MiB)")
    bucket_bytes: int = Field(
        256 * 1024 * 1024,
        gt=0,
        description="input Parquet bytes per pack bucket: documents are spread over buckets by id hash and each "
        "bucket is packed and shuffled by one task, which bounds its memory",
    )

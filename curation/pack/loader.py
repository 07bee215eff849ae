"""Training-side view of packed shards: labels, positions and masks derived from a row alone.

Everything is derived from ``input_ids``, ``cu_seqlens`` and ``doc_ids``; nothing is
re-tokenized. Labels follow the Hugging Face convention (the model shifts them): ``labels[t]`` is
the target of the logits at ``t - 1``, so it is -100 at the first token of every segment (the
previous token belongs to another document) and on padding. torch is imported only here, so the
rest of the pipeline does not need it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from curation.io import fs

try:  # torch is optional for the pipeline; the dataset class needs it
    import torch
    from torch.utils.data import IterableDataset, get_worker_info
except ImportError:  # pragma: no cover - exercised only without torch
    torch = None
    IterableDataset = object

IGNORE_INDEX = -100
ROW_COLUMNS = ["input_ids", "cu_seqlens", "doc_ids"]


def row_fields(input_ids: Sequence[int], cu_seqlens: Sequence[int], doc_ids: Sequence[str]) -> dict[str, Any]:
    """Training fields of one row as numpy arrays (and ``max_seqlen`` as an int)."""
    ids = np.asarray(input_ids, dtype=np.int64)
    cu = np.array(cu_seqlens, dtype=np.int32)
    lengths = np.diff(cu)
    document_index = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    position_ids = np.arange(len(ids), dtype=np.int64) - np.repeat(cu[:-1], lengths)
    labels = ids.copy()
    labels[cu[:-1]] = IGNORE_INDEX
    for k, name in enumerate(doc_ids):
        if name == "":
            labels[cu[k] : cu[k + 1]] = IGNORE_INDEX
    return {
        "input_ids": ids,
        "labels": labels,
        "position_ids": position_ids,
        "document_index": document_index,
        "cu_seqlens": cu,
        "max_seqlen": int(lengths.max()),
    }


def add_training_fields(batch: dict[str, list]) -> dict[str, list]:
    """Batched ``datasets.Dataset.map`` function: adds labels, position_ids, document_index, max_seqlen."""
    out: dict[str, list] = {"labels": [], "position_ids": [], "document_index": [], "max_seqlen": []}
    for ids, cu, docs in zip(batch["input_ids"], batch["cu_seqlens"], batch["doc_ids"]):
        fields = row_fields(ids, cu, docs)
        for key in out:
            out[key].append(fields[key])
    return out


def shard_files(shard_dir: str, split: str = "train") -> list[str]:
    """The shard files of one split, in order (``<split>-00000.parquet``, ...)."""
    files = fs.listdir(shard_dir, ".parquet", prefix=f"{split}-")
    if not files:
        raise FileNotFoundError(f"no {split}-*.parquet shards in {shard_dir}")
    return files


def iter_rows(files: Sequence[str], index: int = 0, count: int = 1) -> Iterator[dict[str, Any]]:
    """Rows ``index, index + count, ...`` of the files read in order, as raw Python lists."""
    row = 0
    for path in files:
        filesystem, inner = fs.filesystem(path)
        with filesystem.open(inner, "rb") as f:
            parquet = pq.ParquetFile(f)
            for batch in parquet.iter_batches(columns=ROW_COLUMNS, batch_size=256):
                first = (index - row) % count
                for k in range(first, batch.num_rows, count):
                    yield {c: batch.column(c)[k].values.to_numpy(zero_copy_only=False) for c in ROW_COLUMNS}
                row += batch.num_rows


class PackedShardDataset(IterableDataset):
    """Rows of a shard folder as training examples, split across DataLoader workers and ranks.

    Global row ``i`` goes to the worker ``i % (world_size * num_workers)``, so every rank and
    worker gets a disjoint, nearly equal share whatever the number of files.
    """

    def __init__(self, shard_dir: str, split: str = "train", rank: int | None = None, world_size: int | None = None):
        super().__init__()
        self.files = shard_files(shard_dir, split)
        self.rank, self.world_size = rank, world_size

    def _slot(self) -> tuple[int, int]:
        rank, world = self.rank, self.world_size
        if rank is None or world is None:
            dist = torch.distributed
            ready = dist.is_available() and dist.is_initialized()
            rank, world = (dist.get_rank(), dist.get_world_size()) if ready else (0, 1)
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        return rank * workers + worker, world * workers

    def __iter__(self) -> Iterator[dict[str, Any]]:
        index, count = self._slot()
        for row in iter_rows(self.files, index, count):
            fields = row_fields(row["input_ids"], row["cu_seqlens"], row["doc_ids"])
            yield {k: v if k == "max_seqlen" else torch.from_numpy(v) for k, v in fields.items()}


def collate_packed(examples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stack rows; ``cu_seqlens`` become those of the flattened batch (FlashAttention varlen)."""
    out = {k: torch.stack([e[k] for e in examples]) for k in ("input_ids", "labels", "position_ids", "document_index")}
    seq_len = out["input_ids"].shape[1]
    cu = [examples[0]["cu_seqlens"]] + [e["cu_seqlens"][1:] + b * seq_len for b, e in enumerate(examples) if b]
    out["cu_seqlens"] = torch.cat(cu).to(torch.int32)
    out["max_seqlen"] = max(e["max_seqlen"] for e in examples)
    return out


def block_causal_mask(document_index: Any, dtype: Any = None) -> Any:
    """Causal attention inside each segment only.

    ``dtype=None``: bool, True where attention is allowed, [seq, seq] (or [batch, seq, seq]).
    A float dtype: additive mask (0 or the dtype's minimum), [1, 1, seq, seq] (or [batch, 1, ...]),
    the 4D form Hugging Face models accept as ``attention_mask``.
    """
    doc = torch.as_tensor(document_index)
    seq = doc.shape[-1]
    causal = torch.ones(seq, seq, dtype=torch.bool, device=doc.device).tril()
    allowed = (doc[..., :, None] == doc[..., None, :]) & causal
    if dtype is None:
        return allowed
    additive = torch.zeros(allowed.shape, dtype=dtype, device=doc.device).masked_fill(~allowed, torch.finfo(dtype).min)
    return additive.unsqueeze(-3) if doc.dim() == 2 else additive[None, None]


def flex_block_mask(document_index: Any, device: str | None = None) -> Any:
    """A FlexAttention ``BlockMask`` (document-causal) for [seq] or [batch, seq] document indices."""
    from torch.nn.attention.flex_attention import create_block_mask

    doc = torch.as_tensor(document_index)
    doc = doc[None] if doc.dim() == 1 else doc
    batch, seq = doc.shape

    def document_causal(b, h, q, kv):
        return (doc[b, q] == doc[b, kv]) & (q >= kv)

    return create_block_mask(document_causal, batch, None, seq, seq, device=device or str(doc.device))

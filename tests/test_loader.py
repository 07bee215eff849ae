"""Loaders over packed shards: masks against a real Llama model, labels, sharding, HF datasets, Megatron."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from test_pack import make_texts, pack_run, reference_tokens, write_parts

from curation.io import fs
from curation.pack.loader import (
    IGNORE_INDEX,
    PackedShardDataset,
    add_training_fields,
    block_causal_mask,
    collate_packed,
    flex_block_mask,
    row_fields,
    shard_files,
)
from curation.pack.megatron import export_megatron

SEQ_LEN = 64


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    tmp = tmp_path_factory.mktemp("loader")
    texts = make_texts(30, seed=3, max_words=25)
    pack_run(tmp / "run", write_parts(tmp, texts, parts=2), seq_len=SEQ_LEN, rows_per_shard=5, validation_fraction=0)
    return tmp / "run" / "shards", texts


def busiest_row(shard_dir: Path) -> dict:
    """The row with the most segments (padding included)."""
    rows = []
    for path in shard_files(str(shard_dir)):
        table = fs.read_parquet(path)
        rows += table.to_pylist()
    return max(rows, key=lambda r: len(r["doc_ids"]))


def test_row_fields_restart_per_segment_and_mask_boundaries() -> None:
    fields = row_fields([5, 6, 7, 8, 9, 1, 1], [0, 3, 5, 7], ["a", "b", ""])
    assert fields["position_ids"].tolist() == [0, 1, 2, 0, 1, 0, 1]
    assert fields["labels"].tolist() == [IGNORE_INDEX, 6, 7, IGNORE_INDEX, 9, IGNORE_INDEX, IGNORE_INDEX]
    assert fields["document_index"].tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert fields["max_seqlen"] == 3
    mask = block_causal_mask(torch.as_tensor(fields["document_index"]))
    assert mask.shape == (7, 7) and mask[4, 3] and not mask[3, 2] and not mask[3, 4]
    additive = block_causal_mask(torch.as_tensor(fields["document_index"]), dtype=torch.float32)
    assert additive.shape == (1, 1, 7, 7) and additive[0, 0, 4, 3] == 0 and additive[0, 0, 3, 2] < -1e30


def test_packed_row_gives_the_logits_of_each_document_alone(shards) -> None:
    """A random tiny LlamaForCausalLM: packed row + our mask/positions == each document run alone."""
    from transformers import LlamaConfig, LlamaForCausalLM

    shard_dir, _ = shards
    manifest = fs.read_json(str(shard_dir / "manifest.json"))
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=manifest["vocab_size"],
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=SEQ_LEN,
    )
    config._attn_implementation = "eager"
    model = LlamaForCausalLM(config).eval().float()
    row = busiest_row(shard_dir)
    fields = row_fields(row["input_ids"], row["cu_seqlens"], row["doc_ids"])
    ids = torch.as_tensor(fields["input_ids"])[None]
    with torch.no_grad():
        packed = model(
            input_ids=ids,
            attention_mask=block_causal_mask(torch.as_tensor(fields["document_index"]), dtype=torch.float32),
            position_ids=torch.as_tensor(fields["position_ids"])[None],
        ).logits[0]
        cu = row["cu_seqlens"]
        assert len(cu) > 3, "the row should hold several segments"
        for k in range(len(cu) - 1):
            alone = model(input_ids=ids[:, cu[k] : cu[k + 1]]).logits[0]
            torch.testing.assert_close(packed[cu[k] : cu[k + 1]], alone, atol=1e-4, rtol=0)
        # and the mask matters: without it, later documents see earlier ones
        plain = model(input_ids=ids).logits[0]
        assert (plain[cu[1] : cu[2]] - packed[cu[1] : cu[2]]).abs().max() > 1e-3


def test_flex_block_mask_matches_dense_mask() -> None:
    pytest.importorskip("torch.nn.attention.flex_attention")
    doc = torch.tensor([[0, 0, 0, 1, 1, 2, 2, 2] * 16])
    block = flex_block_mask(doc, device="cpu")
    q = torch.arange(doc.shape[1])
    dense = block.mask_mod(torch.zeros((), dtype=torch.long), torch.zeros((), dtype=torch.long), q[:, None], q[None, :])
    assert torch.equal(dense, block_causal_mask(doc[0]))
    assert block.shape[-2:] == (doc.shape[1], doc.shape[1])


@pytest.mark.filterwarnings("ignore:flex_attention called without torch.compile")
def test_flex_attention_with_our_block_mask_equals_each_document_alone() -> None:
    """torch's flex_attention over two packed rows == causal attention over each document alone."""
    from torch.nn.attention.flex_attention import flex_attention

    torch.manual_seed(0)
    rows = [[50, 7, 30, 41], [100, 28]]  # document lengths; each row is 128 tokens
    doc = torch.stack([torch.repeat_interleave(torch.arange(len(r)), torch.tensor(r)) for r in rows])
    q, k, v = (torch.randn(2, 2, 128, 16) for _ in range(3))
    out = flex_attention(q, k, v, block_mask=flex_block_mask(doc, device="cpu"))
    for b, lengths in enumerate(rows):
        start = 0
        for n in lengths:
            piece = slice(start, start + n)
            alone = torch.nn.functional.scaled_dot_product_attention(
                q[b : b + 1, :, piece], k[b : b + 1, :, piece], v[b : b + 1, :, piece], is_causal=True
            )
            assert (out[b : b + 1, :, piece] - alone).abs().max() < 1e-5
            start += n
    whole = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert (whole - out).abs().max() > 1e-2  # control: without the mask, documents see each other


def test_dataset_splits_rows_across_workers_and_ranks(shards) -> None:
    shard_dir, _ = shards
    every = [r.tolist() for r in (e["input_ids"] for e in PackedShardDataset(str(shard_dir)))]
    assert len(every) == sum(s["rows"] for s in fs.read_json(str(shard_dir / "manifest.json"))["shards"])
    seen = []
    for rank in range(2):
        loader = torch.utils.data.DataLoader(
            PackedShardDataset(str(shard_dir), rank=rank, world_size=2),
            batch_size=2,
            num_workers=2,
            collate_fn=collate_packed,
        )
        for batch in loader:
            assert batch["input_ids"].shape[1] == SEQ_LEN
            assert batch["cu_seqlens"][-1] == SEQ_LEN * len(batch["input_ids"])
            assert batch["max_seqlen"] <= SEQ_LEN
            seen += [r.tolist() for r in batch["input_ids"]]
    assert sorted(seen) == sorted(every)


def test_works_with_hf_datasets(shards) -> None:
    from datasets import load_dataset

    shard_dir, _ = shards
    data = load_dataset("parquet", data_files=shard_files(str(shard_dir)), split="train")
    data = data.map(add_training_fields, batched=True)
    row = data[0]
    expected = row_fields(row["input_ids"], row["cu_seqlens"], row["doc_ids"])
    assert row["labels"] == expected["labels"].tolist() and row["position_ids"] == expected["position_ids"].tolist()


def test_megatron_export_gives_whole_documents(shards, tmp_path: Path) -> None:
    shard_dir, texts = shards
    counts = export_megatron(str(shard_dir), str(tmp_path / "corpus"))
    idx = (tmp_path / "corpus.idx").read_bytes()
    assert idx[:9] == b"MMIDIDX\x00\x00" and struct.unpack("<Q", idx[9:17]) == (1,) and idx[17] == 4  # int32
    n_seq, n_doc = struct.unpack("<QQ", idx[18:34])
    sizes = np.frombuffer(idx, np.int32, n_seq, 34)
    pointers = np.frombuffer(idx, np.int64, n_seq, 34 + 4 * n_seq)
    doc_index = np.frombuffer(idx, np.int64, n_doc, 34 + 12 * n_seq)
    assert n_seq == counts["documents"] == len(texts)
    assert n_doc == n_seq + 1 and doc_index.tolist() == list(range(n_doc))
    data = np.fromfile(tmp_path / "corpus.bin", np.int32)
    docs = sorted(data[p // 4 : p // 4 + s].tolist() for p, s in zip(pointers, sizes))
    assert docs == sorted(reference_tokens(t) for t in texts)


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")  # megatron-core import noise
def test_megatron_core_reads_the_export_and_writes_the_same_bytes(shards, tmp_path: Path) -> None:
    """megatron-core's own IndexedDataset reads our files, and its builder writes the same bytes."""
    from megatron.core.datasets import indexed_dataset as indexed

    shard_dir, texts = shards
    export_megatron(str(shard_dir), str(tmp_path / "ours"))
    dataset = indexed.IndexedDataset(str(tmp_path / "ours"))
    documents = [dataset[i].tolist() for i in range(len(dataset))]
    assert sorted(documents) == sorted(reference_tokens(t) for t in texts)
    assert dataset.document_indices.tolist() == list(range(len(texts) + 1))
    builder = indexed.IndexedDatasetBuilder(str(tmp_path / "theirs.bin"), dtype=np.int32)
    for tokens in documents:
        builder.add_item(torch.tensor(tokens, dtype=torch.int32))
        builder.end_document()
    builder.finalize(str(tmp_path / "theirs.idx"))
    for suffix in (".bin", ".idx"):
        assert (tmp_path / f"ours{suffix}").read_bytes() == (tmp_path / f"theirs{suffix}").read_bytes()

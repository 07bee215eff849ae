"""Config of the classifiers: LLM labelling, training, and the pipeline's quality/domain stage.

``quality:`` in the pipeline config is ``QualityConfig``; its ``label`` and ``train`` sections give
the defaults of ``curate label`` / ``curate train-classifier`` (command-line options win).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from curation.config_base import Section


class LabelConfig(Section):
    """How documents are sampled and sent to the labelling LLM."""

    # FineWeb-Edu's additive 0-5 educational prompt (Llama-3-70B-Instruct, 450k documents).
    prompt: str = Field("fineweb_edu", description="prompt name from classifiers.prompts.PROMPTS")
    mode: Literal["logprob", "generate"] = Field(
        "logprob", description="logprob: label probabilities after the answer prefix, one forward pass (Ask-LLM); "
        "generate: parse a generated answer (servers without logprobs)"
    )
    backend: Literal["openai", "transformers"] = "openai"
    base_url: str = Field("http://127.0.0.1:8000/v1", description="OpenAI-compatible server (vLLM, SGLang, TGI...)")
    model: str | None = Field(None, description="served model name / HF id or path; None = server's first / SmolLM2")
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the API key, if any")
    samples: int = Field(1000, ge=1, description="documents to label (stratified sample)")
    seed: int = 0
    stratify_by: list[str] = Field(default_factory=lambda: ["source", "lang"])
    max_chars: int = Field(4000, ge=1, description="document characters sent to the LLM")
    max_tokens: int = Field(256, ge=1, description="generate mode: answer token limit (FineWeb-Edu justifies first)")
    temperature: float = Field(0.0, ge=0.0, description="0 = greedy, reproducible labels")
    concurrency: int = Field(8, ge=1, description="requests in flight against the server")
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(5, ge=0, description="retries on timeouts, connection errors, 429 and 5xx")
    backoff_s: float = Field(1.0, ge=0, description="first retry delay; doubles each retry (plus jitter)")
    batch_size: int = Field(8, ge=1, description="documents per forward/generate call of the transformers backend")
    cache: str | None = Field(None, description="append-only cache file (local); None = <labels>.cache.jsonl")


class FastTextParams(Section):
    # DCLM's quality filter: fastText supervised with word bigrams, otherwise fastText defaults. That includes
    # its 2M n-gram hash buckets (an 800 MB model.bin at dim 100, whatever the label count): the fastText build
    # used here reads memory it has not written (MALLOC_PERTURB_ changes the trained model), and only an
    # allocation that large comes fresh (zeroed) from the OS every time. Measured with 5k-100k buckets: NaN
    # losses and different models for one seed once the process's heap had been used (CI, 2026-12-01).
    lr: float = Field(0.1, gt=0)
    epoch: int = Field(5, ge=1)
    dim: int = Field(100, ge=1)
    word_ngrams: int = Field(2, ge=1)
    min_count: int = Field(1, ge=1)
    threads: int = Field(1, ge=1, description="1 keeps training byte-reproducible for a seed")


class EmbeddingParams(Section):
    # FineWeb-Edu: frozen embedding model + linear head, 20 epochs at lr 3e-4.
    encoder: str | None = Field(None, description="sentence-transformers model path/id; None = bundled MiniLM")
    epochs: int = Field(20, ge=1)
    lr: float = Field(3e-4, gt=0)
    batch_size: int = Field(64, ge=1)
    max_length: int = Field(256, ge=8, description="encoder tokens per document")


class TrainConfig(Section):
    """How a classifier is trained from a labels file."""

    kind: Literal["fasttext", "embedding"] = "fasttext"
    target: Literal["soft", "binary", "multiclass", "regression"] = Field(
        "soft",
        description="soft: P(score >= score_threshold) from the LLM's label probabilities (hard 0/1 for generated "
        "labels), as a weighted binary target; binary: the hard cut; multiclass: the label; regression: the score",
    )
    score_threshold: float | None = Field(None, description="None = the prompt's (FineWeb-Edu: 3 of 5)")
    val_fraction: float = Field(0.2, gt=0, lt=1, description="stratified held-out share")
    seed: int = 0
    fasttext: FastTextParams = Field(default_factory=FastTextParams)
    embedding: EmbeddingParams = Field(default_factory=EmbeddingParams)


class QualityConfig(Section):
    """The pipeline stage: score documents, tag ``quality_score``/``domain``, keep the best."""

    enabled: bool = False
    model: str | None = Field(None, description="quality classifier folder (train-classifier output)")
    domain_model: str | None = Field(None, description="domain classifier folder; sets the `domain` column")
    reference_model: str | None = Field(
        None, description="'referenced by Wikipedia' classifier folder (Llama 3); sets signals.reference_score"
    )
    threshold: float | None = Field(
        None, description="keep quality_score >= threshold; None = the model's (binary 0.5, FineWeb-Edu 3)"
    )
    top_percent: float | None = Field(
        None, gt=0, le=100, description="keep the top k% by score per group instead (DCLM: 10)"
    )
    group_by: list[str] = Field(default_factory=lambda: ["lang", "source"], description="groups of top_percent")
    batch_size: int = Field(512, ge=1, description="documents per model call")
    label: LabelConfig = Field(default_factory=LabelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)

    @model_validator(mode="after")
    def _needs_a_model(self) -> QualityConfig:
        if self.enabled and not (self.model or self.domain_model or self.reference_model):
            raise ValueError("quality.enabled needs quality.model, quality.domain_model or quality.reference_model")
        if self.top_percent is not None and not self.model:
            raise ValueError("quality.top_percent needs quality.model")
        return self

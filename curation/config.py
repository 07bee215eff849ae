"""The typed pipeline config: YAML in, validated model out, one clear error per bad key.

Each phase owns its section model in its own package; this module composes them, applies
``--set key.path=value`` overrides and saves the resolved config into the run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError

from classifiers.config import QualityConfig
from curation.config_base import Section
from curation.dedup.config import DedupConfig
from curation.filters.config import FiltersConfig
from curation.mix.config import MixConfig
from curation.pack.config import PackConfig


class ConfigError(ValueError):
    """A config problem, already phrased as one line for the user."""


class InputConfig(Section):
    paths: list[str] = Field(default_factory=list, description="files, folders or globs; local or fsspec URIs")
    format: Literal["auto", "warc", "wet", "jsonl", "parquet", "hf"] = "auto"
    text_field: str = "text"
    html_field: str | None = Field(None, description="JSONL/Parquet/HF column holding HTML to extract")
    id_field: str = "id"
    url_field: str = "url"
    date_field: str = "date"
    # 128 MiB of compressed WARC is ~600 MB of HTML in one task's memory: a Common Crawl file (~1 GB)
    # becomes ~8 tasks, enough parallelism without tiny tasks.
    split_bytes: int = Field(128 * 1024 * 1024, gt=0, description="split larger files into tasks of ~this size")
    max_record_bytes: int = Field(10 * 1024 * 1024, gt=0, description="skip (counted) larger WARC payloads")


class ExtractConfig(Section):
    enabled: bool = True
    backend: Literal["trafilatura", "resiliparse"] = "trafilatura"
    # FineWeb: trafilatura with favour_precision=True, no comments, no tables? (tables kept here:
    # Llama 3 keeps structured content such as code and math readable).
    favor_precision: bool = True
    include_comments: bool = False
    include_tables: bool = True
    keep_alt_text: bool = True  # Llama 3: math is often an image whose alt text holds the formula
    strip_markdown: bool = True  # Llama 3: markdown markers hurt models trained on web text
    timeout_s: float = Field(10.0, gt=0, description="per-document time limit")
    min_chars: int = Field(1, ge=0, description="shorter extractions are rejected as extract.empty")


class RuntimeConfig(Section):
    address: str | None = Field(None, description="Ray address; None = RAY_ADDRESS or an embedded local Ray")
    workers: int | None = Field(None, ge=1, description="concurrent tasks (default: CPUs of the cluster)")
    max_retries: int = Field(3, ge=0, description="Ray retries of tasks lost to a worker crash or node loss")
    progress: bool = True


class OutputConfig(Section):
    dir: str | None = None
    write_rejects: bool = True


class PipelineConfig(Section):
    seed: int = 0
    input: InputConfig = Field(default_factory=InputConfig)
    extract: ExtractConfig = Field(default_factory=ExtractConfig)
    filters: FiltersConfig = Field(default_factory=FiltersConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    mix: MixConfig = Field(default_factory=MixConfig)
    pack: PackConfig = Field(default_factory=PackConfig)
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply ``a.b.c=value`` to nested dict ``data``; the value is parsed as YAML (types kept)."""
    if "=" not in assignment:
        raise ConfigError(f"--set expects key.path=value, got {assignment!r}")
    key, raw = assignment.split("=", 1)
    parts = key.strip().split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {key}: {part!r} is not a section")
        node = child
    node[parts[-1]] = yaml.safe_load(raw) if raw.strip() else None


def format_error(err: ValidationError) -> str:
    """One line naming the first bad key, e.g. ``filters.gopher.min_words: Input should be ...``."""
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(root)"
    if first["type"] == "extra_forbidden":
        return f"unknown config key '{key}'"
    value = first.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    more = f" [+{err.error_count() - 1} more]" if err.error_count() > 1 else ""
    return f"config key '{key}': {first['msg']}{shown}{more}"


def parse_config(data: dict[str, Any], overrides: list[str] | None = None) -> PipelineConfig:
    data = dict(data or {})
    for assignment in overrides or []:
        apply_override(data, assignment)
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_error(err)) from None


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> PipelineConfig:
    """Load a YAML config file (or defaults when ``path`` is None) and apply overrides."""
    data: Any = {}
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except yaml.YAMLError as err:
            raise ConfigError(f"config file {path} is not valid YAML: {err}".replace("\n", " ")) from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path} must be a mapping of sections")
    return parse_config(data, overrides)


def dump_config(config: PipelineConfig) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)

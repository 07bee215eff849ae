"""The typed pipeline config: YAML in, validated model out, one clear error per bad key.

Each stage owns its section model in its own package and is found through the stage registry
(``curation.stages``); this module composes the sections, applies ``--set key.path=value`` overrides
and saves the resolved config into the run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, create_model, field_validator

from curation.config_base import ConfigError, Section, apply_override, format_error, read_config_file
from curation.filters.gates import GatesConfig
from curation.stages import STAGES

__all__ = ["ConfigError", "PipelineConfig", "apply_override", "dump_config", "load_config", "parse_config"]


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
    isolate: bool = Field(True, description="extract in a forked child: a crashing page is rejected as extract.crash")
    # A 10 MB page (input.max_record_bytes) takes trafilatura well under 1 GiB; 4 GiB only stops runaways.
    memory_limit_mb: int | None = Field(4096, gt=0, description="isolated child's memory above the worker's; None = no cap")
    gates: GatesConfig = Field(default_factory=GatesConfig)


class TaskMemoryConfig(Section):
    """Ray memory reservations (MiB) per task kind, so a node runs only as many big tasks as fit.

    Estimates to raise when tasks die of memory: a 128 MiB WARC split (``input.split_bytes``) is
    ~600 MB of HTML, twice that with parse trees; a document part or one shuffle partition (256 MiB
    of parts, ``runtime.shuffle_partitions``) a few hundred MB. ``null`` reserves nothing.
    """

    extract: int | None = Field(1800, ge=1, description="read + extract tasks")
    map: int | None = Field(600, ge=1, description="per-part tasks (filters, dedup maps, apply, tokenize)")
    reduce: int | None = Field(1200, ge=1, description="per-partition tasks of a shuffle")


class RuntimeConfig(Section):
    address: str | None = Field(None, description="Ray address; None = RAY_ADDRESS or an embedded local Ray")
    workers: int | None = Field(None, ge=1, description="concurrent tasks (default: CPUs of the cluster)")
    # datatrove's LocalPipelineExecutor runs its tasks in-process at 1 worker and on forked processes at more:
    # Ray's daemons and its workers' cold start cost a run of 2 workers on 2 cores ~6 CPU-seconds.
    executor: Literal["auto", "ray", "processes", "local"] = Field(
        "auto",
        description="'local': tasks one after another in this process; 'processes': on `workers` processes forked "
        "from this one (this machine only); 'ray': on Ray (embedded, or the cluster of runtime.address); 'auto': "
        "without a cluster address or a Ray already running here, 'local' for one worker and 'processes' for more, "
        "else 'ray'",
    )
    max_retries: int = Field(3, ge=0, description="retries of tasks lost to a worker crash or node loss")
    progress: bool = True
    shared_filesystem: bool = Field(
        False, description="local paths are the same files on every node (NFS...); else refused on >1 node"
    )
    shuffle_partitions: int | None = Field(
        None, ge=1, description="partitions of every shuffle by key (default: one per 256 MiB of input parts)"
    )
    task_memory_mb: TaskMemoryConfig = Field(default_factory=TaskMemoryConfig)


# Credentials in the config would be saved in DIR/config.yaml and shown in Ray's dashboard.
SECRET_WORDS = ("secret", "password", "token", "credential", "access_key", "private_key")


class StorageConfig(Section):
    options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="fsspec options per protocol, on the driver and every worker, e.g. s3: {endpoint_url: ...}",
    )

    @field_validator("options")
    @classmethod
    def _no_secrets(cls, options: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for protocol, kwargs in options.items():
            if not protocol.isalnum():
                raise ValueError(f"{protocol!r} is not a protocol name such as s3 or gcs")
            for key in _keys(kwargs):
                if key.lower() == "key" or any(word in key.lower() for word in SECRET_WORDS):
                    raise ValueError(f"{protocol}.{key} looks like a secret: give credentials to the nodes "
                                     "(environment, instance role), not the config (docs/cluster.md)")
        return options


def _keys(obj: Any) -> list[str]:
    """Every key of a nested mapping (client_kwargs and the like nest the real settings)."""
    if not isinstance(obj, dict):
        return []
    return [k for key, value in obj.items() for k in (str(key), *_keys(value))]


class OutputConfig(Section):
    dir: str | None = None
    write_rejects: bool = True


def _pipeline_config() -> type[Section]:
    """The run's config model: seed, input, extract, every registered stage's section in run order, runtime, output."""
    fields: dict[str, Any] = {
        "seed": (int, 0),
        "input": (InputConfig, Field(default_factory=InputConfig)),
        "extract": (ExtractConfig, Field(default_factory=ExtractConfig)),
    }
    for stage in STAGES:
        model = stage.section_model()
        fields[stage.section] = (model, Field(default_factory=model))
    fields["runtime"] = (RuntimeConfig, Field(default_factory=RuntimeConfig))
    fields["storage"] = (StorageConfig, Field(default_factory=StorageConfig))
    fields["output"] = (OutputConfig, Field(default_factory=OutputConfig))
    return create_model("PipelineConfig", __base__=Section, __module__=__name__, **fields)


PipelineConfig = _pipeline_config()


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
    data = read_config_file(path) if path is not None else {}
    return parse_config(data, overrides)


def dump_config(config: PipelineConfig) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)

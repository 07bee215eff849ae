"""Config building blocks every layer may use: the section base class and one-line config errors.

The full pipeline config (``curation.config``) composes the stages' sections; a stage's own command
reads just its section through ``load_section``, so no stage imports the composed config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class Section(BaseModel):
    """A config section. ``extra="forbid"`` turns a typo into an error naming the key."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


SectionT = TypeVar("SectionT", bound=BaseModel)


class ConfigError(ValueError):
    """A config problem, already phrased as one line for the user."""


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


def format_error(err: ValidationError, prefix: str = "") -> str:
    """One line naming the first bad key, e.g. ``filters.gopher.min_words: Input should be ...``."""
    first = err.errors()[0]
    key = ".".join([prefix] * bool(prefix) + [str(p) for p in first["loc"]]) or "(root)"
    if first["type"] == "extra_forbidden":
        return f"unknown config key '{key}'"
    value = first.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    more = f" [+{err.error_count() - 1} more]" if err.error_count() > 1 else ""
    return f"config key '{key}': {first['msg']}{shown}{more}"


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The YAML mapping in ``path``; a missing file or bad YAML is one ``ConfigError`` line."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}".replace("\n", " ")) from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must be a mapping of sections")
    return data


def load_section(path: str | Path | None, key: str, model: type[SectionT]) -> SectionT:
    """Section ``key`` of config file ``path`` (defaults when ``path`` is None or lacks it), validated."""
    data = read_config_file(path).get(key) if path is not None else None
    try:
        return model.model_validate(data or {})
    except ValidationError as err:
        raise ConfigError(format_error(err, key)) from None

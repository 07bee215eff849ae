"""Config of the data-mix sampler (the ``mix:`` section); presets live in ``configs/mixes/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, model_validator

from curation.config_base import Section

PRESET_DIR = Path(__file__).resolve().parents[2] / "configs" / "mixes"


def load_preset(name: str) -> dict[str, Any]:
    """The ``mix:`` mapping of a preset: a name in ``configs/mixes/`` or a YAML path."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else PRESET_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))
        raise ValueError(f"unknown mix preset {name!r} (known: {', '.join(known)})")
    data = yaml.safe_load(path.read_text()) or {}
    return dict(data.get("mix", data))


class MixConfig(Section):
    enabled: bool = Field(False, description="off: every document passes once (also when no document is labelled)")
    preset: str | None = Field(None, description="configs/mixes/<name>.yaml or a YAML path; explicit keys win")
    group_by: str = Field("domain", description="document column (or signals.<name>) whose values form the groups")
    groups: dict[str, list[str]] = Field(
        default_factory=dict,
        description="group -> selectors, first match wins: 'value' (of group_by), 'column=value', "
        "'column!=value' (null never matches) or '*'; a value not selected by any group is its own group",
    )
    targets: dict[str, float] = Field(default_factory=dict, description="group -> share of the tokens (normalised)")
    budget_tokens: int | None = Field(None, gt=0, description="tokens of the mix; None = the input's tokens")
    # Muennighoff et al. 2023 ("Scaling Data-Constrained Language Models"): up to ~4 epochs of repeated
    # data are worth almost as much as fresh data; more repetition decays quickly.
    max_epochs: float = Field(4.0, gt=0, description="cap on up-sampling: times a group's tokens may be used")
    max_epochs_per_group: dict[str, float] = Field(default_factory=dict)
    # Llama 3 down-samples over-represented categories (e.g. arts and entertainment) inside general web data.
    value_weights: dict[str, float] = Field(
        default_factory=dict, description="sampling weight per group_by value when a group is down-sampled"
    )
    quality_weighted: bool = Field(False, description="prefer high quality_score when sampling (annealing)")
    quality_column: str = "quality_score"
    quality_alpha: float = Field(1.0, gt=0, description="sampling weight = quality ** alpha")
    min_quality: float | None = Field(None, description="drop documents scored below (mix.low_quality)")

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset"):
            return {**load_preset(str(data["preset"])), **data}
        return data

    @model_validator(mode="after")
    def _check(self) -> MixConfig:
        if self.enabled and not self.targets:
            raise ValueError("mix.targets must name at least one group when the mix is enabled")
        if any(v < 0 for v in self.targets.values()) or (self.targets and sum(self.targets.values()) <= 0):
            raise ValueError("mix.targets must be non-negative shares with a positive sum")
        unknown = set(self.groups) - set(self.targets)
        if unknown:
            raise ValueError(f"mix.groups without a target: {', '.join(sorted(unknown))}")
        return self

    def shares(self) -> dict[str, float]:
        total = sum(self.targets.values())
        return {g: v / total for g, v in self.targets.items()}

    def epochs_cap(self, group: str) -> float:
        return self.max_epochs_per_group.get(group, self.max_epochs)

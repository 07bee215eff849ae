"""The stage registry: which packages plug into the pipeline, named, never imported, by the core.

Stages (``curation.filters`` ... ``curation.pack`` and the top-level ``classifiers`` package) depend
only on the core. The config and the pipeline read this table and import each stage's modules by
name, so no module below them imports a stage. A new document stage (one that takes and returns
document parts, like filters or dedup) is one row here plus its package; mix and pack, which end
the run, are called by name from the pipeline.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from curation.config_base import Section


@dataclass(frozen=True)
class Stage:
    """One stage: its config section, the section's model and the module that runs it."""

    section: str
    """Config key of the stage's section (also the name ``--set`` uses)."""
    config: str
    """``module:Model`` of the section model (a ``Section`` with an ``enabled`` flag)."""
    phases: str
    """Module with ``run(ctx, parts)``; document stages return the parts they keep."""
    documents: bool
    """True when the stage takes and returns document parts (published to ``docs/`` after the last one)."""
    commands: str | None = None
    """Module with ``register(app)`` adding the stage's ``curate`` commands, if any."""

    def section_model(self) -> type[Section]:
        module, name = self.config.split(":")
        return getattr(importlib.import_module(module), name)

    def phase_module(self) -> ModuleType:
        return importlib.import_module(self.phases)


STAGES: tuple[Stage, ...] = (
    Stage("filters", "curation.filters.config:FiltersConfig", "curation.filters.phases", documents=True),
    Stage("dedup", "curation.dedup.config:DedupConfig", "curation.dedup.phases", documents=True),
    Stage("quality", "classifiers.config:QualityConfig", "classifiers.phases", documents=True, commands="classifiers.cli"),
    Stage("mix", "curation.mix.config:MixConfig", "curation.mix.phases", documents=False),
    Stage("pack", "curation.pack.config:PackConfig", "curation.pack.phases", documents=False),
)
"""In run order."""


def stage(section: str) -> Stage:
    """The registered stage whose config section is ``section``."""
    return next(s for s in STAGES if s.section == section)

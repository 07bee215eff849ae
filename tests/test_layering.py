"""The package graph reads one way (docs/architecture.md): core < stages < pipeline/CLI.

Parses every module's imports (``ast``, lazy imports inside functions included) and fails on an
import from a lower layer into a higher one, on one stage package importing another, and on any
cycle between packages. Each failure names ``file:line``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from curation.stages import STAGES

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("curation", "classifiers")

CORE, STAGE, TOP = 0, 1, 2
LAYER_NAMES = {CORE: "core", STAGE: "stage", TOP: "pipeline/CLI"}
UNITS: dict[str, int] = {
    "curation": CORE,  # the package's __init__ (version)
    "curation.schema": CORE,
    "curation.config_base": CORE,
    "curation.stages": CORE,  # names stages, imports none
    "curation.io": CORE,
    "curation.runtime": CORE,
    "curation.common": CORE,
    "curation.extract": STAGE,
    "curation.filters": STAGE,
    "curation.dedup": STAGE,
    "curation.mix": STAGE,
    "curation.pack": STAGE,
    "curation.stats": STAGE,  # reads the other stages' outputs from the run folder, never their code
    "curation.testing": STAGE,  # dev tooling (the sample crawl): knows only the core, used by the CLI and tests
    "classifiers": STAGE,
    "curation.config": TOP,
    "curation.pipeline": TOP,
    "curation.cli": TOP,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    """The layered unit holding ``module``: a top-level module or a subpackage of ``curation``."""
    parts = module.split(".")
    return parts[0] if parts[0] != "curation" or len(parts) == 1 else ".".join(parts[:2])


def imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) of every import of ours in ``path``, relative imports resolved."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            names = [".".join([*base, node.module] if node.module else base)]
        else:
            continue
        found += [(name, node.lineno) for name in names if name.split(".")[0] in PACKAGES]
    return found


@cache
def edges() -> list[tuple[str, str, str]]:
    """(importing unit, imported unit, ``file:line``) for every import that crosses units."""
    out = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = unit_of(module_name(path))
            for name, line in imports(path):
                target = unit_of(name)
                if target != source:
                    out.append((source, target, f"{path.relative_to(ROOT)}:{line}"))
    return out


def test_every_unit_has_a_layer():
    units = {unit_of(module_name(p)) for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    assert units - UNITS.keys() == set(), "add the new package to UNITS here and to docs/architecture.md"


def test_no_import_from_a_lower_layer_into_a_higher_one():
    upward = [
        f"{where}: {source} ({LAYER_NAMES[UNITS[source]]}) imports {target} ({LAYER_NAMES[UNITS[target]]})"
        for source, target, where in edges()
        if source in UNITS and target in UNITS and UNITS[target] > UNITS[source]
    ]
    assert not upward, "\n".join(upward)


def test_stage_packages_know_only_the_core():
    across = [
        f"{where}: stage {source} imports stage {target}"
        for source, target, where in edges()
        if UNITS.get(source) == STAGE and UNITS.get(target) == STAGE
    ]
    assert not across, "\n".join(across)


def test_no_cycle_between_packages():
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target, _ in edges():
        graph[source].add(target)
    # a unit reaching itself again through the graph is a cycle
    cycles = []
    for start in sorted(graph):
        seen, stack = set(), list(graph[start])
        while stack:
            unit = stack.pop()
            if unit == start:
                cycles.append(start)
                break
            if unit not in seen:
                seen.add(unit)
                stack.extend(graph[unit])
    assert cycles == []


def test_curation_never_imports_classifiers():
    """The registry names ``classifiers``' modules; the config, pipeline and CLI import them by that name."""
    into_classifiers = [where for source, target, where in edges() if target == "classifiers"]
    assert not into_classifiers, "\n".join(into_classifiers)


def test_dev_tooling_is_used_only_by_the_cli():
    """The sample crawl serves ``curate sample-crawl``, tests and benchmarks; no pipeline code depends on it."""
    users = [f"{where}: {source}" for source, target, where in edges() if target == "curation.testing"]
    assert all(u.endswith(": curation.cli") for u in users), "\n".join(users)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.section)
def test_registered_modules_are_stage_modules(stage):
    """The registry must not smuggle an upward dependency into the core: it names stage modules only."""
    named = [stage.config.split(":")[0], stage.phases] + ([stage.commands] if stage.commands else [])
    assert all(UNITS.get(unit_of(name)) == STAGE for name in named), named
    assert stage.section_model().model_fields["enabled"] is not None
    assert callable(stage.phase_module().run)


def test_config_sections_follow_the_registry():
    from curation.config import PipelineConfig

    fields = list(PipelineConfig.model_fields)
    positions = [fields.index(stage.section) for stage in STAGES]
    assert positions == sorted(positions)  # run order
    assert [type(getattr(PipelineConfig(), s.section)) for s in STAGES] == [s.section_model() for s in STAGES]


def test_a_stage_command_reads_its_own_section(tmp_path):
    """What ``curate label --config`` uses instead of the composed config: the same one-line errors."""
    from classifiers.config import QualityConfig
    from curation.config_base import ConfigError, load_section

    path = tmp_path / "run.yaml"
    path.write_text("quality:\n  label:\n    samples: 3\nfilters: {}\n")
    assert load_section(path, "quality", QualityConfig).label.samples == 3
    assert load_section(None, "quality", QualityConfig) == QualityConfig()
    path.write_text("quality:\n  label:\n    samples: 0\n")
    with pytest.raises(ConfigError, match=r"config key 'quality\.label\.samples'"):
        load_section(path, "quality", QualityConfig)
    path.write_text("quality:\n  labl: {}\n")
    with pytest.raises(ConfigError, match=r"unknown config key 'quality\.labl'"):
        load_section(path, "quality", QualityConfig)

"""The per-phase funnel (documents in, out, rejected by reason) as rows and as a rich table."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def funnel_rows(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per phase: name, in, out, rejected total, top reasons, tasks, resumed, seconds."""
    rows = []
    for phase in manifest.get("phases", []):
        rejected = phase.get("rejected", {})
        rows.append(
            {
                "phase": phase["name"],
                "in": phase.get("in", 0),
                "out": phase.get("out", 0),
                "rejected": sum(rejected.values()),
                "reasons": dict(sorted(rejected.items(), key=lambda kv: (-kv[1], kv[0]))),
                "tasks": phase.get("tasks", 0),
                "resumed": phase.get("resumed_tasks", 0),
                "seconds": phase.get("wall_seconds", 0.0),
            }
        )
    return rows


def funnel_table(manifest: dict[str, Any]) -> Table:
    table = Table(title="Funnel", title_justify="left")
    for name, justify in [("phase", "left"), ("in", "right"), ("out", "right"), ("rejected", "right"),
                          ("top reasons", "left"), ("tasks", "right"), ("s", "right")]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in funnel_rows(manifest):
        reasons = ", ".join(f"{k} {v}" for k, v in list(row["reasons"].items())[:4])
        tasks = f"{row['tasks']}" + (f" ({row['resumed']} resumed)" if row["resumed"] else "")
        table.add_row(row["phase"], f"{row['in']:,}", f"{row['out']:,}", f"{row['rejected']:,}", reasons, tasks,
                      f"{row['seconds']:.1f}")
    return table


def print_funnel(manifest: dict[str, Any], console: Console | None = None) -> None:
    (console or Console()).print(funnel_table(manifest))

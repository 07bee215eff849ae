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
        counters = phase.get("counters", {})
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
                # Phases that know token counts report them as counters ``tokens_in``/``tokens_out``
                # (or ``tokens`` for what they wrote); None where a phase does not count tokens.
                "tokens_in": counters.get("tokens_in"),
                "tokens_out": counters.get("tokens_out", counters.get("tokens")),
                "counters": counters,
            }
        )
    return rows


def funnel_table(manifest: dict[str, Any]) -> Table:
    return funnel_rows_table(funnel_rows(manifest))


def moves_documents(row: dict[str, Any]) -> bool:
    """Whether a phase handled documents (shuffle and reduce steps of a phase do not)."""
    return bool(row["in"] or row["out"] or row["rejected"])


def funnel_rows_table(rows: list[dict[str, Any]]) -> Table:
    """The funnel table from ``funnel_rows`` (also as stored in ``stats/funnel.json``).

    Only phases that handled documents are shown; the manifest keeps every step.
    """
    rows = [row for row in rows if moves_documents(row)]
    token_keys = [k for k in ("tokens_in", "tokens_out") if any(row.get(k) is not None for row in rows)]
    table = Table(title="Funnel", title_justify="left", show_lines=True)
    columns = [("phase", "left"), ("in", "right"), ("out", "right"), ("rejected", "right"), ("top reasons", "left")]
    columns += [(key.replace("_", " "), "right") for key in token_keys]
    for name, justify in [*columns, ("tasks", "right"), ("s", "right")]:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        top = sorted(row["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))  # JSON round trips sort by key
        reasons = "\n".join(f"{k} {v:,}" for k, v in top[:4])
        if len(row["reasons"]) > 4:
            reasons += f"\n(+{len(row['reasons']) - 4} more)"
        tasks = f"{row['tasks']}" + (f" ({row['resumed']} resumed)" if row["resumed"] else "")
        tokens = [_count(row.get(key)) for key in token_keys]
        table.add_row(row["phase"], f"{row['in']:,}", f"{row['out']:,}", f"{row['rejected']:,}", reasons, *tokens,
                      tasks, f"{row['seconds']:.1f}")
    return table


def _count(value: int | float | None) -> str:
    return "" if value is None else f"{int(value):,}"


def report_console() -> Console:
    """A console for report tables: the terminal's width, but at least 120 columns when piped."""
    console = Console()
    return console if console.is_terminal else Console(width=max(console.width, 120))


def print_funnel(manifest: dict[str, Any], console: Console | None = None) -> None:
    (console or report_console()).print(funnel_table(manifest))

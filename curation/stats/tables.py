"""``curate stats`` tables: the funnel, documents, shares, shards and duplicate clusters."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from curation.stats.funnel import funnel_rows_table, report_console

TOP_GROUPS = 10


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right")
    return table


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{int(value):,}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def distribution_table(title: str, rows: dict[str, dict[str, Any] | None]) -> Table:
    table = _table(title, ["", "count", "mean", "min", "p10", "p50", "p90", "p99", "max"])
    for name, d in rows.items():
        if d and d.get("count"):
            table.add_row(name, *[_num(d.get(k)) for k in ("count", "mean", "min", "p10", "p50", "p90", "p99", "max")])
    return table


def shares_table(key: str, shares: dict[str, dict[str, float]]) -> Table:
    with_tokens = any("tokens" in entry for entry in shares.values())
    columns = [key, "documents", "docs %", "chars %"] + (["tokens", "tokens %"] if with_tokens else [])
    table = _table(f"By {key}" + (f" (top {TOP_GROUPS} of {len(shares)})" if len(shares) > TOP_GROUPS else ""), columns)
    for value, e in list(shares.items())[:TOP_GROUPS]:
        tokens = [_num(e.get("tokens")), _pct(e.get("tokens_share"))] if with_tokens else []
        table.add_row(value, _num(e["documents"]), _pct(e["documents_share"]), _pct(e["chars_share"]), *tokens)
    return table


def shards_table(shards: dict[str, Any]) -> Table:
    parts = {"total": shards["total"], **shards.get("splits", {})}
    table = _table("Shards", ["", "files", "rows", "seq_len", "tokens", "padding", "documents", "docs/row",
                              "split docs"])
    for name, s in parts.items():
        table.add_row(name, _num(s["files"]), _num(s["rows"]), _num(s["seq_len"]), _num(s["tokens"]),
                      _pct(s["padding_share"]), _num(s["documents"]), _num(s["documents_per_row"].get("mean")),
                      f"{_num(s['split_documents'])} ({_pct(s['split_share'])})")
    return table


def dedup_table(clusters: dict[str, Any]) -> Table:
    table = _table("Duplicate clusters", ["phase", "clusters", "documents", "duplicates", "p50 size", "max size"])
    for name, c in clusters.items():
        if "error" in c:
            table.add_row(name, c["error"], "", "", "", "")
        else:
            sizes = c["sizes"]
            table.add_row(name, _num(c["clusters"]), _num(c["documents"]), _num(c["duplicates"]),
                          _num(sizes.get("p50")), _num(sizes.get("max")))
    return table


def print_run_stats(stats: dict[str, Any], console: Console | None = None) -> None:
    """Render the statistics of ``compute_run_stats`` (or of a shard folder) as rich tables."""
    console = console or report_console()
    funnel = stats.get("funnel")
    if funnel and funnel["phases"]:
        console.print(funnel_rows_table(funnel["phases"]))
    docs = stats.get("documents")
    if docs:
        sources = f", from about {docs['distinct_urls']:,} URLs on {docs['distinct_hosts']:,} hosts"
        console.print(distribution_table(f"Documents ({docs['documents']:,}{sources})", {
            "chars": docs["chars"], "tokens (packed)": docs["tokens"], "quality_score": docs["quality_score"],
        }))
        for key, shares in docs["shares"].items():
            if set(shares) != {"(none)"}:
                console.print(shares_table(key, shares))
    if stats.get("dedup"):
        console.print(dedup_table(stats["dedup"]))
    if stats.get("shards"):
        console.print(shards_table(stats["shards"]))
    elif "shards" in stats:
        console.print("no shards in this run")

"""The mix report: target vs realised shares in real tokens, epochs, and which groups ran short."""

from __future__ import annotations

from typing import Any

from curation.mix.sampler import GroupPlan

SHORT_TOLERANCE = 0.005  # a group below its target by more than half a percentage point is reported short


def build_report(
    plans: dict[str, GroupPlan], realised: dict[str, dict[str, int]], budget: float, extra: dict[str, Any]
) -> dict[str, Any]:
    """Report from the plan and the realised per-group counts (tokens as they will be in the shards)."""
    total = sum(r["tokens"] for r in realised.values())
    groups = []
    for name, plan in plans.items():
        got = realised.get(name, {"docs": 0, "tokens": 0, "unique_docs": 0})
        share = got["tokens"] / total if total else 0.0
        row = {
            "group": name,
            "target_share": plan.target_share,
            "realised_share": share,
            "share_gap_pp": 100 * (share - plan.target_share),
            "target_tokens": round(plan.target_tokens),
            "realised_tokens": got["tokens"],
            "available_tokens": plan.available_tokens,
            "available_docs": plan.available_docs,
            "docs": got["docs"],
            "unique_docs": got["unique_docs"],
            "epochs": got["tokens"] / plan.available_tokens if plan.available_tokens else 0.0,
            "max_epochs": plan.max_epochs,
        }
        short_tokens = plan.target_tokens - got["tokens"]
        row["short"] = plan.target_share - share > SHORT_TOLERANCE and short_tokens > 0
        if row["short"]:
            row["short_tokens"] = round(short_tokens)
            row["message"] = (
                f"group '{name}' ran short by {round(short_tokens):,} tokens "
                f"({100 * (plan.target_share - share):.2f} pp of the mix): it has {plan.available_tokens:,} tokens "
                f"and may be used at most {plan.max_epochs:g} times"
            )
        groups.append(row)
    return {
        "budget_tokens": round(budget),
        "realised_tokens": total,
        "groups": groups,
        "short_groups": [g["group"] for g in groups if g["short"]],
        **extra,
    }


def format_report(report: dict[str, Any]) -> str:
    """A fixed-width table of the report, then one line per group that ran short."""
    if report.get("status") != "mixed":
        return f"mix: {report.get('status')}"
    header = (
        f"{'group':<20} {'target':>8} {'realised':>9} {'gap pp':>7} {'tokens':>14} {'available':>14}"
        f" {'epochs':>7} {'cap':>5}"
    )
    lines = [f"mix: budget {report['budget_tokens']:,} tokens, realised {report['realised_tokens']:,}", header]
    for g in report["groups"]:
        lines.append(
            f"{g['group']:<20} {100 * g['target_share']:>7.2f}% {100 * g['realised_share']:>8.2f}%"
            f" {g['share_gap_pp']:>+7.2f}"
            f" {g['realised_tokens']:>14,} {g['available_tokens']:>14,} {g['epochs']:>7.2f} {g['max_epochs']:>5g}"
            + ("  SHORT" if g["short"] else "")
        )
    lines += [g["message"] for g in report["groups"] if g["short"]]
    if report.get("unmapped_docs"):
        lines.append(f"{report['unmapped_docs']:,} documents ({report['unmapped_tokens']:,} tokens) in no target group")
    return "\n".join(lines)

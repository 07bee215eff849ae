"""Saving notebook figures as PNG into ``DIR/stats/figures`` (local folders or object stores alike)."""

from __future__ import annotations

import io
from typing import Any

from curation.io import fs


def figures_dir(run_dir: str) -> str:
    return fs.join(run_dir, "stats", "figures")


def save_figure(fig: Any, run_dir: str, name: str, dpi: int = 110) -> str:
    """Write a matplotlib figure as ``DIR/stats/figures/<name>.png``; return its path."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    path = fs.join(figures_dir(run_dir), f"{name}.png")
    fs.atomic_write_bytes(path, buf.getvalue())
    return path

"""The dedup phase API: ``run(ctx, parts) -> parts`` runs the enabled methods in order.

URL (keep newest) -> exact (normalised text) -> MinHash (global, clustered) -> lines (ccNet) ->
semantic (SemDeDup, optional). Each method declares map / shuffle-by-key / reduce phases that the
runtime (``RunContext.map``, ``reduce``, ``map_documents``) plans, runs and resumes; none of them
knows about Ray, task planning or work folders.
"""

from __future__ import annotations

from curation.dedup import keyed, lines, minhash
from curation.dedup.config import DedupConfig
from curation.runtime.context import RunContext


def run(ctx: RunContext, parts: list[str]) -> list[str]:
    """Deduplicate the document ``parts``; return the parts that remain (same names, same order)."""
    cfg: DedupConfig = ctx.config.dedup
    if not parts:
        return parts
    partitions = ctx.partitions(parts)
    if cfg.url.enabled:
        parts = keyed.run(ctx, parts, "url", "newest", partitions)
    if cfg.exact.enabled:
        parts = keyed.run(ctx, parts, "exact", cfg.exact.keep, partitions)
    if cfg.minhash.enabled:
        parts = minhash.run(ctx, parts, cfg.minhash)
    if cfg.lines.enabled:
        parts = lines.run(ctx, parts, cfg.lines, partitions)
    if cfg.semantic.enabled:
        from curation.dedup import semantic  # needs the torch extra

        parts = semantic.run(ctx, parts, cfg.semantic)
    return parts

"""Run statistics: ``stats/*.json`` of a run (funnel, distributions, shards, dedup clusters) and their tables."""

from curation.stats.run_stats import StatsError, compute_run_stats, load_run_stats, run_or_shard_stats, stats_command
from curation.stats.tables import print_run_stats

__all__ = [
    "StatsError",
    "compute_run_stats",
    "load_run_stats",
    "print_run_stats",
    "run_or_shard_stats",
    "stats_command",
]

"""Config of the dedup phases (placeholder until the dedup issue lands)."""

from curation.config_base import Section


class DedupConfig(Section):
    enabled: bool = False

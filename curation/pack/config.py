"""Config of tokenization and packing (placeholder until the pack issue lands)."""

from curation.config_base import Section


class PackConfig(Section):
    enabled: bool = False

"""Config of the data-mix sampler (placeholder until the mix issue lands)."""

from curation.config_base import Section


class MixConfig(Section):
    enabled: bool = False

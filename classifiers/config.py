"""Config of the classifier inference stage (placeholder until the classifier issue lands)."""

from curation.config_base import Section


class QualityConfig(Section):
    enabled: bool = False

"""Config of the filter phase (placeholder until the filters issue lands)."""

from curation.config_base import Section


class FiltersConfig(Section):
    enabled: bool = False

"""HTML -> text extraction (trafilatura by default, resiliparse as the fast option)."""

from curation.extract.html import Extractor

__all__ = ["Extractor"]

"""Llama-3-style pretraining-data curation: WARC in, packed document-masked shards out."""

__version__ = "0.1.0"

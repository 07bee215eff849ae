"""A seeded synthetic Common-Crawl-like crawl with ground truth (``curate sample-crawl``)."""

from curation.sample_crawl.crawl import truth_path, write_sample_crawl

__all__ = ["truth_path", "write_sample_crawl"]

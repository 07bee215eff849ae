"""Dev tooling, not a stage: a seeded synthetic Common-Crawl-like crawl with ground truth.

Used by ``curate sample-crawl`` (``make demo``), the tests and the benchmarks; no stage imports it
(``tests/test_layering.py``). Claims about quality are measured on real text in ``../shared/data``.
"""

from curation.testing.crawl import truth_path, write_sample_crawl

__all__ = ["truth_path", "write_sample_crawl"]

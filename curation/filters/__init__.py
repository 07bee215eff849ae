"""Filters: URL/NSFW blocklists, language ID, Gopher/C4/FineWeb heuristics, Llama 3 line n-gram and
token-distribution KL filters, dirty words and PII masking; signals first, decisions from thresholds.

Entry points: ``phases.run(ctx, parts)`` and ``explain.explain(run_dir, doc_id)``.
"""

"""Deduplication phases: URL, exact, global MinHash, ccNet lines, semantic (see ``phases.run``)."""

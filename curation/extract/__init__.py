"""HTML -> text extraction (trafilatura by default, resiliparse as the fast option): ``html.Extractor``,
behind the gates the pipeline hands it (``curation.filters.gates``) and crash isolation (``isolate``).
"""

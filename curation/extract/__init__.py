"""HTML -> text extraction (trafilatura by default, resiliparse as the fast option): ``html.Extractor``,
behind the gates (``gates``) and crash isolation (``isolate``).

Kept free of imports: ``curation.config`` reads ``gates.GatesConfig`` without loading the stage.
"""

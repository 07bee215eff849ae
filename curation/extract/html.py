"""The extraction stage: raw records (HTML or text) -> documents.

Defaults follow FineWeb (trafilatura, favour precision, no comments) plus the Llama 3 options:
image alt text kept, markdown markers stripped, code blocks left readable.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from curation.extract.markdown import drop_images, images_to_alt_text, strip_markdown
from curation.extract.timeout import ExtractionTimeout, call_with_timeout
from curation.schema import make_documents, split_by_reason


class Extractor:
    """Callable stage: raw records table -> (documents, rejects, counters).

    Raw records carry ``content`` (HTML or text) and ``content_kind`` ("html" | "text"); text
    records pass through unchanged.
    """

    def __init__(self, config: Any):
        self.config = config

    def extract_html(self, html: str, url: str | None) -> str | None:
        cfg = self.config
        if cfg.backend == "resiliparse":
            from resiliparse.extract.html2text import extract_plain_text

            return extract_plain_text(html, main_content=True, alt_texts=cfg.keep_alt_text, preserve_formatting=True)
        import trafilatura

        text = trafilatura.extract(
            html,
            url=url,
            favor_precision=cfg.favor_precision,
            include_comments=cfg.include_comments,
            include_tables=cfg.include_tables,
            include_images=cfg.keep_alt_text,
            deduplicate=False,
            output_format="txt",
        )
        if text is None:
            return None
        text = images_to_alt_text(text) if cfg.keep_alt_text else drop_images(text)
        return strip_markdown(text) if cfg.strip_markdown else text

    def __call__(self, raw: pa.Table) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
        texts: list[str | None] = []
        reasons: list[str | None] = []
        contents = raw.column("content").to_pylist()
        kinds = raw.column("content_kind").to_pylist()
        urls = raw.column("url").to_pylist()
        for content, kind, url in zip(contents, kinds, urls, strict=True):
            text, reason = content, None
            if kind == "html" and self.config.enabled:
                try:
                    text = call_with_timeout(lambda: self.extract_html(content, url), self.config.timeout_s)
                except ExtractionTimeout:
                    text, reason = None, "extract.timeout"
                except Exception:  # a parser bug on one page must not fail the task
                    text, reason = None, "extract.error"
            text = text.strip() if text else ""
            if reason is None and len(text) < max(self.config.min_chars, 1):
                reason = "extract.empty"
            texts.append(text)
            reasons.append(reason)
        docs = make_documents(
            {
                "id": raw.column("id"),
                "url": raw.column("url"),
                "text": pa.array(texts, type=pa.string()),
                "source": raw.column("source"),
                "date": raw.column("date"),
                "meta": raw.column("meta"),
            }
        )
        kept, rejected = split_by_reason(docs, reasons)
        return kept, rejected, {}

"""The extraction stage: raw records (HTML or text) -> documents.

Defaults follow FineWeb (trafilatura, favour precision, no comments) plus the Llama 3 options:
image alt text kept, markdown markers stripped, code blocks left readable.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from curation.extract import xpath_guards, xpath_python
from curation.extract.isolate import map_isolated
from curation.extract.markdown import drop_images, images_to_alt_text, strip_markdown
from curation.extract.timeout import ExtractionTimeout, call_with_timeout
from curation.runtime.worker_cache import cached
from curation.schema import make_documents, split_by_reason

Page = tuple[str, str | None, str | None, float | None]


def fast_element_lookup() -> Any:
    """An lxml class lookup that gives every element ``HtmlElement`` without calling Python.

    lxml.html's default lookup is a Python call for every element proxy (about 3,000 per page, as
    trafilatura's XPath pruning walks the tree), only to give form controls their own classes,
    which trafilatura never uses. With this lookup trafilatura extracts the same text (checked on
    real crawl pages, ``tests/test_extract.py``) about 6% faster.
    """
    from lxml import etree
    from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction

    return etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )


def _load_trafilatura() -> Any:
    import trafilatura.external
    import trafilatura.utils

    trafilatura.utils.HTML_PARSER.set_element_class_lookup(fast_element_lookup())
    xpath_python.install("trafilatura")  # its element filters as Python functions
    xpath_guards.install("trafilatura")  # the regex tests of the XPath expressions left
    # justext's stoplists, which trafilatura reads on its first fallback to justext (0.2 s): loaded here, a
    # worker's isolated extraction child and the workers forked from a driver that loaded them inherit them
    if trafilatura.external.JT_STOPLIST is None:
        trafilatura.external.jt_stoplist_init()
    return trafilatura


def trafilatura_module() -> Any:
    """The worker's trafilatura, its parser on ``fast_element_lookup``, its element filters evaluated
    in Python (``curation/extract/xpath_python.py``) and the regex tests of its other XPath
    expressions guarded (``curation/extract/xpath_guards.py``), configured once per process; same output."""
    return cached("extract.trafilatura", _load_trafilatura)


def trafilatura_options(cfg: Any) -> dict[str, Any]:
    """``trafilatura.extract`` keyword arguments for an ``ExtractConfig``."""
    return {
        "favor_precision": cfg.favor_precision,
        "include_comments": cfg.include_comments,
        "include_tables": cfg.include_tables,
        "include_images": cfg.keep_alt_text,
        "deduplicate": False,
        "output_format": "txt",
    }


class Extractor:
    """Callable stage: raw records table -> (documents, rejects, counters).

    Raw records carry ``content`` (HTML or text) and ``content_kind`` ("html" | "text"); text
    records pass through unchanged. HTML pages go through ``gates`` (the filters stage's
    ``curation.filters.gates.Gates``, settings only, given by the pipeline; None = no gates), then
    extraction, in a forked child when ``isolate`` is on (``curation/extract/isolate.py``).
    """

    def __init__(self, config: Any, gates: Any | None = None):
        self.config = config
        self.gate_settings = gates
        # the worker-cache key of the gates, made once rather than for every page (28 us each)
        settings = None if gates is None else [gates.cfg.model_dump(), gates.filters.model_dump()]
        self._gates_key = json.dumps(settings, sort_keys=True, default=str)

    def extract_html(self, html: str, url: str | None) -> str | None:
        cfg = self.config
        if cfg.backend == "resiliparse":
            from resiliparse.extract.html2text import extract_plain_text

            return extract_plain_text(html, main_content=True, alt_texts=cfg.keep_alt_text, preserve_formatting=True)
        text = trafilatura_module().extract(html, url=url, **trafilatura_options(cfg))
        if text is None:
            return None
        text = images_to_alt_text(text) if cfg.keep_alt_text else drop_images(text)
        return strip_markdown(text) if cfg.strip_markdown else text

    def gates(self) -> Any | None:
        """The worker's gates for these settings (lists and model loaded once per process)."""
        if self.gate_settings is None:
            return None
        gates = cached(("extract.gates", self._gates_key), self.gate_settings.loaded)
        return gates if gates.active else None

    def page(self, html: str, url: str | None, gates: Any | None) -> Page:
        """One HTML page: (text, reason, pre-check language, its score); never raises."""
        lang = score = None
        try:
            if gates is not None:
                reason = gates.check_url(url)
                if reason is None:
                    reason, lang, score = gates.check_language(html)
                if reason is not None:
                    return "", reason, lang, score
            text = call_with_timeout(lambda: self.extract_html(html, url), self.config.timeout_s)
            return (text or "").strip(), None, None, None
        except ExtractionTimeout:
            return "", "extract.timeout", None, None
        except Exception:  # a parser bug on one page must not fail the task
            return "", "extract.error", None, None

    def isolated_page(self, item: tuple[bytes | None, str | None]) -> Page:
        """``page`` of one (UTF-8 html, url) in the isolated child, with the child's own gates (cached there)."""
        html, url = item
        return self.page(_text(html), url, self.gates())

    def pages(self, htmls: list[bytes | None], urls: list[str | None]) -> list[Page]:
        """``page`` for each page, isolated from crashes when ``isolate`` is on.

        Pages come as UTF-8 bytes and are decoded where they are parsed: bytes cross the pipe to the
        isolated child without the text being encoded to be pickled and decoded again (0.4 CPU-s on
        the shared crawl).
        """
        gates = self.gates()
        if self.config.backend == "trafilatura":
            trafilatura_module()  # loaded before the fork: every child inherits it
        if not self.config.isolate:
            return [self.page(_text(h), u, gates) for h, u in zip(htmls, urls, strict=True)]
        stall_s = 2 * self.config.timeout_s + 1  # the child's own alarm fires first; this catches hangs in C
        memory_mb = self.config.memory_limit_mb
        results = map_isolated(self.isolated_page, list(zip(htmls, urls, strict=True)), stall_s, memory_mb)
        return [("", f"extract.{r}", None, None) if isinstance(r, str) else r for r in results]

    def __call__(self, raw: pa.Table) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
        content = raw.column("content")
        kinds = raw.column("content_kind").to_pylist()
        urls = raw.column("url").to_pylist()
        n = raw.num_rows
        html = [i for i in range(n) if kinds[i] == "html"] if self.config.enabled else []
        rest = sorted(set(range(n)) - set(html))  # text passes through
        texts: list[str] = [""] * n
        for i, text in zip(rest, content.take(pa.array(rest, pa.int64())).to_pylist(), strict=True):
            texts[i] = (text or "").strip()
        reasons: list[str | None] = [None] * n
        langs: list[str | None] = [None] * n
        scores: list[float | None] = [None] * n
        pages = (content if len(html) == n else content.take(pa.array(html, pa.int64()))).cast(pa.large_binary())
        results = self.pages(pages.to_pylist(), [urls[i] for i in html])
        for i, (text, reason, lang, score) in zip(html, results, strict=True):
            texts[i], reasons[i], langs[i], scores[i] = text, reason, lang, score
        for i in range(n):
            if reasons[i] is None and len(texts[i]) < max(self.config.min_chars, 1):
                reasons[i] = "extract.empty"
        docs = make_documents(
            {
                "id": raw.column("id"),
                "url": raw.column("url"),
                "text": pa.array(texts, type=pa.string()),
                "source": raw.column("source"),
                "date": raw.column("date"),
                "lang": pa.array(langs, type=pa.string()),
                "lang_score": pa.array(scores, type=pa.float32()),
                "meta": raw.column("meta"),
            }
        )
        kept, rejected = split_by_reason(docs, reasons)
        return kept, rejected, {}


def _text(html: bytes | None) -> str | None:
    return None if html is None else html.decode("utf-8")

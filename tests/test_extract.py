import pyarrow as pa

from curation.config import ExtractConfig
from curation.extract.html import Extractor
from curation.extract.markdown import strip_markdown

PAGE = """<html><head><title>t</title></head><body>
<nav><a href="/">Home</a> | <a href="/about">About us</a> | <a href="/shop">Shop</a></nav>
<div id="cookie">We use cookies to improve your experience. Accept all cookies.</div>
<article><h1>Measuring rivers</h1>
<p>Hydrologists measure the discharge of a river by combining the cross-section area with the mean velocity of the water.</p>
<p>The relation is <img src="q.png" alt="Q = A \\cdot v"> and it holds for steady flow in a uniform channel.</p>
<pre><code>def discharge(area, velocity):
    return area * velocity
</code></pre>
<p>Field teams repeat the measurement at several depths, because velocity changes from the bed to the surface.</p>
</article><footer>Copyright 2024 Example Rivers Ltd. All rights reserved.</footer></body></html>"""


def raw_table(contents, kinds):
    n = len(contents)
    return pa.table(
        {
            "id": [f"r{i}" for i in range(n)],
            "url": [f"https://example.org/{i}" for i in range(n)],
            "date": ["2024-06-01T00:00:00Z"] * n,
            "source": ["test"] * n,
            "meta": ["{}"] * n,
            "content": pa.array(contents, type=pa.large_string()),
            "content_kind": kinds,
        }
    )


def test_trafilatura_keeps_content_alt_text_and_code_drops_boilerplate():
    docs, rejects, _ = Extractor(ExtractConfig())(raw_table([PAGE], ["html"]))
    assert rejects.num_rows == 0
    text = docs.column("text")[0].as_py()
    assert "cross-section area" in text
    assert "Q = A \\cdot v" in text  # alt text of the formula image
    assert "![" not in text
    assert "return area * velocity" in text
    assert "About us" not in text and "cookies" not in text and "All rights reserved" not in text


def test_resiliparse_backend_extracts_main_content():
    docs, _, _ = Extractor(ExtractConfig(backend="resiliparse"))(raw_table([PAGE], ["html"]))
    text = docs.column("text")[0].as_py()
    assert "cross-section area" in text and "Q = A \\cdot v" in text


def test_empty_pages_are_rejected_and_text_passes_through():
    docs, rejects, _ = Extractor(ExtractConfig())(
        raw_table(["<html><head><script>var a = 1;</script></head><body></body></html>", "plain text already", "   "], ["html", "text", "text"])
    )
    assert docs.column("text").to_pylist() == ["plain text already"]
    assert rejects.column("reason").to_pylist() == ["extract.empty", "extract.empty"]
    assert rejects.column("id").to_pylist() == ["r0", "r2"]


def test_pathological_page_hits_the_time_limit():
    # ~2 s of trafilatura work (20,000 sibling blocks); a deep nest is cut at libxml2's depth limit and
    # parses in ~0.05 s, too close to a limit to time out reliably
    huge = "<html><body>" + "".join(f"<div class='c{i % 7}'><p>paragraph {i} with some words</p></div>"
                                    for i in range(20000)) + "</body></html>"
    docs, rejects, _ = Extractor(ExtractConfig(timeout_s=0.3))(raw_table([huge, PAGE], ["html", "html"]))
    assert rejects.column("reason").to_pylist() == ["extract.timeout"]
    assert docs.column("id").to_pylist() == ["r1"]


def test_strip_markdown():
    assert strip_markdown("## Title\nsome **bold** and [a link](http://x) text") == "Title\nsome bold and a link text"


def html_pages(paths: list[str], tmp_path, limit: int) -> list[tuple[str, str]]:
    """``(html, url)`` of up to ``limit`` HTML records of the WARC files, spread evenly."""
    from curation.config import parse_config
    from curation.io.planning import plan_input_tasks
    from curation.io.readers import read_task

    cfg = parse_config({"input": {"paths": paths}, "output": {"dir": str(tmp_path / "run")}}, [])
    pages = []
    for task in plan_input_tasks(cfg.input):
        raw, _, _ = read_task(task, cfg.input)
        for content, url, kind in zip(*(raw.column(c).to_pylist() for c in ("content", "url", "content_kind"))):
            if kind == "html":
                pages.append((content, url))
    return [pages[i * len(pages) // limit] for i in range(min(limit, len(pages)))]


def assert_fast_lookup_extracts_the_same(pages: list[tuple[str, str]]) -> None:
    """Our trafilatura (C-level element lookup) against trafilatura with lxml.html's own lookup."""
    from lxml.html import HtmlElement, HtmlElementClassLookup

    from curation.config import ExtractConfig
    from curation.extract.html import fast_element_lookup, trafilatura_module, trafilatura_options

    trafilatura = trafilatura_module()
    parser = trafilatura.utils.HTML_PARSER
    assert type(trafilatura.utils.load_html("<html><body><form><input></form></body></html>")[0][0][0]) is HtmlElement
    options = trafilatura_options(ExtractConfig())  # FineWeb settings, alt text kept
    ours = [trafilatura.extract(html, url=url, **options) for html, url in pages]
    parser.set_element_class_lookup(HtmlElementClassLookup())
    try:
        plain = [trafilatura.extract(html, url=url, **options) for html, url in pages]
    finally:
        parser.set_element_class_lookup(fast_element_lookup())
    assert sum(text is not None for text in ours) > len(pages) // 2
    assert ours == plain


def test_fast_element_lookup_extracts_the_same_text_on_generated_pages(tmp_path):
    from curation.testing import write_sample_crawl

    path = tmp_path / "crawl.warc.gz"
    write_sample_crawl(str(path), docs=200, seed=3)
    assert_fast_lookup_extracts_the_same(html_pages([str(path)], tmp_path, limit=200))


def test_fast_element_lookup_extracts_the_same_text_on_real_pages(shared_data, tmp_path):
    paths = sorted(str(p) for p in (shared_data / "crawl").glob("*.warc.gz"))
    assert_fast_lookup_extracts_the_same(html_pages(paths, tmp_path, limit=150))

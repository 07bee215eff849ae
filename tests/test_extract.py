import pyarrow as pa
import pytest

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


PLAIN_TRAFILATURA = """
import pickle, sys
import trafilatura
pages, options = pickle.load(open(sys.argv[1], "rb"))
pickle.dump([trafilatura.extract(html, url=url, **options) for html, url in pages], open(sys.argv[1], "wb"))
"""


def assert_ours_extracts_the_same(pages: list[tuple[str, str]], tmp_path) -> None:
    """Our trafilatura (C-level element lookup, element filters in Python, guarded regex XPath tests)
    against trafilatura as installed, run in a fresh interpreter."""
    import pickle
    import subprocess
    import sys

    from lxml.html import HtmlElement

    from curation.config import ExtractConfig
    from curation.extract.html import trafilatura_module, trafilatura_options
    from curation.extract.xpath_python import CompiledPath

    trafilatura = trafilatura_module()
    assert type(trafilatura.utils.load_html("<html><body><form><input></form></body></html>")[0][0][0]) is HtmlElement
    assert all(isinstance(x, CompiledPath) for x in trafilatura.xpaths.OVERALL_DISCARD_XPATH)  # in Python
    assert "rx:test0(@class)" in trafilatura.xpaths.TITLE_XPATHS[0].path  # left to libxml2, guarded
    options = trafilatura_options(ExtractConfig())  # FineWeb settings, alt text kept
    ours = [trafilatura.extract(html, url=url, **options) for html, url in pages]
    exchange = tmp_path / "pages.pkl"
    exchange.write_bytes(pickle.dumps((pages, options)))
    subprocess.run([sys.executable, "-c", PLAIN_TRAFILATURA, str(exchange)], check=True)
    plain = pickle.loads(exchange.read_bytes())
    assert sum(text is not None for text in ours) > len(pages) // 2
    assert ours == plain


def test_our_trafilatura_extracts_the_same_text_on_generated_pages(tmp_path):
    from curation.testing import write_sample_crawl

    path = tmp_path / "crawl.warc.gz"
    write_sample_crawl(str(path), docs=200, seed=3)
    assert_ours_extracts_the_same(html_pages([str(path)], tmp_path, limit=200), tmp_path)


def test_our_trafilatura_extracts_the_same_text_on_real_pages(shared_data, tmp_path):
    paths = sorted(str(p) for p in (shared_data / "crawl").glob("*.warc.gz"))
    assert_ours_extracts_the_same(html_pages(paths, tmp_path, limit=200), tmp_path)


def test_regex_test_guards_select_the_same_elements():
    from lxml.etree import XPath
    from lxml.html import fromstring

    from curation.extract.xpath_guards import REGEXP_NS, guarded_xpath, required_literals

    assert required_literals("^(?:[Cc]omment(?!ary)|comol)") == {"omment", "comol"}
    assert required_literals(r"(^|\s)bottom|bottom(\s|$)") == {"bottom"}
    assert required_literals("bread-?crumb|nav") in ({"bread", "nav"}, {"crumb", "nav"})
    assert required_literals("a*|nav") is None and required_literals("(?i)nav") is None
    attributes = ['', 'class="nav-main"', 'id="comment-3" class="post"', 'id="commentary"', 'class="Comment x"',
                  'class="share-bar" id="main"', 'id="main" class="share-bar"', 'style="hidden"', 'class=""']
    tree = fromstring("<html><body>" + "".join(f"<div {a}><p {a}>x</p></div>" for a in attributes) + "</body></html>")
    paths = {
        ".//*[re:test(@id|@class, 'share|^[Cc]omment(?!ary)')]": "contains(@class, 'share')",
        ".//div[re:test(@class, 'nav') or re:test(@id|@style, 'hidden')]": "contains(@style, 'hidden')",
        ".//*[re:test(@class, 'COMMENT', 'i')]": "((@class) and",  # case-insensitive: the attribute must exist
        ".//*[not(re:test(@class, 'a*'))]": "not(rx:test0(@class))",  # matches "": bound, not guarded
        ".//*[re:test(text(), 'x')]": None,  # not on attributes: left to lxml
    }
    for path, guard in paths.items():
        new = guarded_xpath(path)
        assert (new is None) == (guard is None)
        if new is None:
            continue
        assert guard in new.path and "re:test" not in new.path and guarded_xpath(new.path) is None
        selected = new(tree)
        assert selected == XPath(path, namespaces={"re": REGEXP_NS})(tree)
        assert selected or "not(" in path


def test_element_filters_in_python_select_what_libxml2_selects():
    from lxml.etree import XPath
    from lxml.html import fromstring

    from curation.extract.xpath_guards import REGEXP_NS
    from curation.extract.xpath_python import Unsupported, compile_path

    attributes = ['', 'class="nav-main"', 'id="comment-3" class="post"', 'class="reply-x" id="main"',
                  'id="main" class="reply-x"', 'role="Navigation"', 'style="display: none" id="hidden-1"',
                  'class=""', 'data-x="1" class="Comment x"', 'class="tpl-{x}"']
    body = "".join(f"<div {a}><p {a}>x</p><section {a}><h1>t</h1></section></div><!-- c --><span {a}>y</span>"
                   for a in attributes)
    tree = fromstring(f"<html><body><article>{body}</article><main>{body}</main></body></html>")
    paths = [
        ".//*[self::div or self::p][re:test(@id|@class, '^reply-|^[Cc]omment(?!ary)')]",  # first attribute
        ".//*[starts-with(@id|@class, 'reply-') or @class='post' or @data-x]",
        ".//*[contains(translate(@role, 'N', 'n'), 'nav') or re:test(@class, 'COMMENT', 'i')]",
        ".//*[self::section][not(.//h1) or contains(@style, 'display: none')]",
        ".//*[not(@class) and not(@id)]",
        ".//*[self::div or self::p or self::span][contains(@class, 'x') or @id='main'][1]",  # each parent's first
        "(.//*[self::div or self::span][@class='post' or @class=''])[1]|(.//main)[1]",  # firsts, document order
        ".//p[contains(@class|@id, 'comment')]|.//span|.//section[@id]",
        ".//*[contains(@class, '{x}') or re:test(@id, '^(?:main|hidden)')]",  # braces; a substring test first
    ]
    for path in paths:
        xpath = XPath(path, namespaces={"re": REGEXP_NS})
        compiled = compile_path(xpath)
        assert compiled(tree) == xpath(tree), path
        assert compiled(tree) or "not(" in path
        assert compiled(tree.getroottree()) == xpath(tree.getroottree())  # not an element: libxml2's
    for path in ["(.//p)[2]", ".//div/p", "//p", ".//*[local-name()='p']", ".//*[re:test(text(), 'x')]", ".//p[3]"]:
        with pytest.raises(Unsupported):
            compile_path(XPath(path, namespaces={"re": REGEXP_NS}))

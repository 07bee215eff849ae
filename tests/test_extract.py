import pyarrow as pa

from curation.config import ExtractConfig
from curation.extract import Extractor
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
    huge = "<html><body>" + "<div><p>x</p>" * 60000 + "</div>" * 60000 + "</body></html>"
    docs, rejects, _ = Extractor(ExtractConfig(timeout_s=0.05))(raw_table([huge, PAGE], ["html", "html"]))
    assert rejects.column("reason").to_pylist() == ["extract.timeout"]
    assert docs.column("id").to_pylist() == ["r1"]


def test_strip_markdown():
    assert strip_markdown("## Title\nsome **bold** and [a link](http://x) text") == "Title\nsome bold and a link text"

"""A page's blocks inside site furniture: cookie banner, navigation, sidebar, footer.

The furniture is what a good extractor drops; four layouts vary class names and structure so
no single rule removes it.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from html import escape

from curation.testing import lexicon as lx
from curation.testing.languages import LANGUAGES
from curation.testing.text import Block

LAYOUTS = [
    {"wrap": "main", "nav": "nav", "side": "aside", "cookie": "cookie-banner"},
    {"wrap": 'div id="content"', "nav": 'div class="menu"', "side": 'div class="sidebar"', "cookie": "gdpr"},
    {
        "wrap": 'section class="post"',
        "nav": 'nav class="top-nav"',
        "side": 'aside class="widgets"',
        "cookie": "consent",
    },
    {
        "wrap": 'div class="entry-content"',
        "nav": 'ul class="navbar"',
        "side": 'div id="secondary"',
        "cookie": "cc-window",
    },
]


@dataclass(frozen=True)
class Site:
    domain: str
    name: str
    lang: str
    layout: int


def tag_name(opening: str) -> str:
    return opening.split()[0]


def render_blocks(blocks: list[Block]) -> str:
    out = []
    for kind, value in blocks:
        if kind == "p":
            out.append(f"<p>{escape(str(value))}</p>")
        elif kind == "h2":
            out.append(f"<h2>{escape(str(value))}</h2>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{escape(str(v))}</li>" for v in value) + "</ul>")  # type: ignore[union-attr]
        elif kind == "pre":
            out.append(f"<pre><code>{escape(str(value))}</code></pre>")
        elif kind == "img":
            name = zlib.crc32(str(value).encode())
            out.append(f'<p><img src="/formulas/{name:08x}.png" alt="{escape(str(value))}"></p>')
        elif kind == "links":
            out.append(
                '<div class="links">'
                + "".join(f'<a href="{escape(h)}">{escape(t)}</a><br>' for h, t in value)
                + "</div>"
            )  # type: ignore[union-attr]
        elif kind == "lines":
            out.append("<div>" + "<br>\n".join(escape(v) for v in value) + "</div>")  # type: ignore[union-attr]
    return "\n".join(out)


def render_page(
    rng: random.Random, site: Site, url: str, title: str, blocks: list[Block], date: str, author: str
) -> str:
    """Full HTML of one page (``date`` as YYYY-MM-DD)."""
    layout = LAYOUTS[site.layout]
    if site.lang == "en":
        nav, cookie, rights = lx.NAV_ITEMS[: rng.randint(4, 8)], lx.COOKIE_TEXT, "All rights reserved."
        footer = lx.FOOTER_LINKS
    else:
        words = LANGUAGES[site.lang]["boilerplate"]
        nav, cookie, rights, footer = words[:3], words[5], words[6], words[3:5]
    side_title = rng.choice(lx.SIDEBAR_TITLES)
    side_links = "".join(
        f'<li><a href="/p/{rng.randint(1000, 99999)}">{escape(t)}</a></li>' for t in rng.sample(lx.NAV_ITEMS, 4)
    )
    nav_html = "".join(f'<li><a href="/{escape(n.lower().replace(" ", "-"))}/">{escape(n)}</a></li>' for n in nav)
    foot_html = "".join(f'<a href="/{escape(f.lower().replace(" ", "-"))}">{escape(f)}</a> ' for f in footer)
    return f"""<!DOCTYPE html>
<html lang="{site.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} | {escape(site.name)}</title>
<link rel="canonical" href="{escape(url)}">
<link rel="stylesheet" href="/static/style.{site.layout}.css">
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
</head>
<body>
<div class="{layout["cookie"]}" role="dialog"><p>{escape(cookie)}</p><button>OK</button><button>Settings</button></div>
<header><a class="logo" href="/">{escape(site.name)}</a>
<{layout["nav"]}><ul>{nav_html}</ul></{tag_name(layout["nav"])}></header>
<{layout["wrap"]}>
<article>
<h1>{escape(title)}</h1>
<p class="byline">{escape(author)} &middot; <time datetime="{date}">{date}</time></p>
{render_blocks(blocks)}
</article>
</{tag_name(layout["wrap"])}>
<{layout["side"]}><h3>{escape(side_title)}</h3><ul>{side_links}</ul><p>{escape(lx.NEWSLETTER)}</p></{tag_name(layout["side"])}>
<footer><p>&copy; {date[:4]} {escape(site.name)}. {escape(rights)}</p><p>{foot_html}</p></footer>
</body>
</html>
"""

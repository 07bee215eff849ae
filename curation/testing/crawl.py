"""A seeded synthetic Common-Crawl-like WARC with ground truth, for demos and tests.

The file holds a warcinfo record, then request/response pairs (gzip per record), with WARC-Dates
spread over three crawl months. Pages cover every case the pipeline must handle: clean articles
of varied quality, code and math, other languages, spam of several kinds, pages on domains of
the UT1 adult blocklist (with harmless text), exact and near duplicates, one URL crawled twice,
tiny/empty/non-HTML pages, a legacy encoding and malformed records (the last one cut short).
``<name>.truth.jsonl`` says, per response record, what it is and what a reader should make of it.
"""

from __future__ import annotations

import json
import random
import tarfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from importlib import resources
from urllib.parse import quote

from curation.io import fs
from curation.testing import english as en
from curation.testing import lexicon as lx
from curation.testing import text as tx
from curation.testing.html import LAYOUTS, Site, render_page
from curation.testing.languages import COUNTRY_TLDS, LANGUAGES
from curation.testing.warc_writer import gzip_member, http_response, record_id, sha1_digest, warc_record

CRAWLS = [  # (crawl name, first fetch day); fetches spread over the following two weeks
    ("CC-MAIN-2024-10", datetime(2024, 2, 20, tzinfo=timezone.utc)),
    ("CC-MAIN-2024-18", datetime(2024, 4, 12, tzinfo=timezone.utc)),
    ("CC-MAIN-2024-26", datetime(2024, 6, 12, tzinfo=timezone.utc)),
]
KIND_SHARES = {  # share of all pages; English articles fill the rest
    "code": 0.05,
    "math": 0.04,
    "foreign": 0.10,
    "keyword_spam": 0.03,
    "link_farm": 0.02,
    "product_list": 0.02,
    "repetitive": 0.02,
    "short_lines": 0.02,
    "adult": 0.015,
    "exact_dup": 0.04,
    "near_dup": 0.05,
    "recrawl": 0.01,
    "tiny": 0.01,
    "empty": 0.005,
    "non_html": 0.01,
    "legacy_encoding": 0.005,
}
MALFORMED = ["malformed_status", "malformed_header", "not_http"]  # plus the cut-short last record
QUALITY_WEIGHTS = {"high": 0.4, "medium": 0.45, "low": 0.15}
MIN_DOCS = 60
USER_AGENT = "CCBot/2.0 (https://commoncrawl.org/faq/)"


@dataclass
class PageSpec:
    """One response record to write, and its ground truth."""

    kind: str
    url: str
    when: datetime
    body: bytes
    lang: str | None = "en"
    content_type: str = "text/html; charset=UTF-8"
    status: str = "200 OK"
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    raw_block: bytes | None = None  # a response block that is not HTTP at all
    expect: str = "raw"
    truth: dict = field(default_factory=dict)
    source: PageSpec | None = None  # for duplicates and recrawls
    site: Site | None = None
    title: str = ""
    blocks: list = field(default_factory=list)
    author: str = ""
    rid: str = ""


class SampleCrawl:
    """Builds the page specs with one seeded RNG, then writes them in a fixed order."""

    def __init__(self, docs: int, seed: int):
        if docs < MIN_DOCS:
            raise ValueError(f"docs must be at least {MIN_DOCS} so that every kind of page is present")
        self.docs, self.seed = docs, seed
        self.rng = random.Random(seed)
        self.slugs: Counter[str] = Counter()
        self.sites = self.make_sites(max(12, docs // 25))
        self.foreign_sites = {lang: self.foreign_site(lang) for lang in LANGUAGES}

    # --- sites, urls, dates ---------------------------------------------------------------------

    def make_sites(self, n: int) -> list[Site]:
        rng, seen, sites = self.rng, set(), []
        while len(sites) < n:
            word, noun = rng.choice(lx.SITE_WORDS), rng.choice(lx.SITE_NOUNS)
            domain = f"{word}{noun}.{rng.choice(lx.TLDS)}"
            if domain not in seen:
                seen.add(domain)
                sites.append(Site(domain, f"{word.title()} {noun.title()}", "en", rng.randrange(len(LAYOUTS))))
        return sites

    def foreign_site(self, lang: str) -> Site:
        phrases = LANGUAGES[lang]["predicates"]
        word = self.rng.choice(
            [w.lower() for p in phrases for w in p.split() if w.isascii() and w.isalpha() and len(w) > 4]
        )
        return Site(f"{word}-{lang}-portal.{COUNTRY_TLDS[lang]}", word.title(), lang, self.rng.randrange(len(LAYOUTS)))

    def url(self, site: Site, section: str, title: str) -> str:
        slug = "-".join("".join(c for c in w.lower() if c.isalnum()) for w in title.split()[:6]).strip("-") or "page"
        self.slugs[slug] += 1
        suffix = f"-{self.slugs[slug]}" if self.slugs[slug] > 1 else ""
        return f"https://{site.domain}/{section}/{quote(slug)}{suffix}"  # URIs are ASCII in WARC headers

    def when(self, crawl: int | None = None) -> datetime:
        start = CRAWLS[self.rng.randrange(len(CRAWLS)) if crawl is None else crawl][1]
        return start + timedelta(seconds=self.rng.randrange(14 * 86400))

    def author(self) -> str:
        return f"{self.rng.choice(en.FIRST_NAMES)} {self.rng.choice(en.LAST_NAMES)}"

    # --- pages ----------------------------------------------------------------------------------

    def page(
        self, kind: str, site: Site, section: str, page: tx.Page, when: datetime | None = None, **truth
    ) -> PageSpec:
        title, blocks = page
        when = when or self.when()
        spec = PageSpec(
            kind,
            self.url(site, section, title),
            when,
            b"",
            lang=site.lang,
            site=site,
            title=title,
            blocks=blocks,
            author=self.author(),
            truth=truth,
        )
        self.render(spec)
        return spec

    def render(self, spec: PageSpec) -> None:
        assert spec.site is not None
        html = render_page(
            self.rng, spec.site, spec.url, spec.title, spec.blocks, spec.when.strftime("%Y-%m-%d"), spec.author
        )
        spec.body = html.encode("utf-8")

    def article(self, kind: str = "article", site: Site | None = None, when: datetime | None = None) -> PageSpec:
        topic = self.rng.choice(sorted(en.TOPICS))
        quality = self.rng.choices(list(QUALITY_WEIGHTS), weights=list(QUALITY_WEIGHTS.values()))[0]
        return self.page(
            kind,
            site or self.rng.choice(self.sites),
            topic,
            tx.english_article(self.rng, topic, quality),
            when,
            topic=topic,
            quality=quality,
        )

    def originals(self, counts: dict[str, int]) -> list[PageSpec]:
        rng, specs = self.rng, []
        langs = sorted(LANGUAGES)
        for i in range(counts["foreign"]):
            lang = langs[i % len(langs)]
            specs.append(self.page("foreign", self.foreign_sites[lang], "blog", tx.foreign_article(rng, lang)))
        for _ in range(counts["code"]):
            specs.append(self.page("code", rng.choice(self.sites), "dev", tx.code_article(rng), topic="programming"))
        for _ in range(counts["math"]):
            specs.append(self.page("math", rng.choice(self.sites), "math", tx.math_article(rng), topic="math"))
        spam = {
            "keyword_spam": lambda: tx.keyword_spam(rng),
            "link_farm": lambda: tx.link_farm(rng),
            "product_list": lambda: tx.product_list(rng),
            "short_lines": lambda: tx.short_lines(rng),
            "repetitive": lambda: tx.repetitive(rng, rng.choice(sorted(en.TOPICS))),
        }
        for kind, make in spam.items():
            specs += [
                self.page(kind, rng.choice(self.sites), "shop", make(), quality="spam") for _ in range(counts[kind])
            ]
        adult_sites = [
            Site(d, d.split(".")[0].title(), "en", rng.randrange(len(LAYOUTS))) for d in self.adult_domains()
        ]
        for i in range(counts["adult"]):
            spec = self.article("adult", site=adult_sites[i % len(adult_sites)])
            spec.truth["blocklist"] = "ut1_adult"
            specs.append(spec)
        for _ in range(counts["tiny"]):
            specs.append(self.page("tiny", rng.choice(self.sites), "misc", tx.tiny(rng)))
        specs += [self.special(kind) for kind in ["empty"] * counts["empty"] + ["non_html"] * counts["non_html"]]
        specs += [self.legacy_page() for _ in range(counts["legacy_encoding"])]
        specs += [self.malformed(kind) for kind in MALFORMED]
        specs += [self.article() for _ in range(counts["article"])]
        return specs

    def adult_domains(self, k: int = 5) -> list[str]:
        """A few plain registered domains from the head of datatrove's UT1 adult blocklist."""
        assets = resources.files("datatrove") / "assets"
        with tarfile.open(str(assets / "url_filterblacklistsv0_3_0.tar.gz"), "r|gz") as tar:  # stream: no full scan
            stream = tar.extractfile(next(m for m in tar if m.name == "domains"))
            assert stream is not None
            head = stream.read(1 << 16).decode("utf-8", "replace").splitlines()[:-1]
        banned = (assets / "banned_words.txt").read_text().split() + (
            assets / "banned_subwords.txt"
        ).read_text().split()
        plain = [d for d in head if d.count(".") == 1 and d.endswith((".com", ".net", ".org"))]
        clean = [d for d in plain if not any(w.strip("#") in d for w in banned)]
        return self.rng.sample(clean, min(k, len(clean)))

    def special(self, kind: str) -> PageSpec:
        site = self.rng.choice(self.sites)
        if kind == "empty":
            return PageSpec("empty", self.url(site, "misc", "empty"), self.when(), b"", lang=None, expect="read.empty")
        if self.rng.random() < 0.5:
            body = b"\x89PNG\r\n\x1a\n" + bytes(self.rng.randrange(256) for _ in range(600))
            ctype, name = "image/png", "image.png"
        else:
            body = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(
                self.rng.randrange(256) for _ in range(400)
            )
            ctype, name = "application/pdf", "document.pdf"
        return PageSpec(
            "non_html",
            self.url(site, "files", name),
            self.when(),
            body,
            lang=None,
            content_type=ctype,
            expect="read.non_html",
        )

    def legacy_page(self) -> PageSpec:
        """A windows-1252 page (declared in the HTTP header and the meta tag) with non-ASCII text."""
        spec = self.article("legacy_encoding")
        spec.blocks.insert(0, ("p", "Our café’s crème brûlée costs €4 – a naïve “classic” that still wins."))
        self.render(spec)
        spec.body = (
            spec.body.decode().replace('<meta charset="utf-8">', '<meta charset="windows-1252">').encode("cp1252")
        )
        spec.content_type = "text/html; charset=windows-1252"
        return spec

    def malformed(self, kind: str) -> PageSpec:
        spec = self.article(kind)
        if kind == "malformed_status":  # no numeric status code: not a usable HTTP response
            spec.status, spec.expect = "OK", "read.malformed"
        elif kind == "malformed_header":  # a non-numeric header value: lenient readers keep the page
            spec.extra_headers = [("Content-Length", "unknown"), ("Age", "soon")]
        else:
            spec.raw_block, spec.expect = b"this response was not recorded as HTTP\r\n", "read.non_html"
        return spec

    def exact_copy(self, source: PageSpec) -> PageSpec:
        base = source.url.split("?")[0]
        url = self.rng.choice(
            [
                f"{base}?utm_source=newsletter&utm_medium=email",
                base.replace("https://", "https://www."),
                base.replace("https://", "http://m."),
            ]
        )
        return PageSpec(
            "exact_dup", url, self.when(), source.body, lang=source.lang, source=source, truth={"edit_fraction": 0.0}
        )

    def near_copy(self, source: PageSpec) -> PageSpec:
        topic = source.truth["topic"]
        # 2-10%, skewed low: about half stay at Jaccard >= 0.8 over 5-word shingles (edits up to ~2.3%)
        fraction = 0.02 + 0.08 * self.rng.random() ** 5
        blocks, share = tx.edit_words(self.rng, source.blocks, fraction, topic)
        assert source.site is not None
        spec = PageSpec(
            "near_dup",
            self.url(source.site, "repost", source.title),
            self.when(),
            b"",
            site=source.site,
            title=source.title,
            blocks=blocks,
            author=source.author,
            source=source,
            truth={"edit_fraction": round(share, 4), "topic": topic},
        )
        self.render(spec)
        return spec

    def recrawl_pair(self) -> list[PageSpec]:
        """One URL fetched in the first and in the last crawl; the later fetch has an update."""
        old = self.article("recrawl_old", when=self.when(0))
        new = PageSpec(
            "recrawl_new",
            old.url,
            self.when(len(CRAWLS) - 1),
            b"",
            site=old.site,
            title=old.title,
            author=old.author,
            truth=dict(old.truth),
        )
        new.blocks = [
            *old.blocks,
            ("p", f"Update: this article was revised on {new.when:%B %d, %Y} with reader feedback."),
        ]
        self.render(new)
        old.source = new  # the old fetch is superseded by the new one
        return [old, new]

    # --- assembly -------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        counts = {kind: max(1, round(share * self.docs)) for kind, share in KIND_SHARES.items()}
        counts["foreign"] = max(counts["foreign"], len(LANGUAGES))
        counts["recrawl"] = max(1, counts["recrawl"] // 2)  # pairs
        fixed = len(MALFORMED) + 1 + counts["recrawl"]  # + the cut-short last record, + the second fetch
        counts["article"] = self.docs - sum(counts.values()) - fixed
        if counts["article"] < 1:
            raise ValueError(f"docs={self.docs} is too small for every kind of page")
        return counts

    def specs(self) -> list[PageSpec]:
        counts = self.counts()
        pages = self.originals(counts)
        self.rng.shuffle(pages)
        copyable = [p for p in pages if p.kind in ("article", "code", "math", "foreign")]
        editable = [p for p in pages if p.kind == "article" and p.truth.get("quality") in ("high", "medium")]
        copies = [self.exact_copy(s) for s in self.rng.sample(copyable, counts["exact_dup"])]
        copies += [self.near_copy(s) for s in self.rng.sample(editable, counts["near_dup"])]
        for copy in copies:  # a copy is crawled after its source
            assert copy.source is not None
            at = self.rng.randint(pages.index(copy.source) + 1, len(pages))
            pages.insert(at, copy)
        for _ in range(counts["recrawl"]):
            old, new = self.recrawl_pair()
            at = self.rng.randint(0, len(pages))
            pages[at:at] = [old]
            pages.insert(self.rng.randint(at + 1, len(pages)), new)
        last = self.article("truncated_last")
        last.expect = "read.truncated"
        return [*pages, last]


def http_headers(spec: PageSpec, rng: random.Random) -> list[tuple[str, str]]:
    stamp = format_datetime(spec.when, usegmt=True)
    headers = [("Date", stamp), ("Server", rng.choice(lx.SERVERS)), ("Content-Type", spec.content_type)]
    if rng.random() < 0.5:
        headers.append(("X-Crawler-Content-Encoding", "gzip"))
    headers += [
        ("Content-Length", str(len(spec.body))),
        ("Last-Modified", format_datetime(spec.when - timedelta(days=3), usegmt=True)),
        ("Cache-Control", "max-age=600"),
        ("Vary", "Accept-Encoding"),
        ("Connection", "close"),
    ]
    replaced = {k for k, _ in spec.extra_headers}
    return [(k, v) for k, v in headers if k not in replaced] + spec.extra_headers


def ip_of(url: str) -> str:
    h = zlib.crc32(url.split("/")[2].encode())
    return f"{(h >> 24) % 200 + 20}.{(h >> 16) & 255}.{(h >> 8) & 255}.{h & 255}"


def page_records(spec: PageSpec, index: int, seed: int, info_id: str, rng: random.Random, cut: bool) -> bytes:
    """The request and response members of one page (``cut``: declare more bytes than written)."""
    stamp = spec.when.strftime("%Y-%m-%dT%H:%M:%SZ")
    _, _, host, path = spec.url.split("/", 3)
    lang = spec.lang or "en"
    request = (
        f"GET /{path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n"
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
        f"Accept-Language: {lang}-{COUNTRY_TLDS.get(lang, 'us').upper()},{lang};q=0.9\r\n"
        "Accept-Encoding: br,gzip\r\nConnection: Keep-Alive\r\n\r\n"
    ).encode()
    req_id = record_id(seed, index, "request")
    common = [("WARC-Warcinfo-ID", info_id), ("WARC-IP-Address", ip_of(spec.url)), ("WARC-Target-URI", spec.url)]
    req = warc_record(
        "request", req_id, stamp, request, [("Content-Type", "application/http; msgtype=request"), *common]
    )
    block = spec.raw_block or http_response(spec.status, http_headers(spec, rng), spec.body)
    payload_type = spec.content_type.split(";")[0]
    headers = [
        ("Content-Type", "application/http; msgtype=response"),
        *common,
        ("WARC-Concurrent-To", req_id),
        ("WARC-Payload-Digest", sha1_digest(spec.body)),
        ("WARC-Identified-Payload-Type", payload_type),
    ]
    resp = warc_record(
        "response", spec.rid, stamp, block, headers, content_length=str(len(block) + 5000) if cut else None
    )
    if cut:
        resp = resp[:-4]  # the record ends early: the declared length runs past the end of the file
    return gzip_member(req) + gzip_member(resp)


def truth_line(spec: PageSpec) -> dict:
    line = {
        "id": spec.rid,
        "url": spec.url,
        "date": spec.when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kind": spec.kind,
        "lang": spec.lang,
        "expect": spec.expect,
        **spec.truth,
    }
    if spec.source is not None:
        line["superseded_by" if spec.kind == "recrawl_old" else "dup_of"] = spec.source.rid
    return line


def truth_path(path: str) -> str:
    return path.removesuffix(".warc.gz") + ".truth.jsonl"


def write_sample_crawl(path: str, docs: int = 2000, seed: int = 0) -> dict:
    """Write the crawl to ``path`` (.warc.gz) and its ground truth next to it; return a summary."""
    crawl = SampleCrawl(docs, seed)
    specs = crawl.specs()
    for index, spec in enumerate(specs):
        spec.rid = record_id(seed, index, "response")
    name = path.rstrip("/").rsplit("/", 1)[-1]
    info_id = record_id(seed, "warcinfo")
    info = (
        "software: curation-sample-crawl/1.0\r\nisPartOf: CC-MAIN-SYNTHETIC-2024\r\n"
        f"description: Synthetic Common-Crawl-like sample, seed {seed}, {docs} pages over {', '.join(c for c, _ in CRAWLS)}\r\n"
        "operator: curation project\r\nrobots: checked via crawler-commons (obeyed)\r\n"
        "format: WARC File Format 1.0\r\n"
        "conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.0/\r\n"
    ).encode()
    members = [
        gzip_member(
            warc_record(
                "warcinfo",
                info_id,
                CRAWLS[0][1].strftime("%Y-%m-%dT%H:%M:%SZ"),
                info,
                [("WARC-Filename", name), ("Content-Type", "application/warc-fields")],
            )
        )
    ]
    for index, spec in enumerate(specs):
        members.append(page_records(spec, index, seed, info_id, crawl.rng, cut=index == len(specs) - 1))
    data = b"".join(members)
    fs.atomic_write_bytes(path, data)
    truth = [truth_line(s) for s in specs]
    fs.atomic_write_bytes(truth_path(path), "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in truth).encode())
    return {
        "path": path,
        "truth": truth_path(path),
        "bytes": len(data),
        "records": 1 + 2 * len(specs),
        "pages": len(specs),
        "kinds": dict(sorted(Counter(t["kind"] for t in truth).items())),
        "languages": dict(sorted(Counter(t["lang"] or "none" for t in truth).items())),
    }

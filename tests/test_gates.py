"""Gates before extraction: pages the URL or language filter would drop are skipped unparsed, with
their reason; every other page is extracted exactly as without the gates."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import psutil
import pyarrow as pa

from curation.config import parse_config
from curation.extract.html import Extractor
from curation.filters.gates import Gates

ENGLISH = """<html><body><nav>Home | About</nav><article><h1>Measuring rivers</h1>
<p>Hydrologists measure the discharge of a river by combining the cross-section area with the mean velocity
of the water. Field teams repeat the measurement at several depths, because the velocity changes from the
bed to the surface, and they publish the results every spring for the people who live near the river.</p>
</article></body></html>"""
GERMAN = """<html><body><nav>Startseite | Impressum</nav><article><h1>Flüsse messen</h1>
<p>Hydrologen messen den Abfluss eines Flusses, indem sie die Querschnittsfläche mit der mittleren
Fließgeschwindigkeit des Wassers verbinden. Die Messung wird in mehreren Tiefen wiederholt, weil sich die
Geschwindigkeit vom Grund bis zur Oberfläche ändert, und die Ergebnisse werden jedes Frühjahr veröffentlicht.</p>
</article></body></html>"""


def raw_table(pages: list[tuple[str, str]]) -> pa.Table:
    n = len(pages)
    return pa.table({
        "id": [f"r{i}" for i in range(n)], "url": [url for url, _ in pages], "date": [None] * n,
        "source": ["test"] * n, "meta": ["{}"] * n,
        "content": pa.array([html for _, html in pages], type=pa.large_string()), "content_kind": ["html"] * n,
    })


def run(overrides: list[str], pages: list[tuple[str, str]], gated: bool = True):
    cfg = parse_config({"filters": {"url": {"extra_domains": ["blocked-rivers.com"]}}}, overrides)
    gates = Gates(cfg.extract.gates, cfg.filters, load=False) if gated else None
    return Extractor(cfg.extract, gates)(raw_table(pages))


PAGES = [
    ("https://rivers.org/en", ENGLISH),
    ("https://fluesse.de/de", GERMAN),
    ("https://blocked-rivers.com/en", ENGLISH),
    ("https://rivers.org/porn-videos", ENGLISH),  # a banned word in the URL
]


def test_gates_drop_with_their_reason_and_keep_the_rest_byte_identical(monkeypatch):
    parsed: list[str] = []
    real = Extractor.extract_html
    monkeypatch.setattr(Extractor, "extract_html", lambda self, html, url: parsed.append(url) or real(self, html, url))
    docs, rejects, _ = run(["extract.isolate=false"], PAGES)  # in-process, so that ``parsed`` sees the calls
    assert parsed == ["https://rivers.org/en"]  # gated pages are never parsed by the extractor
    assert dict(zip(rejects.column("id").to_pylist(), rejects.column("reason").to_pylist())) == {
        "r1": "gate.lid.language", "r2": "gate.url.domain", "r3": "gate.url.banned_words"}
    german = rejects.filter(pa.compute.equal(rejects.column("id"), "r1"))
    assert german.column("lang")[0].as_py() == "de" and german.column("lang_score")[0].as_py() >= 0.8
    ungated, none_rejected, _ = run([], PAGES, gated=False)
    assert none_rejected.num_rows == 0
    assert docs.equals(ungated.slice(0, 1))  # the kept page: same row, same extracted text


def test_each_gate_follows_its_filter_and_its_own_switch():
    def reasons(overrides):
        return sorted(run(overrides, PAGES)[1].column("reason").to_pylist())

    assert reasons(["extract.gates.lid=false"]) == ["gate.url.banned_words", "gate.url.domain"]
    assert reasons(["filters.lid.languages=[]"]) == ["gate.url.banned_words", "gate.url.domain"]  # keeps all
    assert reasons(["filters.lid.languages=[de]"]) == ["gate.lid.language", "gate.url.banned_words",
                                                      "gate.url.domain"]  # now the English page is gated
    assert reasons(["extract.gates.url=false"]) == ["gate.lid.language"]
    assert reasons(["filters.url.enabled=false", "filters.lid.enabled=false"]) == []
    assert reasons(["extract.gates.lid_min_score=1.0"]) == ["gate.url.banned_words", "gate.url.domain"]


def test_an_unsure_first_look_gets_a_second_look_at_the_whole_text():
    """A page whose first ``lid_chars`` place it outside the languages without confidence is judged on its
    whole plain text before it is extracted; an English page is not looked at twice."""
    from resiliparse.extract.html2text import extract_plain_text

    from curation.filters.lid import LanguageIdentifier

    lid = LanguageIdentifier()
    german = GERMAN.replace("<nav>Startseite | Impressum</nav>", "<nav>Menü | Kontakt | 2024</nav>")
    first = extract_plain_text(german)[:21]
    assert first == "Menü | Kontakt | 2024"
    lang, score = lid.predict([first])
    assert lang[0] != "en" and score[0] < 0.8  # unsure: alone it would not gate the page
    rejects = run(["extract.gates.lid_chars=21"], [("https://fluesse.de/de", german)])[1]
    assert rejects.column("reason").to_pylist() == ["gate.lid.language"]
    whole = lid.predict([extract_plain_text(german)])
    assert rejects.column("lang").to_pylist() == ["de"] and rejects.column("lang_score")[0].as_py() == whole[1][0]
    docs, rejects, _ = run(["extract.gates.lid_chars=21"], [("https://rivers.org/en", ENGLISH)])
    assert docs.num_rows == 1 and rejects.num_rows == 0


def slow_ut1_parse(log: Path) -> Callable[[BinaryIO], list[str]]:
    """A stand-in for UT1's parse that takes 0.5 s (others arrive while it parses), appends its pid to
    ``log``, and writes two unsorted domains (the cache holds them sorted) and one URL."""

    def parse(out: BinaryIO) -> list[str]:
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
        time.sleep(0.5)
        out.write(b"b.example\na.example\n")
        return ["blocked.example/page"]

    return parse


def test_workers_starting_together_parse_the_blocklist_once(monkeypatch, tmp_path):
    """The URL gate loads UT1 in every worker; on a cold machine one parses, the others wait and load."""

    from curation.filters import url

    log = tmp_path / "parsed"
    monkeypatch.setenv("CURATION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(url, "_parse_ut1", slow_ut1_parse(log))
    pids = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            domains, urls = url.ut1_lists()
            os._exit(0 if domains[:] == b"a.example\nb.example" and urls == {"blocked.example/page"} else 1)
        pids.append(pid)
    assert all(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0 for pid in pids)
    assert len(log.read_text().split()) == 1


def test_the_lists_parsed_aside_are_parsed_by_a_child_while_the_body_runs(tmp_path, monkeypatch):
    """``ut1_parsed_aside``: a forked child parses into the cache while this process goes on; this process
    then maps the child's lists and parses nothing itself; with the lists cached, no child is forked."""
    from curation.filters import url

    log = tmp_path / "parsed"
    monkeypatch.setenv("CURATION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(url, "_parse_ut1", slow_ut1_parse(log))
    started = time.monotonic()
    with url.ut1_parsed_aside():
        body_ran_after = time.monotonic() - started
    domains, urls = url.ut1_lists()
    assert body_ran_after < 0.4  # the body did not wait for the parse
    assert domains[:] == b"a.example\nb.example" and urls == {"blocked.example/page"}
    parsers = log.read_text().split()
    assert len(parsers) == 1 and int(parsers[0]) != os.getpid()
    others = {c.pid for c in psutil.Process().children()}  # e.g. an isolated extraction child of another test
    with url.ut1_parsed_aside():
        assert {c.pid for c in psutil.Process().children()} == others


def test_blocked_domains_are_searched_in_place_as_a_set_of_the_lines_would_answer(tmp_path, monkeypatch):
    """The UT1 domains stay one sorted block of text (memory-mapped from the cache); a binary search on
    it answers as a set of the parsed lines, for every kind of key: present, near misses, edges."""
    import random
    import tarfile

    from curation.filters import url

    monkeypatch.setenv("CURATION_CACHE", str(tmp_path / "cache"))
    domains, _ = url.ut1_lists()
    assert type(domains).__name__ == "mmap" and url.ut1_lists()[0][:] == domains[:]
    with tarfile.open(url.asset("url_filterblacklistsv0_3_0.tar.gz")) as tar:
        raw = tar.extractfile("domains").read()
    lines = {s for s in map(bytes.strip, raw.split(b"\n")) if s and s[:1] != b"#"}
    present = random.Random(0).sample(sorted(lines), 2000)
    keys = present + [k + b"x" for k in present] + [k[:-1] for k in present] + [min(lines), max(lines)]
    keys += [b"", b"0", b"zzzz.zz", b"\xff", b"a\nb"]
    assert [url.contains_line(domains, k) for k in keys] == [k in lines for k in keys]


def test_the_known_clean_digest_is_the_bundled_ut1_list_and_it_is_clean():
    """``sorted_lines`` skips the check for UT1's domains by their digest: the digest must be the bundled
    list's, and the list must pass the check it skips."""
    import io

    import xxhash

    from curation.filters import url

    buffer = io.BytesIO()
    url._parse_ut1(buffer)
    domains = buffer.getbuffer()
    assert xxhash.xxh3_128_hexdigest(domains) in url.CLEAN_AND_ASCENDING
    assert url.clean_and_ascending(domains)


def test_other_lists_are_cleaned_and_sorted_before_the_search():
    from curation.filters.url import contains_line, sorted_lines

    lines = sorted_lines(b"# comment\nb.example \n\na.example\r\nc.example\nb.example\n")
    assert lines == b"a.example\nb.example\nc.example"
    assert [contains_line(lines, k) for k in (b"a.example", b"b.example", b"c.example", b"# comment", b"")] == [
        True, True, True, False, False]
    assert sorted_lines(b"a\nb\nc\n") == b"a\nb\nc\n"  # already clean: kept as it is


def test_the_sortedness_check_reads_in_chunks_as_one_pass_over_the_lines_would():
    """``clean_and_ascending`` on chunk sizes that cut lines anywhere agrees with a split of the whole."""
    import random

    from curation.filters.url import clean_and_ascending

    def whole(data: bytes) -> bool:
        lines = data.split(b"\n")
        if lines and not lines[-1]:
            lines.pop()
        clean = all(c not in data for c in (b" ", b"\t", b"\r", b"#", b"\n\n")) and lines and lines[0]
        return bool(clean and all(a <= b for a, b in zip(lines, lines[1:])))

    rng = random.Random(0)
    pieces = [b"a", b"b", b"\x00", b"\xff", b".", b"ab", b"abcdefgh"]
    answers = set()
    for _ in range(3000):
        lines = [b"".join(rng.choices(pieces, k=rng.randint(0, 3))) for _ in range(rng.randint(0, 6))]
        if rng.random() < 0.6:
            lines.sort()
        data = b"\n".join(lines) + rng.choice([b"", b"\n"])
        if rng.random() < 0.1:
            data = data.replace(b"a", rng.choice([b" ", b"#", b"\r", b"\t"]), 1)
        for chunk in (1, 2, 3, 5, 64):
            assert clean_and_ascending(data, chunk) == whole(data), (data, chunk)
        answers.add(whole(data))
    assert answers == {True, False}

"""URL / NSFW signals: the UT1 blocklists and word lists shipped in the datatrove wheel.

Matching follows datatrove's URLFilter: registered domain and full host against the blocked
domains, the exact URL against the blocked URLs, URL words (split on non-alphanumerics) against
banned and soft-banned words, and banned sub-words inside the normalised URL. The 4.5 million
blocked domains stay one sorted block of text, memory-mapped from the on-disk cache and searched in
place (no per-domain parse: ~400 MB as Python strings, 36 MB and ~1.4 CPU-seconds as hashed ints),
so the workers of a machine share one copy.
"""

from __future__ import annotations

import fcntl
import gzip
import io
import itertools
import json
import mmap
import operator
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import BinaryIO

import xxhash

from curation.filters.config import UrlConfig
from curation.runtime.worker_cache import cached

_NON_ALNUM = re.compile(r"[^a-zA-Z0-9]+")  # datatrove url_filter.normalizer


def normalize(text: str) -> str:
    return _NON_ALNUM.sub("", text).lower()


def asset(name: str) -> str:
    return str(files("datatrove") / "assets" / name)


def _word_list(lines: Iterable[str]) -> set[str]:
    """datatrove parse_list with normalisation: '#' lines are comments."""
    return {w for w in (normalize(x) for x in lines if x.strip() and x[0] != "#") if w}


CLEAN_AND_ASCENDING = frozenset({"a7ae174ddf8f1f1833dbc6e99c7b1767"})
"""xxh3-128 digests of domain lists known to pass ``clean_and_ascending``: UT1's ``domains`` in the
datatrove wheel (checked when it was added; ``tests/test_gates.py`` checks it again). Hashing the
124 MB takes 5 ms, the check 0.3 CPU-seconds of a cold run."""


def sorted_lines(data: bytes | memoryview) -> bytes | memoryview:
    """``data``'s lines stripped, without comments or blanks, sorted (``contains_line`` searches them).

    UT1's domain list already is: its digest (or else one pass, ``clean_and_ascending``) says so
    and the bytes are kept as they are; any other list is cleaned and sorted.
    """
    if xxhash.xxh3_128_hexdigest(data) in CLEAN_AND_ASCENDING or clean_and_ascending(data):
        return data
    return b"\n".join(sorted({s for s in map(bytes.strip, bytes(data).split(b"\n")) if s and s[:1] != b"#"}))


def clean_and_ascending(data: bytes | memoryview, chunk: int = 1 << 22) -> bool:
    """Whether ``data`` is non-empty lines without spaces, tabs, CRs or comments, in ascending byte
    order (a final newline allowed).

    Reads ``chunk`` bytes at a time, so no copy of the whole list and no object per line are alive
    at once: for UT1's 4.5 million domains, fresh memory for them cost as much system time (page
    faults) as the check itself.
    """
    view = memoryview(data)
    previous: bytes | None = None  # the last line checked
    carry = b""  # the start of a line that continues in the next chunk
    for start in range(0, len(view), chunk):
        block = carry + bytes(view[start : start + chunk])
        if any(c in block for c in (b" ", b"\t", b"\r", b"#")):
            return False
        lines = block.split(b"\n")
        carry = lines.pop()
        if not lines:
            continue
        if previous is not None and previous > lines[0]:
            return False
        if not all(lines) or not all(map(operator.le, lines, itertools.islice(lines, 1, None))):
            return False
        previous = lines[-1]
    if carry:  # the last line, without a final newline
        if previous is not None and previous > carry:
            return False
        previous = carry
    return previous is not None


def contains_line(lines: bytes | mmap.mmap, key: bytes) -> bool:
    """Whether ``key`` is one of the newline-separated sorted ``lines``: a binary search on the bytes
    themselves (no parsed copy, ~23 comparisons for UT1's domains)."""
    lo, hi = 0, len(lines)
    while lo < hi:
        mid = (lo + hi) // 2
        start = lines.rfind(b"\n", 0, mid) + 1  # >= lo: lo is a line start
        end = lines.find(b"\n", start)
        end = len(lines) if end < 0 else end
        line = lines[start:end]
        if line == key:
            return True
        if line < key:
            lo = end + 1
        else:
            hi = start
    return False


def _parse_ut1(out: BinaryIO) -> list[str]:
    """Write UT1's adult domains into ``out`` as they are in the datatrove asset; return its URLs.

    The archive is streamed (tar read sequentially, 1 MiB at a time): the 124 MB of domains go
    to ``out`` without a decompressed copy of the archive in memory, whose fresh pages cost as much
    system time as the decompression.
    """
    urls = ""
    with gzip.open(asset("url_filterblacklistsv0_3_0.tar.gz"), "rb") as archive, tarfile.open(
        fileobj=archive, mode="r|"
    ) as tar:
        for member in tar:
            if member.name in ("domains", "urls"):
                src = tar.extractfile(member)
                if member.name == "urls":
                    urls = src.read().decode("utf-8", "replace")  # type: ignore[union-attr]
                    continue
                shutil.copyfileobj(src, out, 1 << 20)  # type: ignore[arg-type]
    return sorted({u.strip() for u in urls.split("\n") if u.strip() and u[0] != "#"})


def _load_ut1(folder: Path) -> tuple[bytes | mmap.mmap, set[str]] | None:
    """The cached lists; the domains memory-mapped, so the workers of a machine share one copy."""
    try:
        with (folder / "domains.txt").open("rb") as f:
            domains = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(f.fileno()).st_size else b""
        return domains, set((folder / "urls.txt").read_text().split("\n"))
    except OSError:
        return None


def _save_ut1(root: Path, folder: Path) -> None:
    """Parse UT1 into ``folder`` (domains as sorted lines), written aside and renamed into place."""
    tmp = Path(tempfile.mkdtemp(dir=root))
    try:
        with (tmp / "domains.txt").open("wb") as out:
            urls = _parse_ut1(out)
        (tmp / "urls.txt").write_text("\n".join(urls))
        found = _load_ut1(tmp)
        if found is None:
            raise OSError("UT1 lists written but not readable")
        lines = sorted_lines(found[0])
        if lines is not found[0]:  # not clean and ascending as it came: cleaned and sorted
            if isinstance(found[0], mmap.mmap):
                found[0].close()
            (tmp / "domains.txt").write_bytes(lines)
        os.replace(tmp, folder)  # atomic
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def _ut1_cache() -> tuple[Path, Path]:
    """(cache root, the folder of this asset's parsed lists)."""
    stat = os.stat(asset("url_filterblacklistsv0_3_0.tar.gz"))
    root = Path(os.environ.get("CURATION_CACHE") or Path.home() / ".cache" / "curation")
    return root, root / f"ut1-lines-{stat.st_size}-{int(stat.st_mtime)}"


@contextmanager
def ut1_parsed_aside() -> Iterator[None]:
    """Parse the UT1 lists into the on-disk cache in a forked child while the body runs, when they are
    not cached yet: the parse is decompression on one core (~0.4 s), which the body's own loads would
    otherwise wait for. ``ut1_lists`` after the body maps the child's result (or, had the child
    failed, parses them itself; its lock makes it wait for a child still parsing)."""
    if not hasattr(os, "fork") or _ut1_cache()[1].is_dir():  # renamed into place whole: there is parsed
        yield
        return
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's work shows in the cache it leaves
        code = 1
        try:
            ut1_lists()
            code = 0
        finally:
            os._exit(code)
    try:
        yield
    finally:
        os.waitpid(pid, 0)


def ut1_lists() -> tuple[bytes | mmap.mmap, set[str]]:
    """The UT1 lists (domains as sorted lines), parsed once per machine and cached on disk (parsing
    takes ~0.5 CPU-seconds, most of it decompression; loading maps the file).

    The cache (``$CURATION_CACHE`` or ``~/.cache/curation``) is keyed by the asset's size and mtime.
    Workers starting together on a cold machine take a file lock: one parses, the others wait and
    load its result. Where the cache cannot be written the lists are parsed in memory.
    """
    root, folder = _ut1_cache()
    found = _load_ut1(folder)
    if found is not None:
        return found
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = open(root / f"{folder.name}.lock", "a")  # noqa: SIM115 - held until the lists exist
    except OSError:
        lock = None
    if lock is not None:
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            found = _load_ut1(folder)  # another worker may have parsed it while this one waited
            if found is None:
                _save_ut1(root, folder)
                found = _load_ut1(folder)
        if found is not None:
            return found
    buffer = io.BytesIO()  # the cache cannot be written: parsed in memory
    urls = _parse_ut1(buffer)
    return bytes(sorted_lines(buffer.getbuffer())), set(urls)


class UrlBlocklist:
    def __init__(self, cfg: UrlConfig):
        from tldextract import TLDExtract

        self._extract = TLDExtract(suffix_list_urls=())  # the bundled public-suffix snapshot: offline
        self._ut1: bytes | mmap.mmap = b""
        self.urls = {u.strip() for u in cfg.extra_urls}
        self.banned_words = _word_list(cfg.extra_banned_words)
        self.soft_banned_words = _word_list(cfg.extra_soft_banned_words)
        subwords = _word_list(cfg.extra_banned_subwords)
        if cfg.use_integrated_lists:
            self._ut1, urls = ut1_lists()
            self.urls |= urls
            for name, target in (
                ("banned_words.txt", self.banned_words),
                ("soft_banned_words.txt", self.soft_banned_words),
                ("banned_subwords.txt", subwords),
            ):
                with open(asset(name)) as f:
                    target |= _word_list(f)
        self._extra_domains = {d.strip() for d in cfg.extra_domains}
        self._subwords = self._automaton(subwords)

    @staticmethod
    def _automaton(words: set[str]):
        import ahocorasick

        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for word in sorted(words):
            automaton.add_word(word, len(automaton))
        if len(automaton):
            automaton.make_automaton()
        return automaton

    def _blocked_domain(self, domain: str) -> bool:
        return bool(domain) and (domain in self._extra_domains or contains_line(self._ut1, domain.encode()))

    def signals(self, url: str | None) -> tuple[int, int, int, int, int, int]:
        """(domain, subdomain, url, banned words, soft-banned words, banned sub-words) for one URL."""
        if not url:
            return 0, 0, 0, 0, 0, 0
        info = self._extract(url)
        url_words = set(_NON_ALNUM.split(url))
        subwords = sum(1 for _ in self._subwords.iter(normalize(url))) if len(self._subwords) else 0
        return (
            int(self._blocked_domain(info.top_domain_under_public_suffix)),
            int(self._blocked_domain(info.fqdn)),
            int(url in self.urls),
            len(url_words & self.banned_words),
            len(url_words & self.soft_banned_words),
            subwords,
        )


def url_blocklist(cfg: UrlConfig) -> UrlBlocklist:
    """The worker's blocklist for these settings (loaded once per process)."""
    return cached(("filters.url", json.dumps(cfg.model_dump(), sort_keys=True)), lambda: UrlBlocklist(cfg))

"""URL / NSFW signals: the UT1 blocklists and word lists shipped in the datatrove wheel.

Matching follows datatrove's URLFilter: registered domain and full host against the blocked
domains, the exact URL against the blocked URLs, URL words (split on non-alphanumerics) against
banned and soft-banned words, and banned sub-words inside the normalised URL. The 4.5 million
blocked domains are kept as a sorted array of 64-bit hashes (36 MB per worker instead of ~400 MB
of Python strings), loaded once per worker.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

import numpy as np
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


def _hash(text: str) -> int:
    return xxhash.xxh3_64_intdigest(text.encode())


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values. ``np.unique`` without ``return_*`` takes a hash-table path in numpy 2.4
    that is ~100x slower than a sort on millions of 64-bit values (9 s vs 0.1 s for the UT1 domains)."""
    out = np.sort(values)
    return out[np.concatenate(([True], out[1:] != out[:-1]))] if len(out) else out


def _parse_ut1() -> tuple[np.ndarray, list[str]]:
    """The UT1 adult domains (sorted unique 64-bit hashes) and URLs from the datatrove asset."""
    with tarfile.open(asset("url_filterblacklistsv0_3_0.tar.gz")) as tar:
        lines = tar.extractfile("domains").read().split(b"\n")  # type: ignore[union-attr]
        hashes = [xxhash.xxh3_64_intdigest(line) for line in map(bytes.strip, lines) if line and line[:1] != b"#"]
        urls = tar.extractfile("urls").read().decode("utf-8", "replace")  # type: ignore[union-attr]
    domains = sorted_unique(np.array(hashes, dtype=np.uint64))
    return domains, sorted({u.strip() for u in urls.split("\n") if u.strip() and u[0] != "#"})


def _load_ut1(folder: Path) -> tuple[np.ndarray, set[str]] | None:
    try:
        return np.load(folder / "domains.npy"), set((folder / "urls.txt").read_text().split("\n"))
    except OSError:
        return None


def _save_ut1(root: Path, folder: Path, domains: np.ndarray, urls: list[str]) -> None:
    tmp = Path(tempfile.mkdtemp(dir=root))
    try:
        np.save(tmp / "domains.npy", domains)
        (tmp / "urls.txt").write_text("\n".join(urls))
        os.replace(tmp, folder)  # atomic
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def ut1_lists() -> tuple[np.ndarray, set[str]]:
    """The UT1 lists, parsed once per machine and cached on disk (parsing takes ~1.5 CPU-seconds;
    loading, ~0.1).

    The cache (``$CURATION_CACHE`` or ``~/.cache/curation``) is keyed by the asset's size and mtime.
    Workers starting together on a cold machine take a file lock: one parses, the others wait and
    load its result. Where the cache cannot be written the lists are parsed in memory.
    """
    stat = os.stat(asset("url_filterblacklistsv0_3_0.tar.gz"))
    root = Path(os.environ.get("CURATION_CACHE") or Path.home() / ".cache" / "curation")
    folder = root / f"ut1-{stat.st_size}-{int(stat.st_mtime)}"
    found = _load_ut1(folder)
    if found is not None:
        return found
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = open(root / f"{folder.name}.lock", "a")  # noqa: SIM115 - held until the lists exist
    except OSError:
        domains, urls = _parse_ut1()
        return domains, set(urls)
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _load_ut1(folder)  # another worker may have parsed it while this one waited
        if found is not None:
            return found
        domains, urls = _parse_ut1()
        _save_ut1(root, folder, domains, urls)
    return domains, set(urls)


class UrlBlocklist:
    def __init__(self, cfg: UrlConfig):
        from tldextract import TLDExtract

        self._extract = TLDExtract(suffix_list_urls=())  # the bundled public-suffix snapshot: offline
        integrated = np.zeros(0, dtype=np.uint64)
        self.urls = {u.strip() for u in cfg.extra_urls}
        self.banned_words = _word_list(cfg.extra_banned_words)
        self.soft_banned_words = _word_list(cfg.extra_soft_banned_words)
        subwords = _word_list(cfg.extra_banned_subwords)
        if cfg.use_integrated_lists:
            integrated, urls = ut1_lists()
            self.urls |= urls
            for name, target in (
                ("banned_words.txt", self.banned_words),
                ("soft_banned_words.txt", self.soft_banned_words),
                ("banned_subwords.txt", subwords),
            ):
                with open(asset(name)) as f:
                    target |= _word_list(f)
        extra = np.array([_hash(d.strip()) for d in cfg.extra_domains], dtype=np.uint64)
        self.domains = sorted_unique(np.concatenate([integrated, extra])) if len(extra) else integrated
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
        if not domain:
            return False
        key = np.uint64(_hash(domain))
        i = np.searchsorted(self.domains, key)
        return bool(i < len(self.domains) and self.domains[i] == key)

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

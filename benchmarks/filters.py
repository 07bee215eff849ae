"""Filter phase throughput against datatrove's equivalent filters in sequence, same documents, same run.

Ours: ``curation.filters.phases.run`` (URL, language ID, Gopher repetition and quality, C4 lines and
rules, FineWeb, Llama 3 line n-grams, dirty words, KL reference and divergence, PII, decisions,
parquet in and out), in-process on one core. Anchor: datatrove's URLFilter -> LanguageFilter(en,
0.65) -> GopherRepetition -> GopherQuality -> C4Quality (FineWeb settings) -> FineWebQuality ->
PIIFormatter, each document stopping at its first failure. Both load their models and lists on a
warm-up batch first (different documents), so the figures are steady-state throughput.
Agreement: kept/dropped per document, ignoring drops by filters datatrove does not have
(dirty words, KL, text emptied by line removal).

    python benchmarks/filters.py [--small] [--docs N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from common import SHARED_DATA, save, timer  # noqa: E402
from filters_textgen import documents  # noqa: E402

from curation.config import parse_config  # noqa: E402
from curation.filters.lid import default_model_path  # noqa: E402
from curation.filters.phases import run  # noqa: E402
from curation.io import fs  # noqa: E402
from curation.runtime import executor  # noqa: E402
from curation.runtime.context import RunContext  # noqa: E402
from curation.schema import make_documents  # noqa: E402

NOT_IN_DATATROVE = ("dirty_words.", "kl.", "filters.empty_text")


def corpus(n_generated: int, use_shared: bool) -> tuple[list[str], list[str]]:
    texts = documents(n_generated, seed=11)
    if use_shared and (SHARED_DATA / "text").is_dir():
        for path in sorted((SHARED_DATA / "text").glob("*.jsonl")):
            texts += [json.loads(line)["text"] for line in path.open()]
    urls = [f"https://www.site{i % 97}.example.com/articles/{i}" for i in range(len(texts))]
    for i in range(0, len(urls), 50):  # a few blocklisted domains and banned URL words
        urls[i] = f"https://www.pornhub.com/view/{i}" if i % 100 == 0 else f"https://example.com/xxx-{i}"
    return texts, urls


def datatrove_filters():
    """datatrove's filters equivalent to our filter phase, in order, and its PII formatter.

    Shared with ``end_to_end.py``. Offline: the URL filter uses tldextract's bundled suffix list and
    the language filter our installed lid.176 (datatrove would download it). datatrove checks for the
    "fasttext-numpy2-wheel" distribution; "fasttext-numpy2" provides the same module. The patches are
    module attributes, so forked datatrove workers inherit them.
    """
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
        URLFilter,
    )
    from datatrove.pipeline.formatters import PIIFormatter
    from datatrove.utils import lid
    from tldextract import TLDExtract

    lid.check_required_dependencies = lambda *args, **kwargs: None
    lid.cached_asset_path_or_download = lambda *args, **kwargs: default_model_path()
    LanguageFilter._requires_dependencies = ["fasteners"]
    url = URLFilter()
    url.tldextractor = TLDExtract(suffix_list_urls=())
    filters = [url, LanguageFilter(languages=["en"], language_threshold=0.65), GopherRepetitionFilter(),
               GopherQualityFilter(), C4QualityFilter(filter_no_terminal_punct=False), FineWebQualityFilter()]
    return filters, PIIFormatter()


def run_datatrove(texts: list[str], urls: list[str], filters, pii) -> list[bool]:
    from datatrove.data import Document

    kept = []
    for i, (text, url) in enumerate(zip(texts, urls)):
        doc = Document(text=text, id=str(i), metadata={"url": url})
        ok = all(f.filter(doc) is True for f in filters)
        if ok:
            doc.text = pii.format(doc.text)
        kept.append(ok)
    return kept


def run_filters(texts: list[str], urls: list[str], work: Path, parts: int = 4) -> tuple[dict[str, str | None], RunContext]:
    """Our whole filter phase, in-process, on documents ``"0"``, ``"1"``...: the reject reason of each (None: kept)."""
    ctx = RunContext(parse_config({"runtime": {"progress": False}}), str(work / "run"))
    paths = []
    for k in range(parts):
        ids = list(range(k, len(texts), parts))
        table = make_documents({"id": [str(i) for i in ids], "text": [texts[i] for i in ids],
                                "url": [urls[i] for i in ids]})
        path = str(work / "in" / f"part-{k:05d}.parquet")
        fs.write_parquet(table, path)
        paths.append(path)
    out = run(ctx, paths)
    reasons: dict[str, str | None] = {
        i: None for p in out for i in fs.read_parquet(p, columns=["id"]).column("id").to_pylist()
    }
    for _, path in ctx.reject_files():
        rejected = fs.read_parquet(path, columns=["id", "reason"])
        reasons.update(zip(rejected.column("id").to_pylist(), rejected.column("reason").to_pylist()))
    return reasons, ctx


def run_ours(texts: list[str], urls: list[str], work: Path) -> tuple[dict[str, bool], RunContext]:
    """Kept or not per document, counting drops by filters datatrove does not have as kept."""
    reasons, ctx = run_filters(texts, urls, work)
    return {i: reason is None or reason.startswith(NOT_IN_DATATROVE) for i, reason in reasons.items()}, ctx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="300 generated documents, no shared data")
    parser.add_argument("--docs", type=int, default=3000, help="generated documents (plus shared/data/text)")
    args = parser.parse_args()
    executor.configure(use_ray=False, max_in_flight=1, progress=False)
    texts, urls = corpus(300 if args.small else args.docs, use_shared=not args.small)
    warm_texts = documents(40, seed=99)
    warm_urls = [f"https://warm{i}.example.com/" for i in range(len(warm_texts))]

    with tempfile.TemporaryDirectory() as tmp:
        run_ours(warm_texts, warm_urls, Path(tmp) / "warm")
        with timer() as ours_t:
            ours, ctx = run_ours(texts, urls, Path(tmp) / "bench")
    filters, pii = datatrove_filters()
    run_datatrove(warm_texts, warm_urls, filters, pii)
    with timer() as theirs_t:
        theirs = run_datatrove(texts, urls, filters, pii)

    n = len(texts)
    agreement = sum(ours[str(i)] == theirs[i] for i in range(n)) / n
    result = {
        "documents": n,
        "characters": sum(map(len, texts)),
        "ours_seconds": round(ours_t["seconds"], 2),
        "ours_docs_per_s": round(n / ours_t["seconds"], 1),
        "datatrove_seconds": round(theirs_t["seconds"], 2),
        "datatrove_docs_per_s": round(n / theirs_t["seconds"], 1),
        "speedup": round(theirs_t["seconds"] / ours_t["seconds"], 2),
        "agreement": round(agreement, 4),
        "ours_kept": sum(ours.values()),
        "datatrove_kept": sum(theirs),
        "phases": [{k: r.as_dict()[k] for k in ("name", "wall_seconds", "rejected")} for r in ctx.phases],
    }
    print(f"documents: {n} ({result['characters']:,} chars)")
    print(f"ours (whole filter phase): {result['ours_docs_per_s']} docs/s ({result['ours_seconds']} s)")
    print(f"datatrove filters in sequence: {result['datatrove_docs_per_s']} docs/s ({result['datatrove_seconds']} s)")
    print(f"speed-up: {result['speedup']}x   decision agreement: {agreement:.2%}")
    print(f"kept: ours {result['ours_kept']}, datatrove {result['datatrove_kept']}")
    print(f"saved {save('filters' + ('-small' if args.small else ''), result)}")


if __name__ == "__main__":
    main()

"""A hard evaluation of the default filters and of a quality classifier on real pages and texts.

Nothing here is generated. Positives (text a curated corpus should keep):
- ``article``: the main text of the real news and blog pages in ``../shared/data/crawl/bench-pages.warc.gz``
  that trafilatura's own evaluation set lists, extracted by our extract stage and kept only when it
  contains every "must contain" snippet of that evaluation (so it is the article);
- ``wikipedia``: the WikiText-2 Wikipedia articles of ``../shared/data/text``, with WikiText's own
  tokenisation undone (``a @-@ b`` -> ``a-b``, spaces before punctuation and inside brackets, ``= = h = =``
  headings, and ``<unk>``, its stand-in for a rare word, -> ``unk``): spaced punctuation and ``<unk>``
  count as non-alphabetic words for Gopher's rules, which no real page has (with them, 3 of 30 articles
  pass Gopher's 80% alphabetic-words rule; without, 30 of 30).
Negatives (``boilerplate``): the rest of the same real pages, i.e. every line of the page's full
visible text (resiliparse, ``main_content=False``) that is not in its main text: menus, footers,
cookie and newsletter notices, link lists, comment widgets, shop blocks; one document per page.
English only (lid.176 score >= 0.65, the filters' own threshold): the default recipe is English-only.

Filters: the default filter phase on every document; precision and recall of "kept" for the
positives, and the reject reasons per group. Classifier: ``curate train-classifier --positives
--negatives`` (fastText, Llama 3's reference-classifier recipe) on one half of the pages and articles
(split by page, so a page's article and boilerplate fall on the same side), then ``curate
eval-classifier`` on the other half: ROC AUC, precision and recall at the model's threshold.
Saves ``benchmarks/results/quality_eval.json``; needs ``../shared/data``.

    python benchmarks/quality_eval.py [--corpus CACHE.jsonl]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import SHARED_DATA, save  # noqa: E402
from benchmarks.filters import run_filters  # noqa: E402
from curation.config import InputConfig, parse_config  # noqa: E402
from curation.extract.html import Extractor  # noqa: E402
from curation.filters.lid import default_model_path  # noqa: E402
from curation.io.readers import plan_input_tasks, read_task  # noqa: E402
from curation.runtime import executor  # noqa: E402

CURATE = Path(sys.executable).parent / "curate"
MIN_CHARS = 200  # a boilerplate "document" shorter than this is not one
LID_THRESHOLD = 0.65  # filters.lid's default (FineWeb)
SPACES = re.compile(r"\s+")
WIKITEXT_RULES = [
    (re.compile(r" @(.)@ "), r"\1"),
    (re.compile(r"^ *(?:= )+(.*?)(?: =)+ *$", re.MULTILINE), r"\1"),
    (re.compile(r" ([.,;:!?)\]]|'s\b|n't\b)"), r"\1"),
    (re.compile(r"([(\[]) "), r"\1"),
    (re.compile(r"<unk>"), "unk"),
]


def norm(text: str) -> str:
    return SPACES.sub(" ", text).strip()


def untokenize_wikitext(text: str) -> str:
    for pattern, replacement in WIKITEXT_RULES:
        text = pattern.sub(replacement, text)
    return text


def read_pages() -> tuple[dict[str, str], dict[str, str]]:
    """HTML and URL of every page of the benchmark WARC, by record id."""
    cfg = InputConfig(paths=[str(SHARED_DATA / "crawl" / "bench-pages.warc.gz")])
    html, urls = {}, {}
    for task in plan_input_tasks(cfg):
        raw, _, _ = read_task(task, cfg)
        for rid, url, content in zip(*(raw.column(c).to_pylist() for c in ("id", "url", "content"))):
            html[rid], urls[rid] = content, url
    return html, urls


def main_texts(html: dict[str, str], urls: dict[str, str]) -> dict[str, str]:
    """Our extract stage's text of each page (no gates: the language is checked separately)."""
    import pyarrow as pa

    ids = list(html)
    raw = pa.table({"id": ids, "url": [urls[i] for i in ids], "date": [None] * len(ids),
                    "source": ["bench-pages"] * len(ids), "meta": ["{}"] * len(ids),
                    "content": pa.array([html[i] for i in ids], pa.large_string()), "content_kind": ["html"] * len(ids)})
    docs, _, _ = Extractor(parse_config({}).extract)(raw)
    return dict(zip(docs.column("id").to_pylist(), docs.column("text").to_pylist()))


def boilerplate(page_html: str, main: str) -> str:
    """Lines of the page's full visible text that are not part of its main text."""
    from resiliparse.extract.html2text import extract_plain_text

    full = extract_plain_text(page_html, main_content=False, preserve_formatting=True)
    inside = norm(main)
    lines = [line.strip() for line in full.splitlines()]
    return "\n".join(line for line in lines if line and norm(line) not in inside)


def english(texts: dict[str, str]) -> set[str]:
    import fasttext

    model = fasttext.load_model(default_model_path())
    keep = set()
    for key, text in texts.items():
        labels, scores = model.predict(norm(text)[:20000], k=1)
        if labels[0] == "__label__en" and scores[0] >= LID_THRESHOLD:
            keep.add(key)
    return keep


def build_corpus() -> list[dict]:
    """Documents with ``id``, ``group`` (article | wikipedia | boilerplate), ``page``, ``url``, ``text``."""
    manifest = [json.loads(line) for line in (SHARED_DATA / "crawl" / "bench-pages.manifest.jsonl").open()]
    html, urls = read_pages()
    mains = main_texts(html, urls)
    docs = []
    for m in manifest:
        rid = m["record_id"]
        main = mains.get(rid, "")
        if m.get("expect_with") and main and all(s in main for s in m["expect_with"]):
            docs.append({"id": f"article:{rid}", "group": "article", "page": rid, "url": urls[rid], "text": main})
        rest = boilerplate(html[rid], main) if rid in html else ""
        if len(rest) >= MIN_CHARS:
            docs.append({"id": f"boilerplate:{rid}", "group": "boilerplate", "page": rid, "url": urls[rid], "text": rest})
    for line in (SHARED_DATA / "text" / "wikitext2-valid-test.jsonl").open():
        article = json.loads(line)
        url = "https://en.wikipedia.org/wiki/" + article["title"].replace(" ", "_")
        docs.append({"id": f"wikipedia:{article['id']}", "group": "wikipedia", "page": article["id"], "url": url,
                     "text": untokenize_wikitext(article["text"])})
    keep = english({d["id"]: d["text"] for d in docs})
    return [d for d in docs if d["id"] in keep]


def evaluate_filters(docs: list[dict], work: Path) -> dict:
    reasons, _ = run_filters([d["text"] for d in docs], [d["url"] for d in docs], work)
    kept = {d["id"]: reasons[str(i)] is None for i, d in enumerate(docs)}
    groups: dict = {}
    for i, d in enumerate(docs):
        g = groups.setdefault(d["group"], {"documents": 0, "kept": 0, "rejected_by": Counter()})
        g["documents"] += 1
        g["kept"] += kept[d["id"]]
        if reasons[str(i)] is not None:
            g["rejected_by"][reasons[str(i)]] += 1
    for g in groups.values():
        g["kept_share"] = g["kept"] / g["documents"]
        g["rejected_by"] = dict(g["rejected_by"].most_common())
    positive = [d["group"] != "boilerplate" for d in docs]
    true_pos = sum(p and kept[d["id"]] for p, d in zip(positive, docs))
    all_kept = sum(kept.values())
    return {
        "precision": true_pos / all_kept if all_kept else 1.0,
        "recall": true_pos / sum(positive),
        "recall_article": groups.get("article", {}).get("kept_share"),
        "recall_wikipedia": groups.get("wikipedia", {}).get("kept_share"),
        "boilerplate_kept_share": groups.get("boilerplate", {}).get("kept_share"),
        "groups": groups,
    }


def half(key: str) -> str:
    return "train" if hashlib.sha1(key.encode()).digest()[0] % 2 == 0 else "test"


def curate(*args: str) -> str:
    out = subprocess.run([str(CURATE), *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"curate {args[0]} failed: {out.stderr.strip()[-2000:]}")
    return out.stdout


def evaluate_classifier(docs: list[dict], work: Path) -> dict:
    """Train through the public CLI on one half of the pages, evaluate on the other half."""
    files = {}
    for side in ("train", "test"):
        for label, groups in (("positives", ("article", "wikipedia")), ("negatives", ("boilerplate",))):
            path = work / f"{side}-{label}.jsonl"
            rows = [d for d in docs if d["group"] in groups and half(d["page"]) == side]
            path.write_text("".join(json.dumps({"id": d["id"], "text": d["text"]}) + "\n" for d in rows))
            files[side, label] = (str(path), len(rows))
    model = work / "model"
    curate("train-classifier", "--positives", files["train", "positives"][0],
           "--negatives", files["train", "negatives"][0], "--out", str(model))
    from classifiers.reference import reference_labels
    from curation.io import fs

    test_labels = str(work / "test-labels.parquet")
    fs.write_parquet(reference_labels([files["test", "positives"][0]], [files["test", "negatives"][0]]), test_labels)
    curate("eval-classifier", str(model), "--labels", test_labels)
    report = json.loads((model / "eval.json").read_text())
    return {
        "train": {"positives": files["train", "positives"][1], "negatives": files["train", "negatives"][1]},
        "test": {"positives": files["test", "positives"][1], "negatives": files["test", "negatives"][1]},
        **{k: report.get(k) for k in ("auc", "accuracy", "precision", "recall", "f1", "threshold") if k in report},
        "report": report,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="JSONL of the built documents: read if it exists, else written (reruns)")
    args = parser.parse_args()
    if not (SHARED_DATA / "crawl" / "bench-pages.warc.gz").exists():
        sys.exit(f"needs {SHARED_DATA} (bench-pages.warc.gz and text/)")
    executor.configure(use_ray=False, max_in_flight=1, progress=False)
    cached = Path(args.corpus) if args.corpus else None
    if cached and cached.exists():
        docs = [json.loads(line) for line in cached.open()]
    else:
        docs = build_corpus()
        if cached:
            cached.write_text("".join(json.dumps(d) + "\n" for d in docs))
    counts = Counter(d["group"] for d in docs)
    print(f"documents (English): {dict(counts)}")
    with tempfile.TemporaryDirectory(prefix="quality-eval-") as tmp:
        filters = evaluate_filters(docs, Path(tmp) / "filters")
        print(f"default filters: precision {filters['precision']:.3f}, recall {filters['recall']:.3f} "
              f"(articles {filters['recall_article']:.3f}, Wikipedia {filters['recall_wikipedia']:.3f}); "
              f"boilerplate kept {filters['boilerplate_kept_share']:.3f}")
        for name, g in filters["groups"].items():
            print(f"  {name:12s} {g['kept']:5d}/{g['documents']:<5d} kept; rejected by {g['rejected_by']}")
        classifier = evaluate_classifier(docs, Path(tmp))
    print("classifier (held-out pages): " + ", ".join(
        f"{k} {classifier[k]}" for k in ("auc", "precision", "recall", "f1", "accuracy") if k in classifier))
    result = {"documents": dict(counts), "filters": filters, "classifier": classifier}
    print(f"saved {save('quality_eval', result)}")


if __name__ == "__main__":
    main()

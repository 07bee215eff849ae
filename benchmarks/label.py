"""LLM labelling: logprob mode against generation mode on the same documents and the same model.

Both modes label the same documents with the bundled SmolLM2-135M-Instruct through the local
``transformers`` backend (same batch size, same prompt, same truncation, model loaded once, cold
answer caches, the prefix cache cleared before each mode): logprob mode reads the label
probabilities after the prefilled answer prefix in one forward pass; generation mode generates up to
``--max-tokens`` (the ``quality.label`` default, 256) and parses the answer; it runs a second time with
``--short-max-tokens`` (16: room for "Answer: yes" and little else), the cheapest generation a user could
choose, so the ratio is also given against that anchor. What speeds up both
(documents ordered by length, the shared prompt prefix's KV cache computed once) runs in both; only
logprob mode's own forward pass keeps just the last position's logits, as ``generate`` already does.
Reported: documents/s of each (wall clock, and per CPU-second of this process, steadier on a shared
machine) and their ratios (goal >= 10x), generation's parse rate, the agreement of the two modes'
labels where generation parsed (logprob labels as written, calibrated, and the model's own choice
before calibration, which is what greedy generation answers), and the load average.

Label quality (``quality``): ROC AUC of the bundled model's P(yes), the current prompt against
version 1 (instructions only, no examples) and version 2 (the examples under the quality-requirements
question; version 3 asks whether the text is written in connected sentences), on a generated crawl of another seed than the tests'
(seed 5; its good pages, as ``tests/test_demo.py`` picks them, against its spam) and on real text
(wikitext-2 articles from the shared data against the same spam). P(yes) is what the classifier is
trained on, so a labeller that cannot rank these pages cannot give a classifier that does.

Domain labels (``domain_labels``; alone with ``--only domain``, merged into the saved JSON): accuracy
of the bundled model's domain labels on the groups of the Llama 3 mix (code, math, multilingual,
general) against the truth of a generated 1,000-page crawl of seed 7 (neither the demo's 0 nor the
tests' 3): ``--domain-docs`` extracted pages of each group (code, maths, foreign-language pages; any
other page is general), first 400 characters, for domain@2 (instructions only) and the current prompt
as labelled and with contextual calibration, with the label-set mass (the next-token probability the
label words held), and the share of ``--domain-docs`` general articles about programming (no code in
them) labelled code: the crawl's code pages are such articles with a snippet or two, so this says
how much of what the labeller answers is the topic rather than the code.

    python benchmarks/label.py [--docs 100] [--max-tokens 256] [--short-max-tokens 16] [--quality-docs 40]
    python benchmarks/label.py --only domain [--domain-docs 25]
    python benchmarks/label.py --keep-domain   # the rest, keeping the saved domain section
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow.parquet as pq  # noqa: E402
from common import RESULTS, ROOT, SHARED_DATA, save  # noqa: E402

from classifiers.backends import TransformersBackend  # noqa: E402
from classifiers.evaluate import roc_auc  # noqa: E402
from classifiers.label import label  # noqa: E402
from classifiers.prompts import (  # noqa: E402
    CONTENT_FREE,
    DOMAIN_TAXONOMY,
    DOMAINS,
    LLAMA3_QUALITY_BINARY,
    QUALITY_QUESTION,
    QUALITY_REQUIREMENTS,
    Prompt,
)
from classifiers.synthetic import make_corpus  # noqa: E402
from curation.io import fs  # noqa: E402
from curation.schema import make_documents  # noqa: E402


GOOD = {"article", "code", "math"}  # high/medium-quality articles, code and maths: as tests/test_demo.py
SPAM = {"keyword_spam", "link_farm", "product_list", "repetitive", "short_lines"}
QUALITY_V1 = Prompt(  # llama3_quality@1, the anchor of the label-quality comparison
    name="llama3_quality", version="1", kind="binary", system=LLAMA3_QUALITY_BINARY.system,
    template=QUALITY_REQUIREMENTS + "\n\nDocument:\n<<<\n{text}\n>>>\n\n"
    + "Does the document meet the quality requirements? Reply with one line: 'Answer: yes' or 'Answer: no'.",
    answer_key="answer", labels=("yes", "no"), threshold=0.5,
)  # fmt: skip
QUALITY_V2 = replace(  # llama3_quality@2: version 3's examples under the quality-requirements question
    LLAMA3_QUALITY_BINARY, version="2", template=LLAMA3_QUALITY_BINARY.template.replace(QUALITY_QUESTION,
    "Does each document meet the quality requirements (coherent, informative prose, code or maths; not spam, ads, "
    "links, menus or lists)?", 1),
)  # fmt: skip


def crawl_texts(tmp: str, seed: int, docs: int = 400, *overrides: str) -> tuple[dict[str, str], list[dict]]:
    """(id -> text, ground truth) of a generated crawl run through ``configs/quickstart.yaml`` (and
    ``--set`` ``overrides``): every extracted page (curated documents and the rejects of the phases
    after extraction)."""
    curate = str(Path(sys.executable).parent / "curate")
    crawl, run = f"{tmp}/crawl.warc.gz", f"{tmp}/crawl-run"
    subprocess.run([curate, "sample-crawl", crawl, "--docs", str(docs), "--seed", str(seed)], check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([curate, "run", str(ROOT / "configs" / "quickstart.yaml"), "--input", crawl, "--output", run,
                    "--set", "runtime.progress=false", *[a for o in overrides for a in ("--set", o)]],
                   check=True, capture_output=True)  # fmt: skip
    truth = [json.loads(line) for line in Path(f"{tmp}/crawl.truth.jsonl").read_text().splitlines()]
    texts: dict[str, str] = {}
    for folder in ("docs", "rejects"):
        for path in sorted(Path(run, folder).glob("*.parquet")):
            if not path.name.startswith("extract"):
                table = pq.read_table(path, columns=["id", "text"])
                texts.update((i, t) for i, t in zip(table["id"].to_pylist(), table["text"].to_pylist()) if t)
    return texts, truth


def crawl_pages(tmp: str, seed: int) -> tuple[list[str], list[str]]:
    """(good texts, spam texts) of a generated 400-page crawl (``crawl_texts``)."""
    texts, truth = crawl_texts(tmp, seed)
    kinds = {t["id"]: t["kind"] for t in truth if t["id"] in texts and (t["kind"] in SPAM or (
        t["kind"] in GOOD and t.get("quality", "high") in ("high", "medium")))}  # fmt: skip
    ids = sorted(kinds)
    return [texts[i] for i in ids if kinds[i] not in SPAM], [texts[i] for i in ids if kinds[i] in SPAM]


def label_quality(backend: TransformersBackend, n: int, max_chars: int, seed: int = 5) -> dict:
    """ROC AUC of P(yes) for each prompt version on each set (good = positive), with the figures behind it."""
    with tempfile.TemporaryDirectory() as tmp:
        good, spam = crawl_pages(tmp, seed)
    good = random.Random(0).sample(good, min(n, len(good)))
    sets = {"crawl_good_vs_spam": (good, spam)}
    wikitext = SHARED_DATA / "text" / "wikitext2-valid-test.jsonl"
    if wikitext.exists():
        rows = [json.loads(line)["text"] for line in wikitext.read_text().splitlines()]
        sets["wikitext2_vs_crawl_spam"] = (random.Random(0).sample(rows, n), spam)
    result: dict = {"crawl_seed": seed, "max_chars": max_chars,
                    "sets": {k: {"good": len(g), "spam": len(b)} for k, (g, b) in sets.items()}}  # fmt: skip
    for prompt in (QUALITY_V1, QUALITY_V2, LLAMA3_QUALITY_BINARY):
        texts = list(dict.fromkeys(t[:max_chars] for g, b in sets.values() for t in g + b))
        probs = probabilities(backend, prompt, texts)
        score = {t: prompt.read_probs(p).score for t, p in zip(texts, probs)}
        aucs = {}
        for name, (g, b) in sets.items():
            aucs[name] = round(roc_auc([True] * len(g) + [False] * len(b), [score[t[:max_chars]] for t in g + b]), 4)
        result[prompt.id] = {"auc": aucs, "mean_p_yes": round(sum(score.values()) / len(score), 4)}
        print(f"{prompt.id}: ROC AUC of P(yes) {aucs}", flush=True)
    return result


DOMAIN_V2 = Prompt(  # domain@2, the anchor of the domain comparison: instructions only, a placeholder to copy
    name="domain", version="2", kind="categorical",
    system="You classify web documents into knowledge domains for a pretraining data mix.",
    template="Domains:\n- code: source code, programming tutorials, software documentation\n- math: mathematics, "
    "proofs, worked problems, logic and step-by-step reasoning\n- multilingual: the document is mostly not in English "
    "(any topic)\n- science, technology, health, history (and geography), society (politics, law), business "
    "(finance), arts (entertainment), sports, lifestyle, education (reference): English general knowledge on that "
    "topic\n- other: spam, ads, navigation, or nothing to learn\n\nDocument:\n<<<\n{text}\n>>>\n\nWhich single "
    "domain fits the document best? Reply with one line: 'Domain: <domain>'.",
    answer_key="domain", labels=DOMAINS, words=("code", "math", "multilingual", "science", "technology", "health",
    "history", "society", "business", "arts", "sports", "lifestyle", "education", "other"),
)  # fmt: skip
MIX_GROUPS = ("code", "math", "multilingual", "general")
"""The groups of the Llama 3 mix (configs/mixes/llama3.yaml) a domain label decides."""


def mix_group(label: str) -> str:
    return {"code": "code", "math_reasoning": "math", "multilingual": "multilingual"}.get(label, "general")


def label_domains(backend: TransformersBackend, per_group: int, max_chars: int, seed: int = 7) -> dict:
    """Accuracy of the bundled model's domain labels on the mix groups against a generated crawl's truth
    (code, math, foreign pages; every other page is general), ``per_group`` pages of each, for domain@2
    and the current prompt (as labelled, and with contextual calibration), and the label-set mass."""
    kinds = {"code": "code", "math": "math", "foreign": "multilingual"}
    with tempfile.TemporaryDirectory() as tmp:
        # 50 code, 40 maths, 100 foreign pages; every language extracted (the English gate would skip them)
        texts, truth = crawl_texts(tmp, seed, 1000, "filters.lid.languages=[]")
    pages = [(kinds.get(t["kind"], "general"), texts[t["id"]][:max_chars]) for t in truth if t["id"] in texts]
    rng = random.Random(0)
    sample = [p for g in MIX_GROUPS for p in rng.sample([p for p in pages if p[0] == g],
                                                         min(per_group, sum(p[0] == g for p in pages)))]  # fmt: skip
    # the crawl's code pages are articles about programming with a snippet or two; its general articles on
    # programming have none: the share of those called code is how far the labeller answers the topic
    prose = [texts[t["id"]][:max_chars] for t in truth
             if t["id"] in texts and t["kind"] == "article" and t.get("topic") == "programming"]  # fmt: skip
    programming = rng.sample(prose, min(per_group, len(prose)))
    result: dict = {"crawl_seed": seed, "crawl_docs": 1000, "max_chars": max_chars,
                    "pages": dict(Counter(g for g, _ in sample)),
                    "programming_prose_pages": len(programming)}  # fmt: skip
    calibrated = replace(DOMAIN_TAXONOMY, content_free=CONTENT_FREE)
    for prompt in (DOMAIN_V2, DOMAIN_TAXONOMY):
        backend.clear_prefix_cache()
        start, cpu_start = time.perf_counter(), time.process_time()
        probs = probabilities(backend, prompt, [t for _, t in sample])
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        prose_probs = probabilities(backend, prompt, programming)
        readings = {prompt.id: ([prompt.read_probs(p) for p in probs], [prompt.read_probs(p) for p in prose_probs])}
        if prompt is DOMAIN_TAXONOMY:
            free = [calibrated.read_probs(p).probs for p in probabilities(backend, calibrated, CONTENT_FREE)]
            bias = {label: sum(f[label] for f in free) / len(free) for label in prompt.labels}
            readings[prompt.id + " calibrated"] = ([prompt.read_probs(p, bias) for p in probs],
                                                   [prompt.read_probs(p, bias) for p in prose_probs])  # fmt: skip
        for name, (read, prose_read) in readings.items():
            right = Counter(g for (g, _), r in zip(sample, read) if mix_group(r.label) == g)
            per_group = {g: round(right[g] / result["pages"][g], 4) for g in MIX_GROUPS}
            result[name] = {
                "accuracy": round(sum(right.values()) / len(sample), 4),
                "accuracy_per_group": per_group,
                "mean_label_mass": round(sum(r.mass for r in read) / len(read), 4),
                "labels": dict(Counter(r.label for r in read).most_common()),
                "programming_prose_called_code": round(sum(r.label == "code" for r in prose_read) / len(prose_read), 4),
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu_seconds, 2),
            }
            print(f"{name}: accuracy {result[name]['accuracy']} {per_group}, label mass "
                  f"{result[name]['mean_label_mass']}, programming prose called code "
                  f"{result[name]['programming_prose_called_code']}", flush=True)  # fmt: skip
    return result


def domain_section(backend: TransformersBackend, args: argparse.Namespace) -> dict:
    load_start = round(os.getloadavg()[0], 2)
    result = label_domains(backend, args.domain_docs, args.quality_max_chars)
    return {**result, "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)}}


def probabilities(backend: TransformersBackend, prompt: Prompt, texts: Sequence[str]) -> list[dict[str, float]]:
    """Each text's label probabilities, in batches of the backend's size."""
    probs: list[dict[str, float]] = []
    for i in range(0, len(texts), backend.batch_size):
        batch = [prompt.messages(t, prefill=True) for t in texts[i : i + backend.batch_size]]
        probs += backend.label_probs(batch, prompt.continuations())
    return probs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--max-chars", type=int, default=600)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--short-max-tokens", type=int, default=16, help="the second, short generation run")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--quality-docs", type=int, default=40, help="good documents per label-quality set")
    parser.add_argument("--quality-max-chars", type=int, default=400, help="as the tests and `make demo` label")
    parser.add_argument("--domain-docs", type=int, default=25, help="pages per mix group in the domain section")
    parser.add_argument("--only", choices=["domain"], help="run this section alone, merged into the saved JSON")
    parser.add_argument("--keep-domain", action="store_true",
                        help="keep the saved JSON's domain section (it does not use the quality prompt)")
    args = parser.parse_args()
    if args.only == "domain":
        saved = json.loads((RESULTS / "label.json").read_text())
        saved.pop("machine")
        saved["domain_labels"] = domain_section(TransformersBackend(batch_size=args.batch_size), args)
        print(f"saved {save('label', saved)}")
        return

    load_start = round(os.getloadavg()[0], 2)
    docs = make_corpus(args.docs, seed=0)
    backend = TransformersBackend(batch_size=args.batch_size, max_tokens=args.max_tokens)
    results, labels = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        fs.write_parquet(
            make_documents({"id": [d["id"] for d in docs], "text": [d["text"] for d in docs]}),
            f"{tmp}/run/docs/part-000000.parquet",
        )
        runs = {"logprob": args.max_tokens, "generate": args.max_tokens, "generate_short": args.short_max_tokens}
        for mode, max_tokens in runs.items():
            out = f"{tmp}/{mode}.parquet"
            backend.clear_prefix_cache()
            backend.max_tokens = max_tokens
            start, cpu_start = time.perf_counter(), time.process_time()
            summary = label(f"{tmp}/run", out, prompt=LLAMA3_QUALITY_BINARY, backend=backend, samples=args.docs,
                            max_chars=args.max_chars, max_tokens=max_tokens,
                            mode=mode.removesuffix("_short"))  # fmt: skip
            seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
            table = pq.read_table(out)
            labels[mode] = dict(zip(table.column("id").to_pylist(), table.column("label").to_pylist()))
            if mode == "logprob" and summary["calibration"]:  # the model's own choice: before calibration
                bias = summary["calibration"]
                probs = [json.loads(p) for p in table.column("label_probs").to_pylist()]
                raw = [max(p, key=lambda k: p[k] * bias[k]) for p in probs]
                labels["logprob_uncalibrated"] = dict(zip(table.column("id").to_pylist(), raw))
            results[mode] = {
                "seconds": round(seconds, 2),
                "docs_per_s": round(args.docs / seconds, 3),
                "cpu_seconds": round(cpu_seconds, 2),
                "docs_per_cpu_s": round(args.docs / cpu_seconds, 3),
                "parsed": summary["ok"],
                "parse_rate": round(summary["ok"] / args.docs, 4),
                "labels": dict(Counter(v for v in labels[mode].values() if v)),
            }
            print(f"{mode:14s} {results[mode]['docs_per_s']:.3f} docs/s  parse rate {results[mode]['parse_rate']:.2%}"
                  f"  labels {results[mode]['labels']}", flush=True)  # fmt: skip
    parsed = [i for i, v in labels["generate"].items() if v]
    agree = sum(labels["generate"][i] == labels["logprob"][i] for i in parsed)
    raw = labels.get("logprob_uncalibrated", labels["logprob"])
    agree_raw = sum(labels["generate"][i] == raw[i] for i in parsed)
    speedup = results["logprob"]["docs_per_s"] / results["generate"]["docs_per_s"]
    cpu_speedup = results["logprob"]["docs_per_cpu_s"] / results["generate"]["docs_per_cpu_s"]
    short_speedup = results["logprob"]["docs_per_s"] / results["generate_short"]["docs_per_s"]
    short_cpu_speedup = results["logprob"]["docs_per_cpu_s"] / results["generate_short"]["docs_per_cpu_s"]
    result = {
        "benchmark": "label",
        "model": backend.model,
        "prompt": LLAMA3_QUALITY_BINARY.id,
        "docs": args.docs,
        "max_chars": args.max_chars,
        "batch_size": args.batch_size,
        "generate_max_tokens": args.max_tokens,
        "logprob": results["logprob"],
        "generate": results["generate"],
        "generate_short_max_tokens": args.short_max_tokens,
        "generate_short": results["generate_short"],
        "speedup": round(speedup, 2),
        "cpu_speedup": round(cpu_speedup, 2),
        "speedup_vs_short_generation": round(short_speedup, 2),
        "cpu_speedup_vs_short_generation": round(short_cpu_speedup, 2),
        "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
        "agreement_where_generation_parsed": round(agree / len(parsed), 4) if parsed else None,
        "agreement_uncalibrated_where_generation_parsed": round(agree_raw / len(parsed), 4) if parsed else None,
        "logprob_uncalibrated_labels": dict(Counter(raw.values())),
        "generation_parsed": len(parsed),
        "goal": "logprob >= 10x generation docs/s",
        "label_quality": label_quality(backend, args.quality_docs, args.quality_max_chars),
        "domain_labels": (json.loads((RESULTS / "label.json").read_text())["domain_labels"] if args.keep_domain
                          else domain_section(backend, args)),
    }
    print(f"logprob / generate: {speedup:.1f}x wall, {cpu_speedup:.1f}x CPU "
          f"({short_speedup:.1f}x / {short_cpu_speedup:.1f}x against {args.short_max_tokens} tokens); "
          f"agreement {result['agreement_where_generation_parsed']} "
          f"on {len(parsed)} documents generation parsed")  # fmt: skip
    print(f"saved {save('label', result)}")


if __name__ == "__main__":
    main()

"""Page bodies as blocks: ``(kind, value)`` with kind in h2, p, ul, pre, img, links, lines.

Every generator takes a seeded ``random.Random`` and draws only from ``lexicon``, so equal seeds
give equal pages.
"""

from __future__ import annotations

import random
import re

from curation.sample_crawl import lexicon as lx

Block = tuple[str, object]
Page = tuple[str, list[Block]]

QUALITY_SHAPES = {  # (paragraphs, sentences per paragraph), both as inclusive ranges
    "high": ((5, 9), (4, 7)),
    "medium": ((2, 4), (3, 5)),
    "low": ((1, 2), (1, 3)),
}


def fill(rng: random.Random, frame: str, topic: str) -> str:
    """Fill a frame's slots from one topic's vocabulary; capitalise the first letter."""
    vocab = lx.TOPICS[topic]
    noun, noun2 = rng.sample(vocab["nouns"], 2)
    verb = rng.choice(vocab["verbs"])
    adj, adj2 = rng.sample(vocab["adjectives"], 2)
    text = frame.format(
        n=noun[0], ns=noun[1], n2=noun2[0], a=adj, a2=adj2, v=verb[0], vs=verb[1], x=rng.choice(vocab["experts"])
    )
    return text[0].upper() + text[1:]


def paragraph(rng: random.Random, topic: str, sentences: int) -> str:
    return " ".join(fill(rng, rng.choice(lx.FRAMES), topic) for _ in range(sentences))


def english_article(rng: random.Random, topic: str, quality: str) -> Page:
    (p_lo, p_hi), (s_lo, s_hi) = QUALITY_SHAPES[quality]
    blocks: list[Block] = []
    for i in range(rng.randint(p_lo, p_hi)):
        if quality == "high" and i and i % 3 == 0:
            blocks.append(("h2", fill(rng, rng.choice(lx.HEADINGS), topic)))
        blocks.append(("p", paragraph(rng, topic, rng.randint(s_lo, s_hi))))
    if quality == "high" and rng.random() < 0.5:
        blocks.insert(2, ("ul", [fill(rng, "{a} {ns} that {x} {v}", topic) for _ in range(rng.randint(3, 5))]))
    if quality == "low":
        blocks += [("p", fill(rng, rng.choice(lx.LOW_QUALITY_LINES), topic)) for _ in range(rng.randint(1, 3))]
    return fill(rng, rng.choice(lx.TITLES), topic), blocks


def code_article(rng: random.Random) -> Page:
    title, blocks = english_article(rng, "programming", rng.choice(["high", "medium"]))
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(1, len(blocks))
        blocks.insert(at, ("pre", code_snippet(rng)))
    return title, blocks


def code_snippet(rng: random.Random) -> str:
    a, b = rng.sample(lx.CODE_NAMES, 2)
    f = rng.choice(lx.FUNCTION_NAMES) + "_" + rng.choice(lx.CODE_NAMES)
    return rng.choice(lx.CODE_SNIPPETS).format(
        f=f, F=f.title().replace("_", ""), a=a, b=b, n=rng.choice(lx.CODE_NAMES)[:-1], k=rng.randint(2, 99)
    )


def math_values(rng: random.Random) -> dict[str, object]:
    a, b, p, n = rng.randint(2, 9), rng.randint(2, 12), rng.randint(2, 6), rng.randint(5, 60)
    return {
        "a": a,
        "b": b,
        "c": a * rng.randint(2, 9) + b,
        "d": rng.randint(1, 6),
        "p": p,
        "p1": p + 1,
        "pm": p - 1,
        "ap": a * p,
        "s": a * a + b * b,
        "n": n,
        "tri": n * (n + 1) // 2,
    }


def math_article(rng: random.Random) -> Page:
    blocks: list[Block] = []
    for _ in range(rng.randint(3, 6)):
        sentences = [rng.choice(lx.MATH_FRAMES).format(**math_values(rng)) for _ in range(rng.randint(2, 4))]
        blocks.append(("p", " ".join(sentences)))
        if rng.random() < 0.7:
            blocks.append(("img", rng.choice(lx.MATH_FORMULAS).format(**math_values(rng))))
    noun = rng.choice(lx.MATH_NOUNS)
    return f"Understanding the {noun}: worked examples", blocks


def foreign_sentence(rng: random.Random, lang: str) -> str:
    words = lx.LANGUAGES[lang]
    return f"{rng.choice(words['subjects'])} {rng.choice(words['predicates'])} {rng.choice(words['adverbials'])}."


def foreign_article(rng: random.Random, lang: str) -> Page:
    blocks: list[Block] = [
        ("p", " ".join(foreign_sentence(rng, lang) for _ in range(rng.randint(3, 6)))) for _ in range(rng.randint(2, 6))
    ]
    return foreign_sentence(rng, lang).rstrip("."), blocks


def keyword_spam(rng: random.Random) -> Page:
    product = rng.choice(lx.SPAM_PRODUCTS)
    words = [f"{rng.choice(lx.SPAM_KEYWORDS)} {product}" for _ in range(rng.randint(60, 150))]
    return f"{product} {product} cheap {product} best {product}", [("p", " ".join(words))]


def link_farm(rng: random.Random) -> Page:
    links = []
    for _ in range(rng.randint(80, 200)):
        host = f"{rng.choice(lx.SITE_WORDS)}-{rng.choice(lx.SPAM_PRODUCTS).replace(' ', '-')}{rng.randint(1, 999)}.com"
        links.append((f"http://{host}/", f"{rng.choice(lx.SPAM_KEYWORDS)} {rng.choice(lx.SPAM_PRODUCTS)}"))
    return "Useful links directory", [("links", links)]


def product_list(rng: random.Random) -> Page:
    items = [
        f"{rng.choice(lx.PRODUCT_BRANDS)} {rng.choice(lx.PRODUCT_KINDS)} {rng.choice(lx.PRODUCT_TRAITS)} "
        f"{rng.randint(100, 9999)} - ${rng.randint(5, 499)}.{rng.randint(0, 99):02d}"
        for _ in range(rng.randint(40, 120))
    ]
    return "All products", [("ul", items)]


def repetitive(rng: random.Random, topic: str) -> Page:
    sentence = fill(rng, rng.choice(lx.FRAMES), topic)
    return sentence.rstrip("."), [("p", sentence) for _ in range(rng.randint(25, 60))]


def short_lines(rng: random.Random) -> Page:
    lines = [" ".join(rng.sample(lx.SHORT_LINE_WORDS, rng.randint(1, 3))) for _ in range(rng.randint(40, 100))]
    return "tags", [("lines", lines)]


def tiny(rng: random.Random) -> Page:
    return "Coming soon", [("p", rng.choice(["Coming soon.", "Under construction", "Page moved.", "Hello world"]))]


def edit_words(rng: random.Random, blocks: list[Block], fraction: float, topic: str) -> tuple[list[Block], float]:
    """Replace about ``fraction`` of the words of the paragraphs; return the new blocks and the true share."""
    vocab = [w for pair in lx.TOPICS[topic]["nouns"] for w in pair] + lx.TOPICS[topic]["adjectives"]
    texts = [str(v) for k, v in blocks if k == "p"]
    total = sum(len(t.split()) for t in texts)
    targets = set(rng.sample(range(total), max(1, round(fraction * total)))) if total else set()
    edited, out, index = 0, [], 0
    for kind, value in blocks:
        if kind != "p":
            out.append((kind, value))
            continue
        words = str(value).split()
        for i in range(len(words)):
            if index + i in targets:
                replacement = rng.choice([w for w in vocab if w != re.sub(r"\W", "", words[i])])
                words[i] = replacement + (words[i][-1] if words[i][-1] in ".,;:" else "")
                edited += 1
        index += len(words)
        out.append((kind, " ".join(words)))
    return out, edited / total if total else 0.0

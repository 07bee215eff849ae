"""Page bodies as blocks: ``(kind, value)`` with kind in h2, p, ul, pre, img, links, lines.

Every generator takes a seeded ``random.Random`` and draws only from this package's word lists,
so equal seeds give equal pages.
"""

from __future__ import annotations

import math
import random
import re

from curation.testing import english as en
from curation.testing import lexicon as lx
from curation.testing import technical as tech
from curation.testing.languages import LANGUAGES
from curation.testing.sentences import Deck, Writer

Block = tuple[str, object]
Page = tuple[str, list[Block]]

QUALITY_SHAPES = {  # (paragraphs, sentences per paragraph), both as inclusive ranges
    "high": ((5, 8), (4, 7)),
    "medium": ((3, 5), (3, 6)),
    "low": ((1, 2), (2, 4)),  # often under Gopher's 50 words or C4's 5 sentences
}


def english_article(rng: random.Random, topic: str, quality: str) -> Page:
    (p_lo, p_hi), (s_lo, s_hi) = QUALITY_SHAPES[quality]
    writer = Writer(rng, topic)
    blocks: list[Block] = []
    for i in range(rng.randint(p_lo, p_hi)):
        if quality == "high" and i and i % 3 == 0:
            blocks.append(("h2", writer.heading()))
        blocks.append(("p", writer.paragraph(rng.randint(s_lo, s_hi))))
    if quality == "high" and rng.random() < 0.5:
        blocks.insert(2, ("ul", [writer.list_item() for _ in range(rng.randint(3, 5))]))
    if quality == "low":
        shouts = Deck(rng, en.LOW_QUALITY_LINES)
        blocks += [("p", writer.fill(shouts.draw())) for _ in range(rng.randint(1, 3))]
    return writer.fill(rng.choice(en.TITLES)), blocks


def code_article(rng: random.Random) -> Page:
    quality = rng.choice(["high", "medium"])
    title, blocks = english_article(rng, "programming", quality)
    snippets = Deck(rng, tech.CODE_SNIPPETS)
    for _ in range(rng.randint(1, 2) if quality == "high" else 1):  # code counts against the alpha-words rule
        blocks.insert(rng.randint(1, len(blocks)), ("pre", code_snippet(rng, snippets.draw())))
    return title, blocks


def code_snippet(rng: random.Random, template: str) -> str:
    a, b = rng.sample(tech.CODE_NAMES, 2)
    f = rng.choice(tech.FUNCTION_NAMES) + "_" + rng.choice(tech.CODE_NAMES)
    return template.format(
        f=f, F=f.title().replace("_", ""), a=a, b=b, n=rng.choice(tech.CODE_NAMES)[:-1], k=rng.randint(2, 99)
    )


def math_values(rng: random.Random) -> dict[str, object]:
    """Numbers for one math sentence or formula, consistent with each other (x solves the equation...)."""
    a, b, k, p, n, r = (
        rng.randint(2, 9),
        rng.randint(2, 12),
        rng.randint(2, 9),
        rng.randint(2, 6),
        rng.randint(5, 60),
        rng.randint(2, 12),
    )
    g, g1, g2 = rng.randint(2, 12), rng.randint(2, 9), rng.randint(10, 19)
    nn, kk = rng.randint(5, 12), rng.randint(2, 4)
    r1, rq, m, gr = rng.randint(1, 9), rng.randint(10, 15), rng.randint(3, 11), rng.randint(2, 9)
    c, d = a * k + b, rng.randint(1, 6)
    trio = sorted([a, b, c])
    return {
        "a": a,
        "b": b,
        "c": c,
        "k": k,
        "d": d,
        "p": p,
        "p1": p + 1,
        "pm": p - 1,
        "ap": a * p,
        "s": a * a + b * b,
        "n": n,
        "n1": n + 1,
        "tri": n * (n + 1) // 2,
        "sq": n * n,
        "r": r,
        "rr": r * r,
        "r2": 2 * r,
        "g": g,
        "g1": g * g1,
        "g2": g * g2,
        "a2p": a * 2**p,
        "gr": gr,
        "factor": f"{(1 + gr / 100) ** 10:.2f}",
        "mean": f"{(a + b + c) / 3:.2f}".rstrip("0").rstrip("."),
        "median": trio[1],
        "nn": nn,
        "kk": kk,
        "nk": nn - kk,
        "binom": math.comb(nn, kk),
        "bin": f"{n:b}",
        "seq": ", ".join(str(b + a * i) for i in range(4)),
        "tenth": b + 9 * a,
        "r1": r1,
        "rq": rq,
        "sumr": r1 + rq,
        "prodr": r1 * rq,
        "det": a * p - b * d,
        "m": m,
        "big": (big := rng.randint(100, 999)),
        "mod": big % m,
    }


def math_article(rng: random.Random) -> Page:
    frames, prose, formulas = Deck(rng, tech.MATH_FRAMES), Deck(rng, tech.MATH_PROSE), Deck(rng, tech.MATH_FORMULAS)
    blocks: list[Block] = []
    for _ in range(rng.randint(3, 6)):  # mostly prose: numbers and symbols count against Gopher's alpha-words rule
        sentences = [prose.draw() for _ in range(rng.randint(3, 5))]
        if rng.random() < 0.65:
            sentences.insert(rng.randint(0, len(sentences)), frames.draw().format(**math_values(rng)))
        blocks.append(("p", " ".join(sentences)))
        if rng.random() < 0.35:
            blocks.append(("img", formulas.draw().format(**math_values(rng))))
    return rng.choice(tech.MATH_TITLES).format(noun=rng.choice(tech.MATH_NOUNS)), blocks


PHRASE_PARTS = ("subjects", "predicates", "adverbials")


def foreign_article(rng: random.Random, lang: str) -> Page:
    subjects, predicates, adverbials = (Deck(rng, LANGUAGES[lang][part]) for part in PHRASE_PARTS)

    def sentence() -> str:
        return f"{subjects.draw()} {predicates.draw()} {adverbials.draw()}."

    title = sentence().rstrip(".")
    blocks: list[Block] = [
        ("p", " ".join(sentence() for _ in range(rng.randint(3, 4)))) for _ in range(rng.randint(2, 4))
    ]
    return title, blocks


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
    sentence = Writer(rng, topic).sentence()
    return sentence.rstrip("."), [("p", sentence) for _ in range(rng.randint(25, 60))]


def short_lines(rng: random.Random) -> Page:
    lines = [" ".join(rng.sample(lx.SHORT_LINE_WORDS, rng.randint(1, 3))) for _ in range(rng.randint(40, 100))]
    return "tags", [("lines", lines)]


def tiny(rng: random.Random) -> Page:
    return "Coming soon", [("p", rng.choice(["Coming soon.", "Under construction", "Page moved.", "Hello world"]))]


def edit_words(rng: random.Random, blocks: list[Block], fraction: float, topic: str) -> tuple[list[Block], float]:
    """Replace about ``fraction`` of the words of the paragraphs; return the new blocks and the true share."""
    vocab = [w for pair in en.TOPICS[topic]["nouns"] for w in pair] + en.TOPICS[topic]["adjectives"]
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

"""Seeded generator of web-like documents of varied quality, for the filter tests and benchmark.

Mixes clean prose with the defects the heuristics look for: short pages, navigation and repeated
lines, repeated paragraphs, bullet lists, hashtags and ellipses, tables of numbers, logging lines,
code with braces, lorem ipsum, cookie/javascript boilerplate, very long tokens, e-mails and IPs.
"""

from __future__ import annotations

import random

WORDS = (
    "time year people way day man thing woman life child world school state family student group country "
    "problem hand part place case week company system program question work government number night point "
    "home water room mother area money story fact month lot right study book eye job word business issue "
    "side kind head house service friend father power hour game line end member law car city community name "
    "president team minute idea kid body information back parent face others level office door health person "
    "art war history party result change morning reason research girl guy moment air teacher force education "
    "good new first last long great little own other old right big high different small large next early young "
    "important few public bad same able make know think take see come want look use find give tell ask seem "
    "feel try leave call keep let begin help show hear play run move live believe hold bring happen write "
    "provide sit stand lose pay meet include continue set learn lead understand watch follow stop create speak "
    "read allow add spend grow open walk win offer remember love consider appear buy wait serve die send expect "
    "build stay fall cut reach kill remain suggest raise pass sell require report decide pull river mountain "
    "garden kitchen village market engine bridge forest island harbour museum library season weather journey"
).split()
FUNCTION = "the be to of and a in that have with it for not on as at this by from they we say her she or an".split()
CONTRACTIONS = ["don't", "it's", "can't", "we're", "they've", "isn't", "I'm", "you'll", "John's", "won't"]
EXTRAS = ["well-known", "e-mail", "3.5", "1,000", "U.S.", "Mr.", "(see below)", '"quoted"', "2023", "x/y", "#1"]


def sentence(rng: random.Random, n: int | None = None) -> str:
    n = n or rng.randint(6, 22)
    words = []
    for _ in range(n):
        r = rng.random()
        if r < 0.4:
            words.append(rng.choice(FUNCTION))
        elif r < 0.93:
            words.append(rng.choice(WORDS))
        elif r < 0.97:
            words.append(rng.choice(CONTRACTIONS))
        else:
            words.append(rng.choice(EXTRAS))
        if rng.random() < 0.08 and len(words) < n - 1:
            words[-1] += ","
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words) + rng.choice([".", ".", ".", "!", "?", ""])


def paragraph(rng: random.Random, sentences: int | None = None) -> str:
    return " ".join(sentence(rng) for _ in range(sentences or rng.randint(1, 6)))


def prose(rng: random.Random) -> str:
    return "\n".join(paragraph(rng) for _ in range(rng.randint(2, 9)))


def short_page(rng: random.Random) -> str:
    return "\n".join(sentence(rng, rng.randint(3, 12)) for _ in range(rng.randint(1, 8)))


def navigation(rng: random.Random) -> str:
    nav = ["Home", "About us", "Contact", "Login", "Share this page", "Menu"]
    body = [paragraph(rng) for _ in range(rng.randint(1, 4))]
    lines = body + [rng.choice(nav) for _ in range(rng.randint(3, 20))]
    rng.shuffle(lines)
    return "\n".join(lines)


def repeated_paragraphs(rng: random.Random) -> str:
    paras = [paragraph(rng) for _ in range(rng.randint(1, 4))]
    return "\n\n".join(rng.choice(paras) for _ in range(rng.randint(3, 8)))


def bullets(rng: random.Random) -> str:
    mark = rng.choice(["- ", "• ", "* "])
    items = [mark + sentence(rng, rng.randint(2, 9)) for _ in range(rng.randint(5, 30))]
    return "\n".join(([paragraph(rng)] if rng.random() < 0.5 else []) + items)


def hashtags_and_ellipses(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(3, 15)):
        s = sentence(rng)
        r = rng.random()
        if r < 0.4:
            s = s.rstrip(".!?") + rng.choice(["...", "…"])
        elif r < 0.7:
            s += " " + " ".join("#" + rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        lines.append(s)
    return "\n".join(lines)


def number_table(rng: random.Random) -> str:
    def row() -> str:
        return " | ".join(f"{rng.uniform(0, 1000):.2f}" for _ in range(rng.randint(3, 8)))

    rows = [row() for _ in range(rng.randint(5, 40))]
    return "\n".join(([paragraph(rng, 2)] if rng.random() < 0.5 else []) + rows)


def logging_lines(rng: random.Random) -> str:
    levels = ["ERROR", "WARN", "INFO"]
    lines = [paragraph(rng) for _ in range(rng.randint(1, 4))]
    for _ in range(rng.randint(3, 30)):
        lines.append(
            f"2024-05-{rng.randint(1, 28):02d} 10:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d} "
            f"{rng.choice(levels)} [worker-{rng.randint(1, 3)}] connection to the database server failed "
            f"with a timeout after {rng.randint(1, 60)} seconds, retrying the request now."
        )
    return "\n".join(lines)


def code(rng: random.Random) -> str:
    body = [paragraph(rng) for _ in range(rng.randint(1, 4))]
    body.append("function main() { return run(config, " + str(rng.randint(0, 9)) + "); }")
    return "\n".join(body)


def lorem(rng: random.Random) -> str:
    body = [paragraph(rng) for _ in range(rng.randint(2, 5))]
    body.insert(rng.randint(0, len(body)), "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.")
    return "\n".join(body)


def boilerplate(rng: random.Random) -> str:
    junk = [
        "This site uses cookies to improve your experience and for analytics.",
        "Please enable JavaScript in your browser to view this page properly.",
        "Read our privacy policy and terms of use before you continue here.",
    ]
    lines = [paragraph(rng) for _ in range(rng.randint(2, 6))] + rng.sample(junk, rng.randint(1, 3))
    rng.shuffle(lines)
    return "\n".join(lines)


def long_token(rng: random.Random) -> str:
    lines = [paragraph(rng) for _ in range(rng.randint(2, 6))]
    lines.insert(1, "data:" + "".join(rng.choice("abcdef0123456789") for _ in range(rng.randint(900, 1500))))
    return "\n".join(lines)


def with_pii(rng: random.Random) -> str:
    lines = [paragraph(rng) for _ in range(rng.randint(2, 5))]
    lines.append(f"Write to jane.doe{rng.randint(1, 99)}@mail-server.org or visit 93.184.216.{rng.randint(1, 254)}.")
    lines.append("The router at 192.168.0.1 and the local host 127.0.0.1 stay as they are.")
    return "\n".join(lines)


KINDS = [
    (prose, 30), (short_page, 10), (navigation, 8), (repeated_paragraphs, 6), (bullets, 6),
    (hashtags_and_ellipses, 6), (number_table, 5), (logging_lines, 5), (code, 5), (lorem, 3),
    (boilerplate, 8), (long_token, 3), (with_pii, 5),
]


def documents(n: int, seed: int = 0) -> list[str]:
    """``n`` documents of mixed kinds, reproducible from ``seed``."""
    rng = random.Random(seed)
    makers, weights = zip(*KINDS)
    return [rng.choices(makers, weights)[0](rng) for _ in range(n)]

"""Sentences from frames: per-page decks (no frame twice on a page), slot values drawn from a
topic's vocabulary and the RNG (names, cities, numbers, dates), verb forms and "a"/"an".
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from curation.testing import english as en

IRREGULAR = {  # base -> (past, past participle)
    "build": ("built", "built"),
    "grow": ("grew", "grown"),
    "feed": ("fed", "fed"),
    "sow": ("sowed", "sown"),
    "spend": ("spent", "spent"),
    "rule": ("ruled", "ruled"),
}
DOUBLED = {"stir", "chop", "plan", "trim", "skip", "debug"}  # stir -> stirred, debug -> debugged
OPENABLE = ("The ", "A ", "Many ", "Some ", "Most ", "Few ", "Several ", "Good ", "These ", "{x}", "{person}")
"""Frames that read well after an opener such as "In 2019," (statements of fact, not asides or advice)."""
AN_BEFORE = re.compile(r"\b([Aa]) (?=[aeio]|u(?!s|n[ia]|ti|r))")  # "a early" -> "an early"; not "an useful"


def conjugate(base: str) -> tuple[str, str, str, str]:
    """(base, third person singular, past, past participle) of an English verb."""
    if base.endswith(("s", "sh", "ch", "x", "z", "o")):
        third = base + "es"
    elif base.endswith("y") and base[-2] not in "aeiou":
        third = base[:-1] + "ies"
    else:
        third = base + "s"
    if base in IRREGULAR:
        return (base, third, *IRREGULAR[base])
    if base.endswith("e"):
        past = base + "d"
    elif base.endswith("y") and base[-2] not in "aeiou":
        past = base[:-1] + "ied"
    elif base in DOUBLED:
        past = base + base[-1] + "ed"
    else:
        past = base + "ed"
    return base, third, past, past


class Deck:
    """Draws without replacement; reshuffles only once every item has been used."""

    def __init__(self, rng: random.Random, items: Sequence[str]):
        self.rng, self.items = rng, list(items)
        self.left: list[str] = []

    def draw(self) -> str:
        if not self.left:
            self.left = self.items[:]
            self.rng.shuffle(self.left)
        return self.left.pop()


class Slots(dict):
    """The values of one sentence's slots, drawn on first use (so a sentence costs only what it names)."""

    def __init__(self, rng: random.Random, topic: str):
        super().__init__()
        self.rng, self.vocab = rng, en.TOPICS[topic]

    def __missing__(self, key: str) -> str:
        make = MAKERS.get(key)
        if make is None:
            raise KeyError(key)
        self.update(make(self.rng, self.vocab))
        return self[key]


def _nouns(rng: random.Random, vocab: dict) -> dict[str, str]:
    (n, ns), (n2, ns2) = rng.sample(vocab["nouns"], 2)
    return {"n": n, "ns": ns, "n2": n2, "ns2": ns2}


def _verbs(rng: random.Random, vocab: dict) -> dict[str, str]:
    first, second = rng.sample(vocab["verbs"], 2)
    v, vs, vd, vp = conjugate(first)
    v2, vs2, _, _ = conjugate(second)
    return {"v": v, "vs": vs, "vd": vd, "vp": vp, "v2": v2, "vs2": vs2}


def _years(rng: random.Random, vocab: dict) -> dict[str, str]:
    year = rng.randint(1995, 2019)
    return {"year": str(year), "year2": str(year + rng.randint(3, 5))}


def _pick(name: str, options: list[str]) -> Callable[[random.Random, dict], dict[str, str]]:
    return lambda rng, vocab: {name: rng.choice(options)}


def _topic_pick(name: str, key: str) -> Callable[[random.Random, dict], dict[str, str]]:
    return lambda rng, vocab: {name: rng.choice(vocab[key])}


def _vocab_pair(key: str, name: str) -> Callable[[random.Random, dict], dict[str, str]]:
    def make(rng: random.Random, vocab: dict) -> dict[str, str]:
        first, second = rng.sample(vocab[key], 2)
        return {name: first, name + "2": second}

    return make


MAKERS: dict[str, Callable[[random.Random, dict], dict[str, str]]] = {
    **dict.fromkeys(("n", "ns", "n2", "ns2"), _nouns),
    **dict.fromkeys(("v", "vs", "vd", "vp", "v2", "vs2"), _verbs),
    **dict.fromkeys(("a", "a2"), _vocab_pair("adjectives", "a")),
    **dict.fromkeys(("x", "x2"), _vocab_pair("experts", "x")),
    **dict.fromkeys(("year", "year2"), _years),
    "role": _topic_pick("role", "roles"),
    "place": _topic_pick("place", "places"),
    "person": lambda rng, vocab: {"person": f"{rng.choice(en.FIRST_NAMES)} {rng.choice(en.LAST_NAMES)}"},
    "city": _pick("city", en.CITIES),
    "month": _pick("month", en.MONTHS),
    "weekday": _pick("weekday", en.WEEKDAYS),
    "season": _pick("season", en.SEASONS),
    "count": _pick("count", en.NUMBER_WORDS),
    "span": _pick("span", en.SPANS),
    "century": _pick("century", en.CENTURIES),
    "quarter": _pick("quarter", en.QUARTERS),
    "num": lambda rng, vocab: {"num": str(rng.randint(3, 40))},
    "big": lambda rng, vocab: {"big": f"{rng.randint(120, 9000):,}"},
    "pct": lambda rng, vocab: {"pct": str(rng.randint(5, 85))},
    "temp": lambda rng, vocab: {"temp": str(rng.choice(range(*vocab["temperatures"])))},
    "rate": lambda rng, vocab: {"rate": f"{rng.randint(5, 95) / 10:.1f}"},
    "ver": lambda rng, vocab: {"ver": f"{rng.randint(1, 5)}.{rng.randint(0, 12)}"},
    "old_year": lambda rng, vocab: {"old_year": str(rng.randint(1080, 1790))},
}


def realize(frame: str, slots: Slots, capitalise: bool = True) -> str:
    """Fill a frame, fix "a"/"an", capitalise the first letter."""
    text = AN_BEFORE.sub(r"\1n ", frame.format_map(slots))
    return text[0].upper() + text[1:] if capitalise else text


class Writer:
    """One page's sentences on one topic: frames, openers, tails and headings never repeat on the page."""

    OPENER_SHARE, TAIL_SHARE = 0.22, 0.12

    def __init__(self, rng: random.Random, topic: str):
        self.rng, self.topic = rng, topic
        self.frames = Deck(rng, en.FRAMES + en.TOPICS[topic]["frames"])
        self.openers, self.tails = Deck(rng, en.OPENERS), Deck(rng, en.TAILS)
        self.headings, self.items = Deck(rng, en.HEADINGS), Deck(rng, en.LIST_ITEMS)

    def fill(self, frame: str) -> str:
        return realize(frame, Slots(self.rng, self.topic))

    def sentence(self) -> str:
        """A frame, sometimes with an opener or a tail (filled apart, so names and groups differ)."""
        frame = self.frames.draw()
        text = self.fill(frame)
        if self.rng.random() < self.TAIL_SHARE and frame.endswith(".") and ";" not in frame:
            tail = realize(self.tails.draw(), Slots(self.rng, self.topic), capitalise=False)
            text = text[:-1] + (tail if tail.startswith(",") else " " + tail) + "."
        if self.rng.random() < self.OPENER_SHARE and frame.startswith(OPENABLE) and "," not in frame[:30]:
            body = text if frame.startswith("{person}") else text[0].lower() + text[1:]
            text = self.fill(self.openers.draw()) + " " + body
        return text

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.sentence() for _ in range(sentences))

    def heading(self) -> str:
        return self.fill(self.headings.draw())

    def list_item(self) -> str:
        return self.fill(self.items.draw())

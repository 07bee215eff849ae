"""Seeded synthetic documents whose quality and domain are known, for tests and benchmarks.

Good documents are explanatory prose (or code, or worked maths); spam documents are keyword
stuffing, calls to action and link lists. Both draw on a shared filler vocabulary so a classifier
has to learn the distinction, not one giveaway word.
"""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa

TOPICS = {
    "general/science": ["photosynthesis", "plate tectonics", "the water cycle", "cell division", "magnetism"],
    "general/history_geography": ["the Roman republic", "the silk road", "river deltas", "the printing press"],
    "code": ["binary search", "hash maps", "recursion", "unit testing", "string parsing"],
    "math_reasoning": ["prime numbers", "linear equations", "the Pythagorean theorem", "probability"],
}
FILLER = ["today", "people", "world", "new", "great", "information", "page", "home", "more", "about"]
PROSE = [
    "{T} is easier to understand once we look at how its parts depend on each other.",
    "In this article we explain {t} step by step, starting from a simple example.",
    "Researchers describe {t} as a process with several stages, each with its own cause.",
    "A common mistake is to think that {t} happens all at once; in fact it takes time.",
    "To see why, consider what would change if one of the conditions were removed.",
    "This is why teachers often introduce {t} with a diagram before the formal definition.",
    "The same idea appears in other fields, which makes {t} worth learning well.",
]
CODE = [
    "def solve(items):\n    result = []\n    for item in items:\n        result.append(item * 2)\n    return result",
    "The function above shows {t}: each call handles one case and returns early when done.",
    "for i in range(len(values)):\n    if values[i] == target:\n        return i",
    "We test {t} with a small input first, then check the edge cases such as an empty list.",
]
MATH = [
    "Let x be an integer such that 3x + 5 = 20. Subtracting 5 gives 3x = 15, so x = 5.",
    "We prove the claim about {t} by induction: the base case holds, and each step preserves it.",
    "Since a^2 + b^2 = c^2, a triangle with sides 3 and 4 has hypotenuse 5.",
    "The probability of two heads in two fair tosses is 1/2 * 1/2 = 1/4, a result about {t}.",
]
SPAM = [
    "BUY NOW cheap {p} best price!!! click here",
    "free shipping on {p} limited offer order today",
    "casino bonus win big jackpot {p} sign up now",
    "home | about | contact | login | {p} | more deals",
    "hot deals {p} {p} {p} discount discount sale",
    "subscribe to our newsletter for the best {p} offers",
]
PRODUCTS = ["watches", "pills", "sneakers", "loans", "phones", "crypto"]


def make_document(rng: random.Random, good: bool, domain: str) -> str:
    if not good:
        lines = [rng.choice(SPAM).format(p=rng.choice(PRODUCTS)) for _ in range(rng.randint(4, 10))]
        lines += [" ".join(rng.choices(FILLER, k=rng.randint(3, 8)))]
        rng.shuffle(lines)
        return "\n".join(lines)
    topic = rng.choice(TOPICS[domain])
    pool = PROSE + (CODE if domain == "code" else MATH if domain == "math_reasoning" else [])
    sentences = [rng.choice(pool).format(t=topic, T=topic[0].upper() + topic[1:]) for _ in range(rng.randint(5, 9))]
    sentences.insert(rng.randint(0, len(sentences)), " ".join(rng.choices(FILLER, k=rng.randint(3, 8))) + ".")
    return "\n".join(sentences)


def make_corpus(n: int, seed: int = 0, spam_share: float = 0.4) -> list[dict[str, Any]]:
    """``n`` documents with their truth: ``good`` (bool) and ``domain`` (spam is ``other``)."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        good = rng.random() >= spam_share
        domain = rng.choice(sorted(TOPICS)) if good else "other"
        text = make_document(rng, good, domain)
        docs.append({"id": f"doc-{seed}-{i:06d}", "text": text, "good": good, "domain": domain})
    return docs


def truth_labels(docs: list[dict[str, Any]], target: str = "quality") -> pa.Table:
    """A labels table (``classifiers.label.LABEL_SCHEMA``) whose answers are the known truth:
    ``quality`` as the llama3_quality yes/no prompt, ``domain`` as the domain prompt."""
    from classifiers.label import LABEL_SCHEMA, text_hash

    rows = []
    for d in docs:
        answer = ("yes" if d["good"] else "no") if target == "quality" else d["domain"]
        rows.append(
            {
                "id": d["id"],
                "text_hash": text_hash(d["text"]),
                "label": answer,
                "score": float(d["good"]) if target == "quality" else None,
                "status": "ok",
                "raw_answer": f"{'Answer' if target == 'quality' else 'Domain'}: {answer}",
                "model": "truth",
                "prompt": "llama3_quality" if target == "quality" else "domain",
                "prompt_version": "1",
                "source": "synthetic",
                "lang": "en",
                "text": d["text"],
            }
        )
    return pa.Table.from_pylist(rows, schema=LABEL_SCHEMA)

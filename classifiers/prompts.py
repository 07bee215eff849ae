"""Versioned labelling prompts and the parsers that turn an LLM answer into a label.

A prompt's ``version`` is part of every cache key and label row: edit the wording, bump the
version, and old answers are never mixed with new ones. Parsers only accept an answer in the
requested format (or one that names exactly one valid label); anything else is ``None``,
counted as unparseable and never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Messages = list[dict[str, str]]
PromptKind = Literal["binary", "graded", "categorical"]


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    kind: PromptKind
    system: str
    template: str  # holds "{text}"
    answer_key: str  # the answer line the parser looks for: "<answer_key>: <value>"
    labels: tuple[str, ...]
    threshold: float | None = None  # graded/binary: score >= threshold is "high quality"

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def messages(self, text: str) -> Messages:
        user = self.template.format(text=text)
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]

    def parse(self, answer: str | None) -> tuple[str | None, float | None]:
        """(label, score) from an answer; (None, None) when it does not follow the format."""
        if not answer:
            return None, None
        label = self._find_label(answer)
        if label is None:
            return None, None
        if self.kind == "binary":
            return label, 1.0 if label == "yes" else 0.0
        if self.kind == "graded":
            return label, float(label)
        return label, None

    def _find_label(self, answer: str) -> str | None:
        valid = {label.lower(): label for label in self.labels}
        value = r"(\d+(?:\.\d+)?)" if self.kind == "graded" else r"([\w/&-]+)"
        keyed = re.findall(rf"{re.escape(self.answer_key)}\s*[:=]\s*\**\s*{value}", answer, flags=re.IGNORECASE)
        if keyed:  # the last answer line wins, as the prompts ask for it at the end
            return valid.get(keyed[-1].lower())
        words = re.findall(r"[\w/&-]+", answer.lower())
        if words and words[0] in valid:  # a bare answer ("No, ..." / "3") in the first word
            return valid[words[0]]
        named = {valid[w] for w in words if w in valid and self.kind == "categorical"}
        return named.pop() if len(named) == 1 else None


QUALITY_REQUIREMENTS = """\
A document meets the quality requirements when ALL of the following hold:
1. It is coherent, natural-language prose (or well-formed code or mathematics), not a list of links, \
menus, tags, keywords or boilerplate.
2. It carries information: it explains, teaches, argues, reports or reasons about something a reader \
could learn from.
3. It is not mainly advertising, spam, search-engine bait, a product listing or a login/cookie/error page.
4. It is not adult, hateful or violent content and holds no personal contact data.
5. It stands on its own: a reader understands it without the rest of the website."""

LLAMA3_QUALITY_BINARY = Prompt(
    name="llama3_quality",
    version="1",
    kind="binary",
    system="You are a careful annotator selecting web documents to pretrain a language model.",
    template=(
        QUALITY_REQUIREMENTS
        + "\n\nDocument:\n<<<\n{text}\n>>>\n\n"
        + "Does the document meet the quality requirements? Reply with one line: 'Answer: yes' or 'Answer: no'."
    ),
    answer_key="answer",
    labels=("yes", "no"),
    threshold=0.5,
)

LLAMA3_QUALITY_GRADED = Prompt(
    name="llama3_quality_graded",
    version="1",
    kind="graded",
    system="You are a careful annotator selecting web documents to pretrain a language model.",
    template=(
        QUALITY_REQUIREMENTS
        + "\n\nDocument:\n<<<\n{text}\n>>>\n\n"
        + "Rate how well the document meets the quality requirements, from 1 (none of them) to 5 (all of "
        + "them, and it is excellent reading). Reply with one line: 'Score: <1-5>'."
    ),
    answer_key="score",
    labels=("1", "2", "3", "4", "5"),
    threshold=3.0,
)

FINEWEB_EDU = Prompt(
    name="fineweb_edu",
    version="1",
    kind="graded",
    system="You are an experienced teacher judging the educational value of web pages.",
    template=(
        "Judge whether the extract below would be useful for teaching, from primary school to grade school, "
        "with an additive 5-point scale. Start at 0 and add points:\n"
        "- +1 if it gives some basic information on an educational topic, even if mixed with ads or "
        "unrelated material.\n"
        "- +1 if it covers parts of an educational topic but is disorganised, incomplete or superficial.\n"
        "- +1 if it suits educational use and introduces concepts found in school curricula in a coherent "
        "way, even if not comprehensive.\n"
        "- +1 if it is highly relevant and beneficial for learning at grade-school level: clear, focused, "
        "like a textbook chapter or tutorial, with few distractions.\n"
        "- +1 if it is outstanding for teaching at primary or grade-school level: detailed, well reasoned, "
        "easy to follow, with no off-topic content.\n\n"
        "Extract:\n<<<\n{text}\n>>>\n\n"
        "Justify your total in up to 100 words, then end with the line 'Educational score: <0-5>'."
    ),
    answer_key="educational score",
    labels=("0", "1", "2", "3", "4", "5"),
    threshold=3.0,  # FineWeb-Edu keeps documents scoring >= 3
)

DOMAINS: tuple[str, ...] = (
    "code",
    "math_reasoning",
    "multilingual",
    "general/science",
    "general/technology",
    "general/health",
    "general/history_geography",
    "general/society_politics_law",
    "general/business_finance",
    "general/arts_entertainment",
    "general/sports",
    "general/lifestyle",
    "general/education_reference",
    "other",
)
"""The knowledge taxonomy the data mix is expressed in (Llama 3: code, math & reasoning,
multilingual, and general knowledge split by topic)."""

DOMAIN_TAXONOMY = Prompt(
    name="domain",
    version="1",
    kind="categorical",
    system="You classify web documents into knowledge domains for a pretraining data mix.",
    template=(
        "Domains:\n"
        "- code: source code, programming tutorials, software documentation\n"
        "- math_reasoning: mathematics, proofs, worked problems, logic and step-by-step reasoning\n"
        "- multilingual: the document is mostly not in English (any topic)\n"
        "- general/<topic>: English general knowledge, where topic is one of science, technology, health, "
        "history_geography, society_politics_law, business_finance, arts_entertainment, sports, lifestyle, "
        "education_reference\n"
        "- other: spam, ads, navigation, or nothing to learn\n\n"
        "Document:\n<<<\n{text}\n>>>\n\n"
        "Which single domain fits the document best? Reply with one line: 'Domain: <domain>'."
    ),
    answer_key="domain",
    labels=DOMAINS,
)

PROMPTS: dict[str, Prompt] = {
    p.name: p for p in (LLAMA3_QUALITY_BINARY, LLAMA3_QUALITY_GRADED, FINEWEB_EDU, DOMAIN_TAXONOMY)
}


def get_prompt(name: str) -> Prompt:
    if name not in PROMPTS:
        raise KeyError(f"unknown prompt {name!r}; choose one of {', '.join(PROMPTS)}")
    return PROMPTS[name]

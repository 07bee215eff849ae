"""Versioned labelling prompts, and how an LLM's answer becomes a label.

A prompt's ``version`` is part of every cache key and label row: edit the wording, bump the
version, and old answers are never mixed with new ones.

Two ways to read an answer. Logprob mode (the default; Ask-LLM, Sachdeva et al. 2024): the
conversation ends with the answer prefix ("Answer:") and the label is read from the model's
next-token distribution restricted to the label set, so every document gets a label and a
calibrated score. Generation mode (servers without logprobs): parsers only accept an answer in
the requested format (or one that names exactly one valid label); anything else is ``None``,
counted as unparseable and never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
    # per label, the word(s) the model may answer with (default: the label itself); a label's probability
    # is the sum over its words, so a label can be answered the ways a model names it ("math", "algebra")
    words: tuple[str | tuple[str, ...], ...] = ()
    content_free: tuple[str, ...] = ()  # logprob mode: calibrate on these inputs (``read_probs``); () = none
    shots: tuple[tuple[str, str], ...] = ()  # examples as earlier turns of the conversation: (text, answer word)

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def answer_prefix(self) -> str:
        """Where the answer starts: the assistant's reply is prefilled with it in logprob mode."""
        return self.answer_key[0].upper() + self.answer_key[1:] + ":"

    def messages(self, text: str, prefill: bool = False) -> Messages:
        """The conversation (``shots`` as earlier user/assistant turns); ``prefill`` ends it with the
        assistant's answer prefix (logprob mode)."""
        messages = [{"role": "system", "content": self.system}]
        for shot, answer in self.shots:
            messages += [{"role": "user", "content": self.template.format(text=shot)},
                         {"role": "assistant", "content": f"{self.answer_prefix} {answer}"}]  # fmt: skip
        messages.append({"role": "user", "content": self.template.format(text=text)})
        return messages + [{"role": "assistant", "content": self.answer_prefix}] if prefill else messages

    def answer_words(self) -> dict[str, tuple[str, ...]]:
        """label -> the words that answer it."""
        return {label: (w,) if isinstance(w, str) else w for label, w in zip(self.labels, self.words or self.labels)}

    def continuations(self) -> dict[str, tuple[str, ...]]:
        """label -> the texts that answer it right after the prefix (" yes", " Yes"): their
        probabilities add up to the label's."""
        return {
            label: tuple(dict.fromkeys(t for w in words for t in (" " + w, " " + w[0].upper() + w[1:])))
            for label, words in self.answer_words().items()
        }

    def read_probs(self, probs: dict[str, float], calibration: dict[str, float] | None = None) -> Reading:
        """Label, score and label-set mass from the probability of each label's answer.

        binary: P(yes) renormalised over the label set is the score; graded: the expected grade;
        categorical: the most likely label (score None, every label's probability kept).
        ``calibration``: the label probabilities given content-free inputs (``content_free``); each
        label's probability is divided by its own there and renormalised (contextual calibration,
        Zhao et al. 2021, "Calibrate Before Use"), which removes the prompt's bias towards one answer.
        """
        mass = float(sum(probs.get(label, 0.0) for label in self.labels))
        norm = normalise({label: probs.get(label, 0.0) for label in self.labels})
        if calibration:
            norm = normalise({label: p / max(calibration[label], 1e-9) for label, p in norm.items()})
        best = max(self.labels, key=lambda label: (norm[label], -self.labels.index(label)))
        if self.kind == "binary":
            score: float | None = norm["yes"]
        elif self.kind == "graded":
            score = float(sum(float(label) * p for label, p in norm.items()))
        else:
            score = None
        return Reading(best, score, mass, norm)

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
        valid.update({word.lower(): label for label, words in self.answer_words().items() for word in words})
        value = r"(\d+(?:\.\d+)?)" if self.kind == "graded" else r"([\w/&-]+)"
        keyed = re.findall(rf"{re.escape(self.answer_key)}\s*[:=]\s*\**\s*{value}", answer, flags=re.IGNORECASE)
        if keyed:  # the last answer line wins, as the prompts ask for it at the end
            return valid.get(keyed[-1].lower())
        words = re.findall(r"[\w/&-]+", answer.lower())
        if words and words[0] in valid:  # a bare answer ("No, ..." / "3") in the first word
            return valid[words[0]]
        named = {valid[w] for w in words if w in valid and self.kind == "categorical"}
        return named.pop() if len(named) == 1 else None


def normalise(probs: dict[str, float]) -> dict[str, float]:
    """Probabilities scaled to sum to 1 (uniform when they are all 0)."""
    total = sum(probs.values())
    return {k: v / total if total > 0 else 1.0 / len(probs) for k, v in probs.items()}


@dataclass(frozen=True)
class Reading:
    """A logprob-mode label: ``probs`` over the label set sums to 1; ``mass`` is how much of the
    next-token probability the label set held before renormalising (low = the model meant something else)."""

    label: str
    score: float | None
    mass: float
    probs: dict[str, float]


QUALITY_REQUIREMENTS = """\
A document meets the quality requirements when ALL of the following hold:
1. It is coherent, natural-language prose (or well-formed code or mathematics), not a list of links, \
menus, tags, keywords or boilerplate.
2. It carries information: it explains, teaches, argues, reports or reasons about something a reader \
could learn from.
3. It is not mainly advertising, spam, search-engine bait, a product listing or a login/cookie/error page.
4. It is not adult, hateful or violent content and holds no personal contact data.
5. It stands on its own: a reader understands it without the rest of the website."""

QUALITY_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Volcanoes form where molten rock reaches the surface. Most of them lie along the edges of tectonic plates, "
     "where one plate sinks beneath another and melts. Over many eruptions, layers of lava and ash build the cone.",
     "yes"),
    ("cheap flights cheap hotels best deals book now cheap flights discount hotel deals click here best price "
     "guaranteed cheap flights book now", "no"),
    ("To sort a list in Python, call sorted(items), which returns a new list:\n\nwords = ['pear', 'fig', 'apple']\n"
     "print(sorted(words, key=len))\n\nThe key function decides the order; here shorter words come first.", "yes"),
    ("Best casino sites | Online poker bonus | Free slots | Sports betting tips | Loan offers | Cheap insurance | "
     "Dating site reviews | More links", "no"),
    ("A train travels 180 km in 2 hours. Its average speed is distance divided by time: 180 / 2 = 90 km/h. At that "
     "speed, the next 45 km take 45 / 90 = 0.5 hours, or 30 minutes.", "yes"),
    ("Leather boots black size 42 - $59.99\nRunning shoes blue - $34.50\nWool scarf grey - $12.00\n"
     "Sports watch 200 - $89.99\nAdd to cart", "no"),
    ("The city council voted on Tuesday to extend the library's opening hours. Members said the change, funded by a "
     "state grant, answers requests from students who study in the evenings.", "yes"),
    ("home\nnews\nsports tickets\nweather\nlogin\ncontact us\nprivacy\nterms\nfollow us\nshare", "no"),
)
"""Fixed few-shot examples of the binary quality prompt, written for this project (not drawn from any
test crawl): a good document of each kind the requirements accept (prose, code, worked maths, news)
and a bad one of each kind they reject (keyword stuffing, a link list, a product listing, a menu),
alternating so neither answer is always the last one seen. Examples in the prompt (Brown et al.
2020) give a small model something to compare with: SmolLM2-135M's P(yes) on wikitext-2 articles
against a generated crawl's spam went from ROC AUC 0.50 (version 1, instructions only) to 0.89, and
on that crawl's good pages against its spam from 0.30 to 0.57 (seed 5, 400 characters; version 1's
wording with these examples: 0.77 and 0.54). The shared prefix cache (``backends``) computes them once."""


CONTENT_FREE = ("N/A", "", "[MASK]")
"""Zhao et al. 2021's content-free inputs: the mean label probabilities given them are the prompt's
own bias. SmolLM2-135M answers the few-shot quality prompt with P(yes) 0.31 on them, and 0.26-0.44 on
real pages; dividing it out centres the soft labels on 0.5, so the classifier's soft target (P(high)
in tenths) keeps their order: on the tests' crawl its AUC went from 0.25 to 0.50."""


def few_shot(examples: Sequence[tuple[str, str]], answer_prefix: str) -> str:
    """The examples as documents answered in the prompt's own format (braces escaped for ``format``)."""
    shots = "".join(f"Document:\n<<<\n{text}\n>>>\n{answer_prefix} {answer}\n\n" for text, answer in examples)
    return shots.replace("{", "{{").replace("}", "}}")


QUALITY_QUESTION = "Is each document written in complete, connected sentences that explain something?"
"""The binary quality prompt's question (version 3). Version 2 asked "Does each document meet the quality
requirements (coherent, informative prose, code or maths; not spam, ads, links, menus or lists)?" with
the same examples: a question about the document's form is one a 135M model can answer. SmolLM2-135M's
calibrated P(yes), every page of two generated crawls (400 pages, seeds 7 and 11, not the tests' seed 3;
400 characters, configs/multilingual.yaml), good pages against spam: ROC AUC 0.69 and 0.70 with this
question against 0.59 and 0.60 with version 2's; the fastText model trained on 60 of those labels, as
tests/test_demo.py trains it: 0.74 and 0.83 against 0.55 and 0.65. Product listings still get the
highest P(yes) of all kinds (0.64-0.65)."""

LLAMA3_QUALITY_BINARY = Prompt(
    name="llama3_quality",
    version="3",  # 1: the requirements and the question, no examples; 2: the examples (QUALITY_QUESTION)
    kind="binary",
    system="You are a careful annotator selecting web documents to pretrain a language model.",
    template=QUALITY_QUESTION + "\n\n" + few_shot(QUALITY_EXAMPLES, "Answer:") + "Document:\n<<<\n{text}\n>>>",
    answer_key="answer",
    labels=("yes", "no"),
    threshold=0.5,
    content_free=CONTENT_FREE,
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

LANGUAGE_WORDS: tuple[str, ...] = (
    "french", "german", "polish", "Spanish", "Italian", "Portuguese", "Dutch", "Russian", "Swedish", "Turkish",
    "Chinese", "Japanese", "Korean", "Arabic", "Czech", "Danish", "Finnish", "Greek", "Hindi", "Indonesian",
    "Vietnamese", "Romanian", "Hungarian", "Ukrainian", "Norwegian", "Persian", "Thai", "Hebrew",
)  # fmt: skip
"""Common web languages: a non-English document is answered by its language, and every language
answers ``multilingual``. Lower-case (the examples' style, which the model follows) where that is one
token for SmolLM2, capitalised otherwise (" spanish" is two tokens, " Spanish" one; the capital form of
every word is counted too). SmolLM2-135M puts next to no mass on the word "multilingual" for a
non-English page, and most of what it gives a language to " french" whatever the language."""

DOMAIN_WORDS: tuple[tuple[str, ...], ...] = (
    ("code", "programming", "software", "python", "web", "computer", "computing", "developer", "coding"),
    ("math", "mathematics", "algebra", "geometry"),
    LANGUAGE_WORDS,
    ("science", "physics", "biology", "chemistry"),
    ("technology", "tech", "computers"),
    ("health", "medicine", "medical"),
    ("history", "geography"),
    ("society", "politics", "law"),
    ("business", "finance", "economics"),
    ("arts", "art", "music", "film"),
    ("sports", "sport"),
    ("lifestyle", "food", "travel", "fashion"),
    ("education", "reference"),
    ("other",),
)
"""The words that answer each domain (one token each, and their capitalised forms, for SmolLM2's
tokenizer, so one forward pass reads them all): the domain's name and the words the bundled model
answers for it (its most likely next words on pages of each kind), so the label set holds more of its
probability.

Version 4 added "web", "computer", "computing", "developer" and "coding" to code. On pages about
programming SmolLM2-135M spreads its answer over science (about 5%), code, software, tech, web and
data (2-3% each), so version 3 called 46 of 80 code pages and 37 of 80 programming articles code.
With the new words: 62 and 63, and still none of 160 general English pages (crawls of seeds 7 and 11,
first 400 characters; chosen there, not on the demo's seed 0 or the tests' 3)."""

DOMAIN_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("def mean(values):\n    return sum(values) / len(values)\n\nCall mean([2, 4, 6]) to get 4.0. Tests in pytest "
     "go in files named test_*.py.", "code"),
    ("Der Bahnhof liegt im Zentrum der Stadt. Jeden Morgen fahren die Züge nach Berlin und München, und viele "
     "Pendler trinken dort ihren Kaffee.", "german"),
    ("Let n be an even integer, so n = 2k. Then n^2 = 4k^2 = 2(2k^2), which is even. Hence the square of an even "
     "number is even.", "math"),
    ("The heart pumps blood through the arteries. Regular exercise and sleep lower blood pressure, and doctors "
     "advise a check-up every year.", "health"),
    ("Our team moved the service to a new framework last year. The build is faster, the API is cleaner, and "
     "reviewers merge pull requests within a day.", "code"),
    ("La ville fête son saint patron en août. Les rues se remplissent de musique et les voisins préparent un repas "
     "pour tout le quartier.", "french"),
    ("The striker scored twice in the second half, and the team moved to the top of the league table before the "
     "final match.", "sports"),
    ("A shop sells pens at 3 dollars each. Buying 7 pens costs 7 x 3 = 21 dollars; with a 10% discount the price "
     "is 21 - 2.1 = 18.9 dollars.", "math"),
    ("cheap watches best price buy now free shipping cheap watches discount click here", "other"),
    ("The empire fell in the fifth century, and the region was divided among kingdoms whose borders still shape "
     "the map of Europe.", "history"),
)
"""Fixed few-shot examples of the domain prompt, written for this project (not drawn from any test
crawl): code (a snippet, and prose about software), worked maths and a proof, two non-English pages
answered by their language, general topics and spam. They are earlier turns of the conversation
(``Prompt.shots``): SmolLM2-135M follows a dialogue of answered documents far better than examples
inside one message (benchmarks/label.py, ``domain`` section)."""

DOMAIN_TAXONOMY = Prompt(
    name="domain",
    # 4: more words answer code (DOMAIN_WORDS); 3: these examples;
    # 2: instructions only, ending "Reply with one line: 'Domain: <domain>'" (the model copied "<")
    version="4",
    kind="categorical",
    system=(
        "You classify web documents into knowledge domains for a pretraining data mix: code, math, science, "
        "technology, health, history, society, business, arts, sports, lifestyle, education, other (spam, ads, "
        "navigation), or, for a document not in English, its language (french, german, Spanish, ...)."
    ),
    template="Document:\n{text}\n\nWhich domain is this document?",
    answer_key="domain",
    labels=DOMAINS,
    words=DOMAIN_WORDS,
    shots=DOMAIN_EXAMPLES,
)

PROMPTS: dict[str, Prompt] = {
    p.name: p for p in (LLAMA3_QUALITY_BINARY, LLAMA3_QUALITY_GRADED, FINEWEB_EDU, DOMAIN_TAXONOMY)
}


def get_prompt(name: str) -> Prompt:
    if name not in PROMPTS:
        raise KeyError(f"unknown prompt {name!r}; choose one of {', '.join(PROMPTS)}")
    return PROMPTS[name]

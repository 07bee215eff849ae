"""Fast checks of the labelling pieces: answer parsing, stratified sampling, the cache, retries."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow as pa
import pytest

from classifiers.backends import OpenAIBackend, RequestFailed
from classifiers.cache import AnswerCache
from classifiers.label import sample_documents
from classifiers.prompts import DOMAIN_TAXONOMY, FINEWEB_EDU, LLAMA3_QUALITY_BINARY, LLAMA3_QUALITY_GRADED, PROMPTS


@pytest.mark.parametrize(
    ("prompt", "answer", "expected"),
    [
        (LLAMA3_QUALITY_BINARY, "Answer: yes", ("yes", 1.0)),
        (LLAMA3_QUALITY_BINARY, "No, it is an advert.", ("no", 0.0)),
        (LLAMA3_QUALITY_BINARY, "The document is fine, I think.", (None, None)),
        (LLAMA3_QUALITY_BINARY, "Answer: maybe", (None, None)),
        (LLAMA3_QUALITY_GRADED, "Solid prose.\nScore: **4**", ("4", 4.0)),
        (LLAMA3_QUALITY_GRADED, "Score: 7", (None, None)),
        (FINEWEB_EDU, "Basic facts, some ads.\nEducational score: 2", ("2", 2.0)),
        (FINEWEB_EDU, "Points: 1, then 2... Educational score: 3.", ("3", 3.0)),
        (FINEWEB_EDU, "It meets the requirements of 4.", (None, None)),
        (DOMAIN_TAXONOMY, "Domain: general/science", ("general/science", None)),
        (DOMAIN_TAXONOMY, "This is clearly code.", ("code", None)),
        (DOMAIN_TAXONOMY, "Either code or math_reasoning.", (None, None)),
        (DOMAIN_TAXONOMY, "Domain: <domain>", (None, None)),
        (DOMAIN_TAXONOMY, "Domain: French", ("multilingual", None)),  # any of a label's words answers it
        (DOMAIN_TAXONOMY, "Domain: algebra", ("math_reasoning", None)),
        (DOMAIN_TAXONOMY, "", (None, None)),
    ],
)
def test_parse_answers(prompt, answer, expected):
    assert prompt.parse(answer) == expected


def test_prompts_are_versioned_and_hold_the_text():
    for prompt in PROMPTS.values():
        assert prompt.id == f"{prompt.name}@{prompt.version}"
        messages = prompt.messages("SOME DOCUMENT TEXT")
        assert messages[0]["role"] == "system" and "SOME DOCUMENT TEXT" in messages[-1]["content"]
        assert [m["role"] for m in messages[1:]] == ["user", "assistant"] * len(prompt.shots) + ["user"]


def test_shots_are_answered_turns_and_every_word_of_a_label_counts():
    messages = DOMAIN_TAXONOMY.messages("SOME DOCUMENT TEXT", prefill=True)
    assert messages[-1] == {"role": "assistant", "content": "Domain:"}
    text, answer = DOMAIN_TAXONOMY.shots[0]
    assert text in messages[1]["content"] and messages[2]["content"] == f"Domain: {answer}"
    continuations = DOMAIN_TAXONOMY.continuations()
    assert {" french", " French", " Spanish"} <= set(continuations["multilingual"])
    assert " algebra" in continuations["math_reasoning"]
    every = [t for texts in continuations.values() for t in texts]
    assert len(every) == len(set(every))  # no word answers two labels


def docs_table(n: int) -> pa.Table:
    return pa.table(
        {
            "id": [f"d{i:04d}" for i in range(n)],
            "text": [f"text {i}" for i in range(n)],
            "source": ["a" if i % 10 < 7 else "b" for i in range(n)],
            "lang": ["en" if i % 2 else "fr" for i in range(n)],
        }
    )


def test_sampling_is_stratified_seeded_and_order_free():
    docs = docs_table(1000)
    sample = sample_documents(docs, 100, seed=0, stratify_by=["source", "lang"])
    assert sample.num_rows == 100 and len(set(sample.column("id").to_pylist())) == 100
    sources = sample.column("source").to_pylist()
    assert sources.count("a") == 70 and sources.count("b") == 30
    shuffled = docs.take(list(reversed(range(1000))))
    assert sample_documents(shuffled, 100, 0, ["source", "lang"]).equals(sample)
    assert not sample_documents(docs, 100, 1, ["source", "lang"]).equals(sample)
    tiny = sample_documents(docs, 4, 0, ["source", "lang"])  # every stratum is represented
    assert len(set(zip(tiny.column("source").to_pylist(), tiny.column("lang").to_pylist()))) == 4


def test_cache_survives_a_torn_line(tmp_path):
    path = str(tmp_path / "c.jsonl")
    with AnswerCache(path) as cache:
        cache.append({"key": "a", "raw": "Answer: yes"})
    with open(path, "ab") as f:
        f.write(b'{"key": "b", "raw": "Ans')  # killed mid-write
    with AnswerCache(path) as cache:
        assert "a" in cache and "b" not in cache
        cache.append({"key": "c", "raw": "Answer: no"})
    with AnswerCache(path) as cache:
        assert sorted(cache.entries) == ["a", "c"]


class FlakyHandler(BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` requests, then a chat completion; 400 for model 'bad'."""

    failures = 2
    calls = 0

    def log_message(self, *args):
        return

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls += 1
        if body["model"] == "bad":
            status, payload = 400, {"error": {"message": "unknown model"}}
        elif type(self).calls <= self.failures:
            status, payload = 503, {"error": {"message": "overloaded"}}
        else:
            status, payload = 200, {"choices": [{"message": {"role": "assistant", "content": "Answer: yes"}}]}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def flaky_server():
    FlakyHandler.calls = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_retries_with_backoff_then_succeeds(flaky_server):
    backend = OpenAIBackend(flaky_server, model="m", max_retries=3, backoff_s=0.01)
    assert backend.chat([{"role": "user", "content": "hi"}]) == "Answer: yes"
    assert FlakyHandler.calls == 3


def test_client_errors_are_not_retried(flaky_server):
    backend = OpenAIBackend(flaky_server, model="bad", max_retries=3, backoff_s=0.01)
    results = list(backend.stream([("k", [{"role": "user", "content": "hi"}])]))
    assert isinstance(results[0][1], RequestFailed) and "HTTP 400" in str(results[0][1])
    assert FlakyHandler.calls == 1

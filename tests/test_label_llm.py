"""Labelling with a real LLM (SmolLM2-135M-Instruct): locally, and through ``classifiers.serve`` over HTTP.

Logprob mode must give every document a label (parse rate 100%) with probabilities that are the
model's own: batched equals one at a time (left padding shifts nothing), multi-token labels equal
a full forward pass, and the server's ``top_logprobs`` equal the local backend's. The answer cache
survives a SIGKILL and a re-run asks for nothing cached.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from classifiers.backends import OpenAIBackend, http_json
from classifiers.cache import AnswerCache
from classifiers.label import label
from classifiers.prompts import DOMAIN_TAXONOMY, DOMAINS, LLAMA3_QUALITY_BINARY, Prompt
from classifiers.synthetic import make_corpus
from curation.io import fs
from curation.schema import make_documents

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def write_run(run_dir: Path, n: int) -> str:
    docs = make_corpus(n, seed=11)
    table = make_documents(
        {
            "id": [d["id"] for d in docs],
            "text": [d["text"][:300] for d in docs],  # short documents keep the tiny model fast
            "source": ["web" if i % 3 else "forum" for i in range(n)],
            "lang": ["en"] * n,
        }
    )
    fs.write_parquet(table, str(run_dir / "docs" / "part-000000.parquet"))
    return str(run_dir)


def metric(base_url: str, name: str) -> int:
    text = urllib.request.urlopen(base_url.removesuffix("/v1") + "/metrics", timeout=10).read().decode()
    values = dict(line.split() for line in text.splitlines() if line)
    return int(values.get(f"llm_{name}_total", 0))


def assert_every_label_read(rows: list[dict], labels: tuple[str, ...]) -> None:
    """Parse rate 100%: every row has a label of the set, probabilities summing to 1 and a mass."""
    assert rows and all(r["status"] == "ok" and r["mode"] == "logprob" for r in rows)
    for row in rows:
        probs = json.loads(row["label_probs"])
        assert set(probs) == set(labels) and math.isclose(sum(probs.values()), 1.0, abs_tol=1e-4)
        assert row["label"] == max(probs, key=probs.get) and 0 < row["label_mass"] <= 1.0001
        if "yes" in labels:
            assert math.isclose(row["score"], probs["yes"], abs_tol=1e-4)


@pytest.fixture(scope="module")
def llm_server():
    """``python -m classifiers.serve`` on a free port of 127.0.0.1, stopped after the module."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "classifiers.serve", "--port", "0", "--batch-size", "4"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # printed once the model is loaded and the port is bound
        assert line.startswith("serving"), f"server did not start: {line!r}"
        yield line.split(" on ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_local_logprob_labels_every_document(tmp_path, bundled_llm):
    run_dir = write_run(tmp_path / "run", 6)
    out = str(tmp_path / "labels.parquet")
    first = label(run_dir, out, prompt=LLAMA3_QUALITY_BINARY, backend=bundled_llm, samples=6)
    free = LLAMA3_QUALITY_BINARY.content_free
    assert first["ok"] == 6 and first["unparseable"] == first["failed"] == 0 and first["requested"] == 6 + len(free)
    table = pq.read_table(out)
    assert_every_label_read(table.to_pylist(), ("yes", "no"))
    # contextual calibration: each label's probability divided by its mean over the content-free inputs
    row, continuations = table.to_pylist()[0], LLAMA3_QUALITY_BINARY.continuations()
    free_probs = bundled_llm.label_probs([LLAMA3_QUALITY_BINARY.messages(t, True) for t in free], continuations)
    bias = {k: np.mean([p[k] / (p["yes"] + p["no"]) for p in free_probs]) for k in ("yes", "no")}
    assert first["calibration"] == pytest.approx(bias, abs=1e-3)
    p = bundled_llm.label_probs([LLAMA3_QUALITY_BINARY.messages(row["text"], True)], continuations)[0]
    odds = p["yes"] / bias["yes"] / (p["no"] / bias["no"])
    assert row["score"] == pytest.approx(odds / (1 + odds), abs=1e-3)
    assert table.column("model").to_pylist() == ["SmolLM2-135M-Instruct"] * 6
    again = label(run_dir, out, prompt=LLAMA3_QUALITY_BINARY, backend=bundled_llm, samples=6)
    assert again["requested"] == 0 and pq.read_table(out).equals(table)

    domains = label(run_dir, str(tmp_path / "domain.parquet"), prompt=DOMAIN_TAXONOMY, backend=bundled_llm, samples=6)
    assert domains["ok"] == 6
    assert_every_label_read(pq.read_table(tmp_path / "domain.parquet").to_pylist(), DOMAINS)


def test_batched_logprobs_equal_one_at_a_time_and_a_full_forward_pass(bundled_llm):
    """Neither left padding nor the cached shared prefix may move anything; labels of several tokens are
    scored token by token."""
    import torch

    texts = ["A short note.", "BUY NOW cheap pills click here " * 3, make_corpus(1, seed=3)[0]["text"][:200]]
    batch = [LLAMA3_QUALITY_BINARY.messages(t, prefill=True) for t in texts]
    continuations = [" yes", " no", " general/science", " history_geography"]  # the last two: several tokens
    together = bundled_llm.continuation_logprobs(batch, continuations)
    for i, messages in enumerate(batch):
        alone = bundled_llm.continuation_logprobs([messages], continuations)[0]
        np.testing.assert_allclose(together[i], alone, atol=2e-3)
    enc = bundled_llm.encode(batch[:1], prefill=True)  # the most padded one, against plain passes
    assert enc.cached > 100 and enc.cache.get_seq_length() == enc.cached  # the instructions come from the prefix cache
    prompt = enc.input_ids
    for j, text in enumerate(continuations):
        ids = bundled_llm.tokenizer.encode(text, add_special_tokens=False)
        with torch.inference_mode():
            logits = bundled_llm.lm(input_ids=torch.cat([prompt, torch.tensor([ids])], 1)).logits[0]
        logp = torch.log_softmax(logits.float(), -1)
        expected = sum(float(logp[prompt.shape[1] - 1 + k, t]) for k, t in enumerate(ids))
        assert abs(together[0][j] - expected) < 2e-3, (text, together[0][j], expected)


def test_server_returns_logprobs_like_vllm(llm_server, bundled_llm):
    messages = LLAMA3_QUALITY_BINARY.messages("The water cycle moves water between sea, air and land.", prefill=True)
    payload = {"messages": messages, "max_tokens": 1, "temperature": 0, "logprobs": True, "top_logprobs": 5,
               "add_generation_prompt": False, "continue_final_message": True}
    body = http_json(f"{llm_server}/chat/completions", payload, None, 120)
    content = body["choices"][0]["logprobs"]["content"]
    assert len(content) == 1 and len(content[0]["top_logprobs"]) == 5
    top = {t["token"]: t["logprob"] for t in content[0]["top_logprobs"]}
    assert content[0]["token"] == max(top, key=top.get)  # greedy: the most likely token is the answer
    single = [t for t in top if len(bundled_llm.tokenizer.encode(t, add_special_tokens=False)) == 1]
    assert " yes" in single or " no" in single
    local = bundled_llm.continuation_logprobs([messages], single)[0]
    np.testing.assert_allclose(local, [top[t] for t in single], atol=2e-3)  # the same model reads the same numbers
    bad = dict(payload, add_generation_prompt=True)
    with pytest.raises(urllib.error.HTTPError):
        http_json(f"{llm_server}/chat/completions", bad, None, 30)


def test_label_through_server_survives_kill(tmp_path, llm_server):
    n = 10
    run_dir = write_run(tmp_path / "run", n)
    out = str(tmp_path / "labels.parquet")
    cache = tmp_path / "labels.cache.jsonl"
    cmd = [
        sys.executable, "-m", "curation.cli", "label", run_dir, "--out", out, "--prompt", "llama3_quality",
        "--base-url", llm_server, "--samples", str(n), "--concurrency", "1",
    ]  # fmt: skip
    free = len(LLAMA3_QUALITY_BINARY.content_free)  # the calibration's content-free inputs: asked first, cached too
    job = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and job.poll() is None:
        if cache.exists() and cache.read_bytes().count(b"\n") >= free + 3:
            job.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    job.wait(timeout=30)
    assert job.returncode == -signal.SIGKILL, job.stderr.read().decode()
    assert not os.path.exists(out)
    with AnswerCache(str(cache)) as answers:
        cached = len(answers)
    assert free + 3 <= cached < free + n

    before = metric(llm_server, "chat_requests")
    resumed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert metric(llm_server, "chat_requests") - before == free + n - cached  # nothing cached was asked again
    summary = json.loads(resumed.stdout)
    assert summary["ok"] == n and summary["unparseable"] == 0 and summary["mode"] == "logprob"

    rows = pq.read_table(out).to_pylist()
    assert len(rows) == n and len({r["id"] for r in rows}) == n
    assert_every_label_read(rows, ("yes", "no"))
    assert {(r["model"], r["prompt"], r["prompt_version"]) for r in rows} == {
        ("SmolLM2-135M-Instruct", "llama3_quality", LLAMA3_QUALITY_BINARY.version)
    }

    # A third run is served entirely from the cache.
    before = metric(llm_server, "chat_requests")
    backend = OpenAIBackend(llm_server, concurrency=1)
    again = label(run_dir, out, prompt=LLAMA3_QUALITY_BINARY, backend=backend, samples=n)
    assert again["requested"] == 0 and again["cached"] == n
    assert metric(llm_server, "chat_requests") == before


def test_generation_mode_still_works_through_the_server(tmp_path, llm_server):
    """Servers without logprobs: the answer is generated and parsed; unparseable ones are counted."""
    run_dir = write_run(tmp_path / "run", 3)
    backend = OpenAIBackend(llm_server, max_tokens=6, concurrency=2)
    summary = label(run_dir, str(tmp_path / "gen.parquet"), prompt=LLAMA3_QUALITY_BINARY, backend=backend,
                    samples=3, max_tokens=6, mode="generate")
    assert summary["requested"] == 3 and summary["ok"] + summary["unparseable"] == 3 and summary["failed"] == 0
    rows = pq.read_table(tmp_path / "gen.parquet").to_pylist()
    assert all(r["raw_answer"] is not None and r["mode"] == "generate" for r in rows)


def test_multi_token_labels_over_http_count_their_first_token():
    from classifiers.backends import label_probs_from_top

    prompt = Prompt("t", "1", "categorical", "", "{text}", "domain", ("general/science", "code"))
    top = [(" general", math.log(0.5)), (" code", math.log(0.25)), (" Code", math.log(0.125)), ("!", -1.0)]
    assert label_probs_from_top(top, prompt.continuations()) == {"general/science": 0.5, "code": 0.375}

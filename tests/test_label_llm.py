"""Labelling with a real LLM (SmolLM2-135M-Instruct): through ``classifiers.serve`` over HTTP, and locally.

The model is far too small for good labels; these tests check the path: prompts, parsing,
the answer cache, and resume after a SIGKILL without re-asking for anything cached.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from classifiers.backends import OpenAIBackend, TransformersBackend
from classifiers.cache import AnswerCache
from classifiers.label import label
from classifiers.prompts import LLAMA3_QUALITY_BINARY
from classifiers.synthetic import make_corpus
from curation.io import fs
from curation.schema import make_documents

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def write_run(run_dir: Path, n: int) -> str:
    docs = make_corpus(n, seed=11)
    for d in docs:  # short documents keep the tiny model fast
        d["text"] = d["text"][:300]
    table = make_documents(
        {
            "id": [d["id"] for d in docs],
            "text": [d["text"] for d in docs],
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


def test_label_through_server_survives_kill(tmp_path, llm_server):
    n = 10
    run_dir = write_run(tmp_path / "run", n)
    out = str(tmp_path / "labels.parquet")
    cache = tmp_path / "labels.cache.jsonl"
    cmd = [
        sys.executable, "-m", "curation.cli", "label", run_dir, "--out", out, "--prompt", "llama3_quality",
        "--base-url", llm_server, "--samples", str(n), "--max-tokens", "8", "--concurrency", "1",
    ]  # fmt: skip
    job = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and job.poll() is None:
        if cache.exists() and cache.read_bytes().count(b"\n") >= 3:
            job.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    job.wait(timeout=30)
    assert job.returncode == -signal.SIGKILL, job.stderr.read().decode()
    assert not os.path.exists(out)
    with AnswerCache(str(cache)) as answers:
        cached = len(answers)
    assert 3 <= cached < n

    before = metric(llm_server, "chat_requests")
    resumed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert metric(llm_server, "chat_requests") - before == n - cached  # nothing cached was asked again

    labels = pq.read_table(out).to_pylist()
    assert len(labels) == n and len({r["id"] for r in labels}) == n
    assert {r["status"] for r in labels} <= {"ok", "unparseable"}
    for row in labels:
        assert row["model"] == "SmolLM2-135M-Instruct" and row["prompt_version"] == "1"
        assert row["raw_answer"] is not None
        if row["status"] == "ok":
            assert row["label"] in ("yes", "no") and row["score"] in (0.0, 1.0)
        else:
            assert row["label"] is None and row["score"] is None

    # A third run is served entirely from the cache.
    before = metric(llm_server, "chat_requests")
    backend = OpenAIBackend(llm_server, max_tokens=8, concurrency=1)
    again = label(run_dir, out, prompt=LLAMA3_QUALITY_BINARY, backend=backend, samples=n, max_tokens=8)
    assert again["requested"] == 0 and again["cached"] == n
    assert metric(llm_server, "chat_requests") == before


def test_label_with_local_transformers_backend(tmp_path):
    run_dir = write_run(tmp_path / "run", 6)
    out = str(tmp_path / "labels.parquet")
    backend = TransformersBackend(batch_size=3, max_tokens=8)
    first = label(run_dir, out, prompt=LLAMA3_QUALITY_BINARY, backend=backend, samples=4, max_tokens=8)
    assert first["sampled"] == 4 and first["requested"] == 4 and first["failed"] == 0
    assert first["ok"] + first["unparseable"] == 4
    table = pq.read_table(out)
    assert table.column("model").to_pylist() == ["SmolLM2-135M-Instruct"] * 4
    again = label(run_dir, out, prompt=LLAMA3_QUALITY_BINARY, backend=backend, samples=4, max_tokens=8)
    assert again["requested"] == 0 and pq.read_table(out).equals(table)

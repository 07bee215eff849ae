"""A small, real OpenAI-compatible HTTP server over the ``transformers`` backend.

For CPU users and tests where vLLM / llama.cpp are not installed. Concurrent requests are
gathered into batches (up to ``--batch-size``, waiting ``--batch-wait-ms`` for company) and
generated together. Endpoints: ``GET /v1/models``, ``POST /v1/chat/completions``,
``POST /v1/completions``, ``GET /health`` and ``GET /metrics`` (Prometheus text: request and
token counters, so a client can check exactly how many requests it sent). ``logprobs`` /
``top_logprobs`` come back as vLLM returns them, and vLLM's ``continue_final_message`` continues a
prefilled assistant message (how logprob labelling asks for the token after "Answer:").

    python -m classifiers.serve --model <HF id, folder or .gguf> --port 8000 --host 127.0.0.1
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from classifiers.backends import Generation, TransformersBackend
from classifiers.prompts import Messages


@dataclass
class Job:
    messages: Messages
    max_tokens: int
    temperature: float
    top_logprobs: int | None = None  # None: no logprobs
    prefill: bool = False  # continue the final (assistant) message
    future: Future = field(default_factory=Future)

    @property
    def settings(self) -> tuple[int, float, int | None, bool]:
        return self.max_tokens, self.temperature, self.top_logprobs, self.prefill


class Batcher:
    """One generation thread: takes queued jobs in batches with equal sampling settings."""

    def __init__(self, backend: TransformersBackend, batch_size: int, wait_s: float):
        self.backend = backend
        self.batch_size = batch_size
        self.wait_s = wait_s
        self.jobs: queue.Queue[Job] = queue.Queue()
        self.metrics: Counter[str] = Counter()
        self.lock = threading.Lock()
        threading.Thread(target=self._loop, daemon=True, name="generate").start()

    def submit(self, job: Job) -> Generation:
        self.jobs.put(job)
        return job.future.result()

    def count(self, **increments: int) -> None:
        with self.lock:
            self.metrics.update(increments)

    def _loop(self) -> None:
        while True:
            batch = [self.jobs.get()]
            deadline = time.monotonic() + self.wait_s
            while len(batch) < self.batch_size:
                try:
                    batch.append(self.jobs.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            groups: dict[tuple[int, float, int | None, bool], list[Job]] = {}
            for job in batch:
                groups.setdefault(job.settings, []).append(job)
            for (max_tokens, temperature, top_logprobs, prefill), jobs in groups.items():
                try:
                    outs = self.backend.generate(
                        [j.messages for j in jobs], max_tokens, temperature, top_logprobs, prefill
                    )
                except Exception as err:  # reported to each waiting request as a 500
                    for job in jobs:
                        job.future.set_exception(err)
                    continue
                self.count(
                    batches=1,
                    prompt_tokens=sum(o.prompt_tokens for o in outs),
                    completion_tokens=sum(o.completion_tokens for o in outs),
                )
                for job, out in zip(jobs, outs):
                    job.future.set_result(out)


def apply_stop(text: str, stop: str | list[str] | None) -> tuple[str, bool]:
    """Cut ``text`` at the first stop string (the OpenAI ``stop`` parameter)."""
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    cuts = [text.index(s) for s in stops if s and s in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


def chat_logprobs(out: Generation) -> dict[str, Any]:
    """``choices[].logprobs`` of a chat completion, as OpenAI and vLLM write it."""

    def entry(token: str, logprob: float) -> dict[str, Any]:
        return {"token": token, "logprob": logprob, "bytes": list(token.encode())}

    return {
        "content": [
            {**entry(token, logprob), "top_logprobs": [entry(t, lp) for t, lp in top]}
            for token, logprob, top in out.logprobs or []
        ]
    }


def completion_logprobs(out: Generation) -> dict[str, Any]:
    """``choices[].logprobs`` of a (legacy) text completion."""
    tokens = out.logprobs or []
    offsets, at = [], 0
    for token, _, _ in tokens:
        offsets.append(at)
        at += len(token)
    return {
        "tokens": [t for t, _, _ in tokens],
        "token_logprobs": [lp for _, lp, _ in tokens],
        "top_logprobs": [dict(top) for _, _, top in tokens],
        "text_offset": offsets,
    }


def parse_job(req: dict[str, Any], chat: bool) -> Job:
    """The generation a request asks for; KeyError/ValueError/TypeError on a bad request."""
    messages = req["messages"] if chat else [{"role": "user", "content": str(req["prompt"])}]
    prefill = bool(req.get("continue_final_message", False))
    if prefill and (not chat or messages[-1]["role"] != "assistant" or req.get("add_generation_prompt", True)):
        raise ValueError("continue_final_message needs a final assistant message and add_generation_prompt=false")
    if chat:
        top = int(req.get("top_logprobs") or 0) if req.get("logprobs") else None
    else:
        top = None if req.get("logprobs") is None else int(req["logprobs"])
    if top is not None and not 0 <= top <= 20:
        raise ValueError("top_logprobs must be between 0 and 20")
    return Job(
        messages=messages,
        max_tokens=int(req.get("max_tokens") or req.get("max_completion_tokens") or 256),
        temperature=float(req.get("temperature", 1.0)),
        top_logprobs=top,
        prefill=prefill,
    )


def make_handler(batcher: Batcher, model_name: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: /metrics is the record
            return

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, obj: Any) -> None:
            self._send(status, json.dumps(obj).encode())

        def _error(self, status: int, message: str) -> None:
            self._json(status, {"error": {"message": message, "type": "invalid_request_error", "code": status}})

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            if path == "/v1/models":
                models = [{"id": model_name, "object": "model", "owned_by": "local"}]
                self._json(200, {"object": "list", "data": models})
            elif path == "/health":
                self._json(200, {"status": "ok"})
            elif path == "/metrics":
                with batcher.lock:
                    lines = [f"llm_{k}_total {v}" for k, v in sorted(batcher.metrics.items())]
                self._send(200, ("\n".join(lines) + "\n").encode(), "text/plain; version=0.0.4")
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            if path not in ("/v1/chat/completions", "/v1/completions"):
                return self._error(404, f"no route {self.path}")
            try:
                req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                chat = path.endswith("chat/completions")
                job = parse_job(req, chat)
            except (ValueError, KeyError, TypeError, IndexError) as err:
                return self._error(400, f"bad request: {err}")
            if req.get("stream"):
                return self._error(400, "stream=true is not supported by this server")
            batcher.count(**{"requests": 1, "chat_requests" if chat else "completion_requests": 1})
            try:
                out = batcher.submit(job)
            except Exception as err:
                return self._error(500, f"generation failed: {type(err).__name__}: {err}")
            text, stopped = apply_stop(out.text, req.get("stop"))
            finish = "stop" if stopped else out.finish_reason
            choice = (
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
                if chat
                else {"index": 0, "text": text, "finish_reason": finish}
            )
            if job.top_logprobs is not None:
                choice["logprobs"] = chat_logprobs(out) if chat else completion_logprobs(out)
            self._json(
                200,
                {
                    "id": f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}",
                    "object": "chat.completion" if chat else "text_completion",
                    "created": int(time.time()),
                    "model": model_name,
                    "choices": [choice],
                    "usage": {
                        "prompt_tokens": out.prompt_tokens,
                        "completion_tokens": out.completion_tokens,
                        "total_tokens": out.prompt_tokens + out.completion_tokens,
                    },
                },
            )

    return Handler


def serve(
    model: str | None, host: str = "127.0.0.1", port: int = 8000, batch_size: int = 8, batch_wait_ms: float = 20.0
) -> None:
    """Load the model, then listen (port 0 picks a free one); prints the URL once ready."""
    backend = TransformersBackend(model, batch_size=batch_size)
    batcher = Batcher(backend, batch_size, batch_wait_ms / 1000)
    server = ThreadingHTTPServer((host, port), make_handler(batcher, backend.model))
    server.daemon_threads = True
    print(f"serving {backend.model} on http://{host}:{server.server_address[1]}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m classifiers.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="HF id, folder or .gguf file (default: bundled SmolLM2-135M)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 = any free port (printed)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--batch-wait-ms", type=float, default=20.0)
    args = parser.parse_args(argv)
    try:
        serve(args.model, args.host, args.port, args.batch_size, args.batch_wait_ms)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()

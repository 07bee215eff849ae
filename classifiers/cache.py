"""An append-only, crash-safe answer cache: one JSON line per LLM answer.

Each answer is appended with a single ``O_APPEND`` write and fsynced as soon as it arrives, so a
killed labelling job keeps every answer it received. A torn last line (killed mid-write) is
ignored on load and fenced off by a newline before the next append. One writer at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any


def cache_key(model: str, prompt_id: str, text_hash: str, *settings: object) -> str:
    """What decides an answer: the model, the prompt version, the text sent and how it was read
    (generation: max_tokens and temperature; logprob mode: ``"logprob"``)."""
    blob = json.dumps([model, prompt_id, text_hash, *settings])
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class AnswerCache:
    def __init__(self, path: str):
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        if os.path.exists(path):
            with open(path, "rb") as f:
                for line in f:
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a torn line from a killed writer
                    if isinstance(entry, dict) and "key" in entry:
                        self.entries[entry["key"]] = entry
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if os.fstat(self._fd).st_size and not _ends_with_newline(path):
            os.write(self._fd, b"\n")

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def append(self, entry: dict[str, Any]) -> None:
        os.write(self._fd, (json.dumps(entry, ensure_ascii=False) + "\n").encode())
        os.fsync(self._fd)
        self.entries[entry["key"]] = entry

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> AnswerCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"

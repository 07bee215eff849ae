"""Public entry points of input reading: plan tasks from the config, read one task.

``read_task`` returns ``(raw_records, rejects, counters)``: raw records (``RAW_SCHEMA``) for the
extraction stage, rejected records as document rows with a ``reason``, and counters
(``records_read``, ``records_other``, ``read.quirk.*``: records read despite a real-world deviation,
and ``skipped``: stream damage with no record to show).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from curation.io.planning import expand_inputs, plan_input_tasks
from curation.io.records import RAW_SCHEMA, RecordSink
from curation.io.rows import read_hf_shard, read_jsonl, read_parquet
from curation.io.tasks import InputError, InputTask
from curation.io.warc import read_arc, read_warc

__all__ = ["RAW_SCHEMA", "InputError", "InputTask", "expand_inputs", "plan_input_tasks", "read_task"]

READERS: dict[str, Callable[[InputTask, RecordSink, Any], None]] = {
    "warc": read_warc,
    "wet": read_warc,
    "arc": read_arc,
    "jsonl": read_jsonl,
    "parquet": read_parquet,
    "hf": read_hf_shard,
}


def read_task(task: InputTask, cfg: Any) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    """Read one task (``cfg`` is the ``InputConfig``); damaged input is counted, never raised."""
    sink = RecordSink(task.source)
    READERS[task.format](task, sink, cfg)
    return sink.tables()

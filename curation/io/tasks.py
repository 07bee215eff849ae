"""The unit of reading work: one input file, or one byte/row-group range of a large file."""

from __future__ import annotations

from dataclasses import dataclass


class InputError(ValueError):
    """An input problem (missing path, unknown format), phrased as one line for the user."""


@dataclass(frozen=True)
class InputTask:
    """What one read task covers.

    ``task_id`` is ``<file index:05d>-<split:04d>`` over the sorted input files, so it never
    depends on the number of workers. ``start``/``stop`` are byte offsets for WARC/WET/JSONL
    (records *starting* in ``[start, stop)`` belong to the task) and row-group indices for
    Parquet; ``stop == -1`` means "to the end".
    """

    task_id: str
    path: str
    format: str
    source: str
    start: int = 0
    stop: int = -1

    def covers(self, offset: int) -> bool:
        """Whether a record starting at ``offset`` belongs to this task."""
        return offset >= self.start and (self.stop < 0 or offset < self.stop)

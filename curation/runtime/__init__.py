"""Execution on Ray or forked workers: task planning, completion markers and resume, progress, counters.

Nothing here knows about HTML or tokens; stages know nothing about Ray.
"""

from curation.runtime.context import RunContext
from curation.runtime.executor import Task, run_tasks

__all__ = ["RunContext", "Task", "run_tasks"]

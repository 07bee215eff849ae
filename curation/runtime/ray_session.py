"""Point the executor at where a run's tasks run (``runtime.executor``): Ray, joined or embedded,
worker processes forked from the driver, or this process.

``--address``/``RAY_ADDRESS`` joins a cluster, and inside a ``ray job submit`` job Ray finds its
cluster by itself. Workers are processes started by each node's raylet, so they see the node's
environment, not the driver's shell: what they need from the driver (non-secret storage settings)
travels in the job's ``runtime_env``. On one machine, ``auto`` skips Ray: one worker runs the tasks
in-process, several run them on forked workers (``forked.ForkedWorkers``): same tasks, markers and
outputs, without Ray's daemons and its workers' cold start; ``runtime.executor: ray`` starts an
embedded Ray instead.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from curation.config_base import ConfigError
from curation.io import fs
from curation.runtime import executor

log = logging.getLogger(__name__)


EMBEDDED_SYSTEM_CONFIG = {
    # The raylet connects to its own object store as it starts, and retries after this long when the
    # store is not listening yet: Ray's 1,000 ms made 2 of 12 embedded starts 1 s longer (2.6 s, not
    # 1.6 s); at 50 ms 0 of 10 were. The attempts keep Ray's 10 s of patience (10 x 1,000 ms).
    "raylet_client_connect_timeout_milliseconds": 50,
    "raylet_client_num_connect_attempts": 200,
}


@contextmanager
def ray_session(
    runtime: Any,
    *,
    env: Mapping[str, str] | None = None,
    shared_paths: Sequence[tuple[str, str]] = (),
    warm_up: Callable[[bool], object] | None = None,
) -> Iterator[None]:
    """Run the body with the executor on Ray, on forked worker processes or in-process (see
    ``where_tasks_run``); shut Ray down afterwards only if we started it.

    ``env``: environment variables for every worker of the run. ``shared_paths``: ``(what, path)``
    pairs every node must see the same, e.g. the run folder; a local one on a cluster of several
    nodes is refused unless ``runtime.shared_filesystem`` says it is mounted everywhere. ``warm_up``:
    work that would otherwise be waited for later (an on-disk cache this machine's workers load, the
    driver's own loads), called with whether the tasks run in workers forked from this process: then
    before they fork, so that they inherit it; on Ray while an embedded Ray starts (see ``start_ray``);
    not at all when the tasks run in this process, whose first tasks load what they need.
    """
    previous = (executor.SETTINGS.use_ray, executor.SETTINGS.max_in_flight)
    where = where_tasks_run(runtime)
    embedded = where == "ray" and starts_embedded(runtime)  # Ray's CPUs are this run's to fill
    if where == "processes" and warm_up is not None:
        warm_up_or_warn(lambda: warm_up(True))
    started = where == "ray" and start_ray(runtime, env, None if warm_up is None else lambda: warm_up(False))
    try:
        if where == "local":
            workers = 1
        elif where == "processes" or embedded:  # for an embedded Ray, its CPUs as start_ray set them
            workers = requested_workers(runtime)
        else:
            import ray

            if not runtime.shared_filesystem:
                refuse_local_paths(shared_paths)
            workers = runtime.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        executor.configure(use_ray=where == "ray", max_in_flight=workers, max_retries=runtime.max_retries,
                           progress=runtime.progress, queued=workers if embedded else 0,
                           forked=where == "processes")
        yield
    finally:
        executor.configure(
            use_ray=previous[0], max_in_flight=previous[1], max_retries=runtime.max_retries, progress=runtime.progress
        )
        if started:
            import ray

            ray.shutdown()


def start_ray(runtime: Any, env: Mapping[str, str] | None, warm_up: Callable[[], object] | None = None) -> bool:
    """Start Ray (embedded, or joined to ``runtime.address``/``RAY_ADDRESS``) unless this process has a
    session already; return whether it was started here.

    An embedded start takes a second or two, much of it waiting on its daemons (``lean_embedded_start``),
    and its workers are on this machine: ``warm_up`` runs in a thread meanwhile.
    """
    import ray

    if ray.is_initialized():
        if env:
            running = ray.get_runtime_context().runtime_env.get("env_vars") or {}
            if any(running.get(k) != v for k, v in env.items()):
                log.warning("Ray was started before this run: storage settings reach the workers only if its "
                            "runtime_env has %s (docs/cluster.md)", ", ".join(sorted(env)))
        return False
    address = runtime.address or os.environ.get("RAY_ADDRESS")
    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
    if env:  # merged with a submitted job's own runtime_env by Ray
        kwargs["runtime_env"] = {"env_vars": dict(env)}
    if address:
        kwargs["address"] = address
    else:
        kwargs["num_cpus"] = requested_workers(runtime)
        kwargs["_system_config"] = EMBEDDED_SYSTEM_CONFIG
    with alongside(None if address else warm_up), nullcontext() if address else lean_embedded_start():
        ray.init(**kwargs)
    return True


@contextmanager
def lean_embedded_start() -> Iterator[None]:
    """Within it, an embedded ``ray.init`` starts neither the dashboard head nor the autoscaler monitor,
    its dashboard agent starts without its HTTP server, and nothing waits for that agent.

    - With ``include_dashboard=False`` Ray 2.x still starts the dashboard's head (for its usage-stats
      module only) and waits for it before it starts the raylet: ~0.8 CPU-s of imports on the critical
      path (2 cores, loaded: raylet up 0.9-1.3 s sooner, ray.init 0.8-2.0 s shorter without it).
    - The raylet waits for its dashboard agent. Started ``--minimal`` (as Ray does when the
      ``ray[default]`` extras are missing) the agent serves no HTTP, whose only clients are the
      dashboard head and job submission: ray.init took 1.6 s in 3 of 3 starts, against 2.0-2.9 s.
    - The raylet is told what the minimal agent would write to its port files (-1: no HTTP server, no
      metrics export) instead of waiting ~0.9 s for the agent to import every dashboard module first
      (``_raylet_told_minimal_agent_ports``), and the driver polls the GCS for the raylet's registration
      every 20 ms instead of Ray's one-second sleep after a first miss (``_get_node_once_registered``).
      ``ray.init`` alone, 5 alternating starts each: 1.10-1.61 s, against 1.58-2.84 s (medians 1.18
      and 1.66); inside a 2-worker run, where the driver warms up meanwhile, the time outside every
      phase fell from 3.24-3.47 s to 2.17-2.54 s (4 alternating pairs).
    - The autoscaler monitor (``ray start --no-monitor`` leaves it out) imports Ray's autoscaler while
      the raylet and its agents start (0.46 CPU-s; Ray's daemons 1.55-1.81 CPU-s per 2-worker run
      without it, 1.86-2.23 with it), and at shutdown Ray stops the GCS before it, so that it retries
      the stopped GCS until Ray's 1 s grace period kills it. One machine of fixed size has nothing to
      scale.

    An embedded run has no use for any of them: no job submission, no state API, no dashboard, no
    autoscaling; the agents' gRPC services (runtime env, metrics, logs) still start. Private API: each
    patch is skipped if Ray renames what it replaces (tests/test_executor.py notices).
    """
    with _replaced("ray._private.node", "Node", "start_api_server", lambda _: _skip_api_server), \
            _replaced("ray._private.node", "Node", "start_monitor", lambda _: _skip_monitor), \
            _replaced("ray._private.utils", None, "get_dashboard_dependency_error", lambda _: _minimal_agent), \
            _replaced("ray._private.services", None, "start_ray_process", _raylet_told_minimal_agent_ports), \
            _replaced("ray._private.services", None, "get_node", _get_node_once_registered):
        yield


def _skip_api_server(self: Any, **_: Any) -> None:
    self._webui_url = ""  # what the skipped call sets when the dashboard is off


def _skip_monitor(self: Any) -> None:
    pass


def _minimal_agent() -> ImportError:
    return ImportError("an embedded run starts the minimal dashboard agent")


# The minimal agent writes -1 to these port files (no HTTP server, no metrics export), after importing every
# dashboard module for the listen port; the raylet waits for each file it is not given a port for.
MINIMAL_AGENT_PORTS = ("--dashboard_agent_listen_port=-1", "--metrics_export_port=-1")


def _raylet_told_minimal_agent_ports(start_ray_process: Callable[..., Any]) -> Callable[..., Any]:
    def start(command: list[str], process_type: str, *args: Any, **kwargs: Any) -> Any:
        if process_type == "raylet":  # the raylet's flags parser keeps the last value of a flag
            command = [*command, *MINIMAL_AGENT_PORTS]
        return start_ray_process(command, process_type, *args, **kwargs)

    return start


def _get_node_once_registered(get_node: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
    """Ray's ``get_node`` asks the GCS for the new raylet and, if it has not registered yet, sleeps one
    second before asking again; this asks every 20 ms first, for up to 10 s, then leaves the waiting (and
    the error, if the raylet never registers) to Ray's call."""

    def wait_then_get(gcs_address: str, node_id: str) -> Any:
        try:
            from ray._private import services, state

            gcs = state.GlobalState()
            gcs._initialize_global_state(services._get_gcs_client_options(gcs_address))
            try:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not any(
                    n["NodeID"] == node_id and n["Alive"] for n in gcs.node_table()
                ):
                    time.sleep(0.02)
            finally:
                gcs.disconnect()
        except Exception:  # noqa: BLE001 - an optimisation: Ray's own call below waits, and raises its errors
            log.debug("polling the GCS for the raylet failed; Ray's get_node waits instead", exc_info=True)
        return get_node(gcs_address, node_id)

    return wait_then_get


@contextmanager
def _replaced(module: str, owner: str | None, name: str, replacement: Callable[[Any], Any]) -> Iterator[None]:
    """``module[.owner].name`` is ``replacement(original)`` within the block, if it exists."""
    try:
        target = importlib.import_module(module)
        target = getattr(target, owner) if owner else target
    except (ImportError, AttributeError):
        target = None
    original = getattr(target, name, None)
    if original is None:
        yield
        return
    setattr(target, name, replacement(original))
    try:
        yield
    finally:
        setattr(target, name, original)


def warm_up_or_warn(fn: Callable[[], object]) -> None:
    """Run ``fn``; a failure is logged, not raised (what needed the work does it again and raises its
    error there, in a task or in the driver)."""
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - an optimisation; what needs the work raises it
        log.warning("warm-up failed (retried where it is needed): %s", err)


@contextmanager
def alongside(fn: Callable[[], object] | None) -> Iterator[None]:
    """Run ``fn`` in a thread (``warm_up_or_warn``) while the body runs."""
    if fn is None:
        yield
        return
    thread = threading.Thread(target=warm_up_or_warn, args=(fn,), name="curation-warm-up", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def requested_workers(runtime: Any) -> int:
    """Tasks the run asks to run at once: ``runtime.workers``, else this machine's CPUs."""
    return runtime.workers or os.cpu_count() or 1


def where_tasks_run(runtime: Any) -> str:
    """``runtime.executor``, with ``auto`` resolved: without a cluster to join or a Ray session already
    open here, ``local`` (in this process) for one task at a time and ``processes`` (forked workers) for
    more; else ``ray``."""
    if runtime.executor != "auto":
        return runtime.executor
    if not starts_embedded(runtime):
        return "ray"
    if requested_workers(runtime) == 1:
        return "local"
    return "processes" if hasattr(os, "fork") else "ray"  # no fork on Windows


def starts_embedded(runtime: Any) -> bool:
    """Whether ``start_ray`` would start a Ray of its own here (no cluster to join, no session open)."""
    ray = sys.modules.get("ray")  # no import: a process that never imported Ray has no session
    return not (runtime.address or os.environ.get("RAY_ADDRESS") or (ray is not None and ray.is_initialized()))


def refuse_local_paths(paths: Sequence[tuple[str, str]]) -> None:
    """One error line when a local path would be a different folder on each node of the cluster."""
    import ray

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    # A lone node without CPUs (a cluster launcher's head) sends every task to nodes still to come.
    if len(nodes) == 1 and nodes[0].get("Resources", {}).get("CPU", 0) > 0:
        return
    for what, path in paths:
        if fs.is_local(path):
            raise ConfigError(
                f"{what} {path} is a local path but tasks run on other Ray nodes ({len(nodes)} now), each with "
                "its own disk: use object storage (s3://, gs://) or set runtime.shared_filesystem: true if it is "
                "mounted on every node"
            )

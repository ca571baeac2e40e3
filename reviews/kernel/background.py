"""Background tasks: registered beside their features, enqueued only after the transaction that made the work commits.

A feature declares a task with ``@task`` in its ``tasks.py``; the task's name comes from the function
(``reviews.scoring.tasks.recalibrate_assignment``), and work is enqueued with the task object, so a misspelt
name cannot exist. Three ways to run it, chosen by configuration, all running the very same task functions:
- ``celery``: send to the broker (production; ``fairpeer worker`` runs them);
- ``embedded``: a thread in this process runs them (``fairpeer serve`` with no broker configured);
- ``inline``: run right after the commit, in the caller's thread (unit tests: deterministic).

The id of the request that enqueues work (``reviews.kernel.logs.request_id``) goes with it, so the task's log
lines carry it; every run is counted and timed (``reviews.kernel.metrics.task_run``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, overload

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from reviews.kernel import logs, metrics

log = logging.getLogger(__name__)

_PENDING = "fairpeer_pending_tasks"


@dataclass(frozen=True)
class Task:
    """A background task: ids in, a service call, commit. ``periodic`` tasks run every SWEEP_SECONDS."""

    name: str
    run: Callable[..., Any]
    max_retries: int = 0
    retry_delay: float = 2.0
    periodic: bool = False

    def __call__(self, *args: Any) -> Any:
        return self.run(*args)


_REGISTRY: dict[str, Task] = {}


@overload
def task(fn: Callable[..., Any], /) -> Task: ...
@overload
def task(*, max_retries: int = 0, retry_delay: float = 2.0, periodic: bool = False) -> Callable[[Callable[..., Any]], Task]: ...
def task(
    fn: Callable[..., Any] | None = None, /, *, max_retries: int = 0, retry_delay: float = 2.0, periodic: bool = False
) -> Task | Callable[[Callable[..., Any]], Task]:
    """Register ``fn`` as a background task named ``<module>.<function>``."""

    def register(function: Callable[..., Any]) -> Task:
        spec = Task(f"{function.__module__}.{function.__name__}", function, max_retries, retry_delay, periodic)
        _REGISTRY[spec.name] = spec
        return spec

    return register(fn) if fn is not None else register


def registered_tasks() -> dict[str, Task]:
    """Every task registered so far (the app factory imports every feature's tasks module)."""
    return dict(_REGISTRY)


def find_task(name: str) -> Task:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LookupError(f"no background task is named {name!r}; known: {sorted(_REGISTRY)}") from None


def enqueue(session: Session, work: Task, *args: Any, countdown: float | None = None) -> None:
    """Send ``work`` with ``args`` once ``session`` commits; dropped if it rolls back. The current request's id
    (or the running task's, inherited from its request) goes with it."""
    if not isinstance(work, Task):
        raise TypeError(f"enqueue takes a Task (declared with @task), not {work!r}")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    session.info.setdefault(_PENDING, []).append((work.name, args, countdown, app, logs.request_id.get()))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    for name, args, countdown, app, request_id in pending:
        token = logs.request_id.set(request_id)  # the id at enqueue time, which send() passes on
        try:
            app.extensions["fairpeer.background"].send(name, args, countdown)
        except Exception:
            log.exception("could not send task %s; the periodic sweep will pick the work up", name)
        finally:
            logs.request_id.reset(token)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def run_measured(spec: Task, args: tuple[Any, ...]) -> Any:
    """Run a task's function here, counted and timed, with a log line when it is done (failures are logged by
    whoever runs it, with what they do next)."""
    started = time.perf_counter()
    with metrics.task_run(spec.name):
        result = spec.run(*args)
    log.info("task %s done in %.3f s", spec.name, time.perf_counter() - started, extra={"task": spec.name})
    return result


class Background:
    """The configured way of running tasks.

    A task that raises in this process (``inline`` or ``embedded``) is logged and kept in ``failures``: the
    embedded runner goes on with the next task, and the test harness fails the test that enqueued it.
    """

    def __init__(
        self,
        app: Flask,
        mode: str,
        send_remote: Callable[[str, tuple[Any, ...], float | None], Any] | None = None,
        ping_remote: Callable[[float], bool] | None = None,
        depth_remote: Callable[[], dict[str, int]] | None = None,
    ):
        self.app, self.mode = app, mode
        self.send_remote, self.ping_remote, self.depth_remote = send_remote, ping_remote, depth_remote
        self.failures: list[tuple[str, tuple[Any, ...], BaseException]] = []
        self._queue: queue.Queue[tuple[str, tuple[Any, ...], str | None]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def send(self, name: str, args: tuple[Any, ...], countdown: float | None = None) -> None:
        """Run or send ``name(*args)`` with the current request id (``logs.request_id``), for the task's log lines."""
        request_id = logs.request_id.get()
        if self.mode == "celery":
            assert self.send_remote is not None
            self.send_remote(name, args, countdown)  # which reads the request id the same way
        elif self.mode == "embedded":
            if countdown:
                timer = threading.Timer(countdown, self._queue.put, args=((name, args, request_id),))
                timer.daemon = True
                timer.start()
            else:
                self._queue.put((name, args, request_id))
        else:
            self.run_recorded(name, args, request_id)

    def ping(self, timeout: float) -> bool:
        """A real round trip through whatever runs background work."""
        if self.mode == "celery":
            assert self.ping_remote is not None
            return self.ping_remote(timeout)
        if self.mode == "embedded":
            if self._thread is None or not self._thread.is_alive():
                return False
            done = threading.Event()
            self._queue.put(("__ping__", (done,), None))
            return done.wait(timeout)
        return bool(self.run_now(PING, ()) == "pong")

    def run_now(self, name: str, args: tuple[Any, ...], request_id: str | None = None) -> Any:
        """Run the task here and now, in a fresh app context; its exception propagates."""
        spec = find_task(name)
        token = logs.request_id.set(request_id) if request_id is not None else None
        try:
            with self.app.app_context():
                return run_measured(spec, args)
        finally:
            if token is not None:
                logs.request_id.reset(token)

    def run_recorded(self, name: str, args: tuple[Any, ...], request_id: str | None = None) -> Any:
        """Run the task here; a failure is logged and kept in ``failures`` instead of propagating."""
        token = logs.request_id.set(request_id) if request_id is not None else None
        try:
            return self.run_now(name, args)
        except Exception as exc:
            log.exception("background task %s failed", name)
            self.failures.append((name, args, exc))
            return None
        finally:
            if token is not None:
                logs.request_id.reset(token)

    def queue_depth(self) -> dict[str, int]:
        """Tasks waiting to run, by queue (cheap: one broker round trip in production)."""
        if self.mode == "celery":
            return dict(self.depth_remote()) if self.depth_remote is not None else {}
        if self.mode == "embedded":
            return {"embedded": self._queue.qsize()}
        return {"inline": 0}

    def start_embedded(self, periodic: list[tuple[float, str]]) -> None:
        """Run queued tasks and ``periodic`` (seconds, task name) in daemon threads of this process."""
        if self._thread is not None:
            return

        def work() -> None:
            while not self._stop.is_set():
                try:
                    name, args, request_id = self._queue.get(timeout=0.5)
                except queue.Empty:
                    continue
                if name == "__ping__":
                    args[0].set()
                    continue
                self.run_recorded(name, args, request_id)

        def tick() -> None:
            last = {name: 0.0 for _, name in periodic}
            while not self._stop.wait(1.0):
                now = time.monotonic()
                for every, name in periodic:
                    if now - last[name] >= every:
                        last[name] = now
                        self._queue.put((name, (), None))

        self._thread = threading.Thread(target=work, name="fairpeer-background", daemon=True)
        self._thread.start()
        threading.Thread(target=tick, name="fairpeer-periodic", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()


@task
def ping() -> str:
    """The health check's round trip through whatever runs background work; touches nothing."""
    return "pong"


PING = ping.name


def _queue_depth() -> dict[tuple[str, ...], float]:
    background: Background = current_app.extensions["fairpeer.background"]
    return {(name,): float(depth) for name, depth in background.queue_depth().items()}


QUEUE_DEPTH = metrics.ScrapeGauge(
    "fairpeer_queue_depth", "Background tasks waiting to be picked up, by queue (read when scraped).", ("queue",), _queue_depth
)

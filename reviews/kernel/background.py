"""Enqueue background work by task name, only after the transaction that made the work commits.

Three ways to run it, chosen by configuration, all running the very same task functions:
- ``celery``: send to the broker (production; ``fairpeer worker`` runs them);
- ``embedded``: a thread in this process runs them (``fairpeer serve`` with no broker configured);
- ``inline``: run right after the commit, in the caller's thread (unit tests: deterministic).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "fairpeer_pending_tasks"


def enqueue(session: Session, name: str, *args: Any, countdown: float | None = None) -> None:
    """Send task ``name`` with ``args`` once ``session`` commits; dropped if it rolls back."""
    session.info.setdefault(_PENDING, []).append((name, args, countdown, current_app._get_current_object()))  # type: ignore[attr-defined]


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    for name, args, countdown, app in pending:
        try:
            app.extensions["fairpeer.background"].send(name, args, countdown)
        except Exception:
            log.exception("could not send task %s; the periodic sweep will pick the work up", name)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


class Background:
    """The configured way of running tasks; ``resolve(name)`` finds a task's local callable."""

    def __init__(
        self,
        app: Flask,
        mode: str,
        resolve: Callable[[str], Callable[..., Any]],
        send_remote: Callable[..., Any] | None = None,
        ping_remote: Callable[[float], bool] | None = None,
    ):
        self.app, self.mode, self.resolve = app, mode, resolve
        self.send_remote, self.ping_remote = send_remote, ping_remote
        self._queue: queue.Queue[tuple[str, tuple[Any, ...]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def send(self, name: str, args: tuple[Any, ...], countdown: float | None = None) -> None:
        if self.mode == "celery":
            assert self.send_remote is not None
            self.send_remote(name, args, countdown)
        elif self.mode == "embedded":
            if countdown:
                timer = threading.Timer(countdown, self._queue.put, args=((name, args),))
                timer.daemon = True
                timer.start()
            else:
                self._queue.put((name, args))
        else:
            self.run_now(name, args)

    def ping(self, timeout: float) -> bool:
        """A real round trip through whatever runs background work."""
        if self.mode == "celery":
            assert self.ping_remote is not None
            return self.ping_remote(timeout)
        if self.mode == "embedded":
            if self._thread is None or not self._thread.is_alive():
                return False
            done = threading.Event()
            self._queue.put(("__ping__", (done,)))
            return done.wait(timeout)
        return self.run_now("fairpeer.ping", ()) == "pong"

    def run_now(self, name: str, args: tuple[Any, ...]) -> Any:
        with self.app.app_context():
            return self.resolve(name)(*args)

    def start_embedded(self, periodic: list[tuple[float, str]]) -> None:
        """Run queued tasks and the periodic schedule in daemon threads of this process."""
        if self._thread is not None:
            return

        def work() -> None:
            while not self._stop.is_set():
                try:
                    name, args = self._queue.get(timeout=0.5)
                except queue.Empty:
                    continue
                if name == "__ping__":
                    args[0].set()
                    continue
                try:
                    self.run_now(name, args)
                except Exception:
                    log.exception("embedded task %s failed", name)

        def tick() -> None:
            last = {name: 0.0 for _, name in periodic}
            while not self._stop.wait(1.0):
                now = time.monotonic()
                for every, name in periodic:
                    if now - last[name] >= every:
                        last[name] = now
                        self._queue.put((name, ()))

        self._thread = threading.Thread(target=work, name="fairpeer-background", daemon=True)
        self._thread.start()
        threading.Thread(target=tick, name="fairpeer-periodic", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

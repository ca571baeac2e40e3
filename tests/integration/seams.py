"""Test seams for the failure tests: run a ``fairpeer`` command with a fault injected from outside the service.

``python -m tests.integration.seams slow-recalibration SECONDS worker ...`` makes every recalibration in that
process (and the worker pool it forks) sleep between computing and writing, so a test can kill it right there.
``python -m tests.integration.seams die-at-commit after:submissions gunicorn ...`` makes the first process to
commit a transaction that inserted a row into ``submissions`` kill itself with SIGKILL right after the commit
(``before:`` — right before it), once: a marker file (``FAIRPEER_SEAM_MARKER``) records that it happened. A
command of ``gunicorn`` runs gunicorn itself, any other a ``fairpeer`` command. Production code carries no
parameter or setting for this.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any


def slow_recalibration(value: str) -> None:
    from reviews.scoring import services

    seconds = float(value)

    real_fit = services.fit_assignment

    def fit_then_sleep(*args: Any, **kwargs: Any) -> Any:
        fitted = real_fit(*args, **kwargs)
        time.sleep(seconds)
        return fitted

    services.fit_assignment = fit_then_sleep


def die_at_commit(value: str) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    when, table = value.split(":")
    marker = Path(os.environ["FAIRPEER_SEAM_MARKER"])

    def die(session: Session) -> None:
        if session.info.pop("seam_inserted", False) and not marker.exists():
            marker.write_text(f"{when} commit, pid {os.getpid()}\n", encoding="utf-8")
            os.kill(os.getpid(), signal.SIGKILL)

    @event.listens_for(Session, "after_flush")
    def note_insert(session: Session, _context: Any) -> None:
        if any(getattr(obj, "__tablename__", None) == table for obj in session.new):
            session.info["seam_inserted"] = True

    event.listen(Session, "before_commit" if when == "before" else "after_commit", die)
    if when == "before":
        # Rows inserted by the commit's own flush are only known after it: flush first, then look.
        event.listen(Session, "before_commit", lambda session: session.flush(), insert=True)


SEAMS = {"slow-recalibration": slow_recalibration, "die-at-commit": die_at_commit}


def main(argv: list[str]) -> None:
    seam, value, *command = argv
    SEAMS[seam](value)
    if command[0] == "gunicorn":
        from gunicorn.app.wsgiapp import run

        sys.argv = command
        run()
        return
    from reviews.cli import main as fairpeer

    sys.argv = ["fairpeer", *command]
    fairpeer()


if __name__ == "__main__":
    main(sys.argv[1:])

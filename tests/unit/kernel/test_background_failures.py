"""A background task that raises, run inline or by the embedded runner, fails the test that enqueued it."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

INNER = """
from reviews.kernel.background import enqueue, task
from reviews.kernel.db import db


@task
def explode(n: int) -> None:
    raise RuntimeError(f"boom {n}")


@task
def fine(n: int) -> int:
    return n


def test_enqueues_a_task_that_raises(app):
    with app.app_context():
        enqueue(db.session, explode, 7)
        db.session.commit()


def test_enqueues_a_task_that_works(app):
    with app.app_context():
        enqueue(db.session, fine, 7)
        db.session.commit()


def test_embedded_runner_failure(app):
    import time
    background = app.extensions["fairpeer.background"]
    background.mode = "embedded"
    background.start_embedded([])
    with app.app_context():
        enqueue(db.session, explode, 8)
        db.session.commit()
    deadline = time.monotonic() + 10
    while not background.failures and time.monotonic() < deadline:
        time.sleep(0.05)
    background.stop()
"""


def test_a_raising_task_fails_the_test_that_enqueued_it(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest('pytest_plugins = ["tests.conftest"]')  # the project's fixtures and hooks
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*background tasks failed during this test*", "*explode(7,): RuntimeError('boom 7')*"])
    result.stdout.fnmatch_lines(["*explode(8,): RuntimeError('boom 8')*"])


def test_enqueue_refuses_a_task_name_instead_of_a_task() -> None:
    from reviews.kernel.background import enqueue

    with pytest.raises(TypeError, match="takes a Task"):
        enqueue(None, "reviews.scoring.tasks.recalibrate_assigment")  # type: ignore[arg-type]

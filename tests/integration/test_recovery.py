"""Acceptance 8: nothing is lost. A worker killed mid-recalibration, and work whose enqueue was lost after its
commit, both end with the scores of an undisturbed run, thanks to `fairpeer beat`'s sweep."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from reviews.courses.models import Assignment
from reviews.kernel.db import db
from reviews.scoring.models import Score
from reviews.settings import DEFAULTS
from tests.integration.conftest import Stack, queue_length, wait_for
from tests.integration.scenario import calibration_settled, differences, run_scenario, scores_by_email

pytestmark = pytest.mark.integration

FAULT_SLEEP_SECONDS = 120  # far longer than the test waits: the kill always lands inside it


def open_transactions(database_url: str, idle_for_seconds: float) -> int:
    """Transactions on the test database that have sat open, between statements, for a while: a recalibration
    sleeping between computing and writing shows up as one (the web side and the sweep leave none open)."""
    name = make_url(database_url).database
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'idle in transaction'"
            " AND now() - state_change > make_interval(secs => %s)",
            (name, idle_for_seconds),
        ).fetchone()
    return int(row[0]) if row else 0


def calibration_state(app: Flask, assignment_id: str) -> tuple[int, int]:
    """(the assignment's calibration version, how many scores have a value)."""
    with app.app_context():
        assignment = db.session.get_one(Assignment, assignment_id)
        scored = db.session.scalar(
            select(func.count()).select_from(Score).where(Score.assignment_id == assignment_id, Score.value.is_not(None))
        )
        return assignment.calibration_version, int(scored or 0)


def test_worker_killed_mid_recalibration_ends_with_the_same_scores(
    stack: Stack, make_web_app: Callable[..., Flask], deferred_reference_scores: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_web_app(stack.database_url, stack.redis_url)
    background = app.extensions["fairpeer.background"]
    # Hold every task back while the scenario runs, so that exactly one recalibration is in flight when the worker dies.
    held: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(background, "send", lambda name, args, countdown=None: held.append((name, args)))
    world = run_scenario(app, app.test_client())
    monkeypatch.undo()
    assert ("reviews.scoring.tasks.recalibrate_assignment", (world.assignment_id,)) in held
    assert queue_length(stack.redis_url) == 0

    doomed = stack.start_worker(seam=("slow-recalibration", str(FAULT_SLEEP_SECONDS)))
    stack.wait_ready(app, doomed)
    background.send("reviews.scoring.tasks.recalibrate_assignment", (world.assignment_id,))
    wait_for(
        lambda: open_transactions(stack.database_url, 1.0) == 1,
        60,
        "the recalibration to reach its sleep between computing and writing",
        details=stack.logs,
    )
    assert calibration_state(app, world.assignment_id) == (0, 0), "the run wrote before the kill: not the middle"
    assert doomed.alive()
    doomed.kill_group()
    assert doomed.popen.returncode == -signal.SIGKILL
    assert calibration_state(app, world.assignment_id) == (0, 0)
    assert queue_length(stack.redis_url) == 0, "only the killed run's message existed, and it is not queued again"
    wait_for(lambda: open_transactions(stack.database_url, 0.0) == 0, 30, "PostgreSQL to roll the killed run back")

    # The message stays unacknowledged in Redis until the visibility timeout; the sweep must find the work first.
    # With the production settings (not the tests' one-second sweep), and no traffic at all: the work is done again
    # within a minute of the worker being back.
    production = {"FAIRPEER_SWEEP_SECONDS": str(DEFAULTS["SWEEP_SECONDS"])}
    restarted = time.monotonic()
    worker = stack.start_worker(**production)
    beat = stack.start_beat(**production)
    wait_for(lambda: calibration_settled(app, world.assignment_id), 60, "the sweep and the new worker to recalibrate", details=stack.logs)
    recovered_after = time.monotonic() - restarted
    assert recovered_after < 60, recovered_after
    print(f"recovered {recovered_after:.1f} s after the worker's restart (sweep every {DEFAULTS['SWEEP_SECONDS']} s)")
    stack.wait_ready(app, worker)
    got = scores_by_email(world)
    assert differences(got, deferred_reference_scores) == [], f"after the kill: {got}\nundisturbed run: {deferred_reference_scores}"
    assert "reviews.ops.tasks.recover_lost_work" in beat.log_path.read_text(), beat.log_tail()


def test_sweep_picks_up_work_whose_enqueue_was_lost(
    stack: Stack, make_web_app: Callable[..., Flask], deferred_reference_scores: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_web_app(stack.database_url, stack.redis_url)
    background = app.extensions["fairpeer.background"]
    attempts: list[str] = []

    def broker_down(name: str, args: tuple[Any, ...], countdown: float | None = None) -> None:
        attempts.append(name)
        raise ConnectionError("broker unreachable (simulated): the send after the commit is lost")

    monkeypatch.setattr(background, "send", broker_down)
    world = run_scenario(app, app.test_client())  # every answer is still 201: the work is committed
    monkeypatch.undo()
    assert "reviews.scoring.tasks.recalibrate_assignment" in attempts and "reviews.integrity.tasks.check_similarity" in attempts
    assert queue_length(stack.redis_url) == 0
    assert calibration_state(app, world.assignment_id) == (0, 0)

    worker = stack.start_worker()
    stack.wait_ready(app, worker)
    assert queue_length(stack.redis_url) == 0 and not calibration_settled(app, world.assignment_id), "nothing was queued"
    beat = stack.start_beat()
    wait_for(lambda: calibration_settled(app, world.assignment_id), 90, "the sweep to re-enqueue the lost work", details=stack.logs)
    got = scores_by_email(world)
    assert differences(got, deferred_reference_scores) == [], f"after the lost sends: {got}\nundisturbed run: {deferred_reference_scores}"
    assert "reviews.ops.tasks.recover_lost_work" in beat.log_path.read_text(), beat.log_tail()

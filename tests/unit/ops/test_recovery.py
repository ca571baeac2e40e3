"""The sweep that keeps "nothing lost" true: work whose enqueue was lost after its commit is found and sent again."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from reviews.kernel.db import db
from reviews.ops.recovery import requeue_lost_work
from reviews.scoring.models import Score
from tests.conftest import World


def test_sweep_recovers_lost_enqueues(world: World, app: Flask) -> None:
    background = app.extensions["fairpeer.background"]
    sent: list[tuple[str, tuple[object, ...]]] = []

    def lose(name: str, args: tuple[object, ...], countdown: float | None = None) -> None:
        sent.append((name, args))
        raise ConnectionError("broker unreachable")

    original = background.send
    background.send = lose
    world.submit_and_review()
    assert sent, "the commits still tried to send their tasks"
    with app.app_context():
        assert db.session.query(Score).count() == 0
    background.send = original

    with app.app_context():
        counts = requeue_lost_work(db.session, grace=timedelta(0))
        db.session.commit()
        assert counts["recalibrations"] == 1 and counts["similarity_checks"] == len(world.learners)
        assert db.session.query(Score).count() == len(world.learners)
        db.session.commit()
        again = requeue_lost_work(db.session, grace=timedelta(0))
        db.session.commit()
        assert again == {"recalibrations": 0, "similarity_checks": 0}

"""A deadlock is the database's problem, not the learner's: PostgreSQL aborts one of two transactions that wait
on each other, and the claim, the review and the recalibration run again instead of answering 503.

The deadlock here is real: on its first run the claim's transaction locks one row, a second connection locks
another and waits for the first, and the claim then waits for the second's row; PostgreSQL picks the claim as
the victim (its deadlock check runs first: a 50 ms ``deadlock_timeout`` against the other's 10 s).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from reviews.allocation import services as allocation
from reviews.kernel.db import db
from reviews.kernel.transaction import DEADLOCK, sqlstate
from tests.conftest import World, build_world

pytestmark = pytest.mark.integration


def deadlock_once(monkeypatch: pytest.MonkeyPatch, pg_url: str, world: World, name: str) -> tuple[list[str], list[threading.Thread]]:
    """Make the first call of ``allocation.<name>`` end in a real deadlock; return what happened, in order, and
    the other connection's thread (to join)."""
    real = getattr(allocation, name)
    happened: list[str] = []
    others: list[threading.Thread] = []
    first_row, second_row = world.other_course_id, world.outsider.id

    def deadlocking(*args: Any, **kwargs: Any) -> Any:
        if happened:
            happened.append("retried")
            return real(*args, **kwargs)
        happened.append("first run")
        session = db.session
        session.execute(text("SET LOCAL deadlock_timeout = '50ms'"))
        session.execute(text("SELECT id FROM courses WHERE id = :id FOR UPDATE"), {"id": first_row})
        holds_second = threading.Event()

        def other() -> None:
            with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
                conn.execute("SET deadlock_timeout = '10s'")
                conn.execute("SELECT id FROM users WHERE id = %s FOR UPDATE", (second_row,))
                holds_second.set()
                conn.execute("SELECT id FROM courses WHERE id = %s FOR UPDATE", (first_row,))  # waits for the claim
                conn.rollback()

        others.append(threading.Thread(target=other, daemon=True))
        others[0].start()
        assert holds_second.wait(10)
        # The other connection now waits (or is about to) for the course row; wait for its user row: a cycle.
        session.execute(text("SELECT pg_sleep(0.2)"))
        try:
            session.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": second_row})
        except DBAPIError as exc:
            happened.append(f"deadlock {sqlstate(exc)}")
            raise
        raise AssertionError("no deadlock happened")

    monkeypatch.setattr(allocation, name, deadlocking)
    return happened, others


@pytest.fixture
def pg_world(pg_url: str, make_web_app: Callable[..., Flask]) -> World:
    app = make_web_app(pg_url)
    world = build_world(app, app.test_client(), n_learners=4)
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    return world


def test_a_claim_that_deadlocks_is_retried_to_201(pg_world: World, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    happened, others = deadlock_once(monkeypatch, pg_url, pg_world, "claim_next_review")
    reply = pg_world.claim(pg_world.learners[0])
    others[0].join(15)
    assert reply.status_code == 201, reply.get_json()
    assert happened == ["first run", f"deadlock {DEADLOCK}", "retried"]


def test_a_review_that_deadlocks_is_retried_to_201(pg_world: World, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    learner = pg_world.learners[0]
    claimed = pg_world.claim(learner)
    assert claimed.status_code == 201
    happened, others = deadlock_once(monkeypatch, pg_url, pg_world, "submit_review")
    reply = pg_world.review(learner, claimed.get_json()["claim_id"])
    others[0].join(15)
    assert reply.status_code == 201, reply.get_json()
    assert happened == ["first run", f"deadlock {DEADLOCK}", "retried"]
    reviews = learner.get(f"/api/assignments/{pg_world.assignment_id}/progress").get_json()["reviews_given"]
    assert reviews == 1, "the retried review is stored once"

"""Connections PostgreSQL drops (a restart, a failover, an idle timeout): replaced before use when they sat idle,
and a 503 ``unavailable``, never a 500, when one dies in use; the next request works again."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import make_url

import reviews.kernel.db
from tests.conftest import build_world

pytestmark = pytest.mark.integration


def drop_connections(pg_admin_url: str, database_url: str) -> int:
    """Terminate every session on the test's database, as a database restart does."""
    name = make_url(database_url).database
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
        ).fetchall()
    return len(rows)


def test_idle_connections_dropped_by_the_database_are_replaced_unseen(
    pg_url: str, pg_admin_url: str, make_web_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reviews.kernel.db, "IDLE_PING_SECONDS", 0.2)
    app = make_web_app(pg_url)
    world = build_world(app, app.test_client(), n_learners=2)
    path = f"/api/assignments/{world.assignment_id}"
    assert world.learners[0].get(path).status_code == 200
    assert drop_connections(pg_admin_url, pg_url) >= 1
    time.sleep(0.3)  # idle past the threshold: the next checkout pings and replaces the dead connection
    for learner in world.learners:
        assert learner.get(path).status_code == 200


def test_a_connection_dropped_in_use_answers_503_and_the_next_request_works(
    pg_url: str, pg_admin_url: str, make_web_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reviews.kernel.db, "IDLE_PING_SECONDS", 3600.0)  # no ping: the pool hands out the dead one
    app = make_web_app(pg_url)
    world = build_world(app, app.test_client(), n_learners=2)
    path = f"/api/assignments/{world.assignment_id}"
    assert world.learners[0].get(path).status_code == 200
    assert drop_connections(pg_admin_url, pg_url) >= 1

    lost = world.learners[0].get(path)
    assert lost.status_code == 503
    body = lost.get_json()["error"]
    assert body["code"] == "unavailable"
    assert "try again" in body["message"].lower()
    assert lost.headers["Retry-After"] == "5"
    # The disconnect invalidated the whole pool: fresh connections from here on.
    assert world.learners[0].get(path).status_code == 200
    claim = world.claim(world.learners[1])  # the claim path's locking statements work on the new connections too
    assert claim.status_code == 403 and claim.get_json()["error"]["code"] == "submit_first"

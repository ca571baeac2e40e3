"""Redis unreachable (nothing listens on the port): rate limits count in the process and the recalibration
debounce steps aside; claims and reviews still work and nothing answers 500."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from reviews.scoring import recalibration
from tests.conftest import build_world

CLOSED = "redis://127.0.0.1:9/0"  # the discard port: connections are refused at once


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": CLOSED, "REDIS_URL": CLOSED, "RATE_LIMIT_CLAIM": "3 per minute"}


def test_claims_and_reviews_work_and_limits_still_hold_without_redis(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=4, reviews_required=2, reviews_to_give=2)
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    me = world.learners[0]
    claim = world.claim(me)
    assert claim.status_code == 201, claim.get_json()
    assert world.review(me, claim.get_json()["claim_id"]).status_code == 201
    statuses = [world.claim(me).status_code for _ in range(3)]
    assert statuses[-1] == 429, statuses  # the in-process fallback still enforces 3 per minute
    assert 500 not in statuses


def test_the_debounce_requests_a_run_when_redis_is_unreachable(app: Flask) -> None:
    with app.app_context():
        assert recalibration.first_in_window("redis-down-test", 5.0) is True

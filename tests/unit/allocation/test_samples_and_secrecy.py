"""Calibration samples are served blind; a learner never learns reviewer identities or staff scores."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import build_world


def test_samples_served_like_peer_work(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=6, calibration_share=0.5, reviews_required=2, reviews_to_give=4)
    sample_text = "A community garden with a clear scope, named risks and dated milestones for the season."
    r = world.staff.post(
        f"/api/assignments/{world.assignment_id}/calibration-samples", json={"text": sample_text, "scores": {"scope": 4, "risks": 3}}
    )
    assert r.status_code == 201
    sample_id = r.get_json()["id"]
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    shapes: set[str] = set()
    saw_sample = saw_peer = 0
    raw_responses: list[str] = []
    for learner in world.learners:
        for _ in range(4):
            response = world.claim(learner)
            assert response.status_code == 201
            body = response.get_json()
            raw_responses.append(response.get_data(as_text=True))
            shapes.add(json.dumps(_shape(body), sort_keys=True))
            if body["item"]["text"] == sample_text:
                saw_sample += 1
            else:
                saw_peer += 1
            assert world.review(learner, body["claim_id"]).status_code == 201
    assert saw_sample >= len(world.learners) - 1 and saw_peer > 0
    assert len(shapes) == 1, shapes
    assert len(raw_responses) == 4 * len(world.learners)
    for raw in raw_responses:
        assert sample_id not in raw and "staff" not in raw.lower() and "sample" not in raw.lower()
    # A learner counts every review, samples included, and sees no difference in progress.
    for learner in world.learners:
        progress = learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()
        assert progress["reviews_given"] == 4 and progress["reviews_owed"] == 0
        # The sample itself is unreachable by id.
        assert learner.get(f"/api/submissions/{sample_id}").status_code == 404
    assignment = world.learners[0].get(f"/api/assignments/{world.assignment_id}").get_json()
    assert "calibration_share" not in assignment


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def test_reviewer_never_sees_the_same_item_twice_nor_own(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=4, reviews_required=3, reviews_to_give=3)
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    for learner in world.learners:
        own = learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
        own_text = learner.get(f"/api/submissions/{own}").get_json()["text"]
        seen = []
        for _ in range(3):
            claim = world.claim(learner)
            assert claim.status_code == 201, claim.get_json()
            body = claim.get_json()
            assert body["item"]["text"] != own_text
            seen.append(body["item"]["text"])
            assert world.review(learner, body["claim_id"]).status_code == 201
        assert len(set(seen)) == 3
        r = world.claim(learner)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "nothing_to_review"


def test_live_claim_is_returned_again_and_expires(app: Flask, client: FlaskClient) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from reviews.allocation.models import ReviewClaim
    from reviews.kernel.db import db, utcnow

    world = build_world(app, client, n_learners=3)
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    a = world.learners[0]
    first = world.claim(a)
    again = world.claim(a)
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()["claim_id"] == again.get_json()["claim_id"]
    with app.app_context():
        db.session.execute(update(ReviewClaim).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    # A late review still counts while the item needs it.
    assert world.review(a, first.get_json()["claim_id"]).status_code == 201
    second_claim = world.claim(a)
    assert second_claim.status_code == 201, second_claim.get_json()
    second = second_claim.get_json()
    with app.app_context():
        db.session.execute(
            update(ReviewClaim).where(ReviewClaim.id == second["claim_id"]).values(expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
    # Once it expired, the item goes back to the pool: another reviewer can take it.
    from reviews.kernel.db import db as _db  # noqa: F401

    with app.app_context():
        from reviews.allocation.services import expire_claims

        assert expire_claims(db.session) == 1
        db.session.commit()
        assert expire_claims(db.session) == 0


def test_reviews_anonymous_to_author(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=3)
    world.submit_and_review()
    author = world.learners[0]
    sid = author.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    received = author.get(f"/api/submissions/{sid}/reviews")
    assert received.status_code == 200
    assert received.get_json()["released"] is True and len(received.get_json()["reviews"]) == 2
    raw = received.get_data(as_text=True)
    for other in world.learners[1:]:
        assert other.id not in raw and other.email not in raw
    staff_view = world.staff.get(f"/api/submissions/{sid}/reviews").get_json()["reviews"]
    assert len(staff_view) == 2
    assert {r["reviewer_id"] for r in staff_view} <= {w.id for w in world.learners[1:]}

"""A course whose scores are released, with credentials issued inline, and the calls the tests repeat."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

import credentials
from reviews.credentials.models import IssuedCredential, StatusList
from reviews.kernel.db import db
from tests.conftest import World


def released_world(world: World) -> dict[str, Any]:
    """Every learner submits and gives two reviews (each learner's score is released); learner 0's submission id."""
    world.submit_and_review()
    author = world.learners[0]
    submission_id = author.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    return {"submission_id": submission_id}


def credentials_of(world: World, learner_id: str) -> list[IssuedCredential]:
    with world.app.app_context():
        rows = list(
            db.session.scalars(
                select(IssuedCredential)
                .where(IssuedCredential.learner_id == learner_id)
                .order_by(IssuedCredential.created_at, IssuedCredential.sequence)
            )
        )
        db.session.expunge_all()
        return rows


def current_project(world: World, learner_id: str) -> IssuedCredential:
    (row,) = [c for c in credentials_of(world, learner_id) if c.kind == "project" and c.revoked_at is None]
    return row


def verify(client: FlaskClient, document: Any) -> dict[str, Any]:
    """POST /api/verify as nobody in particular (no token, no cookie)."""
    answer = client.post("/api/verify", data=json.dumps(document), content_type="application/json")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return dict(answer.get_json())


def status_bit(world: World, credential: IssuedCredential) -> bool:
    with world.app.app_context():
        row = db.session.get_one(StatusList, credential.status_list)
        return credentials.bit_is_set(bytes(row.bits), credential.status_index)

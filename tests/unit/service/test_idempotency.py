"""Idempotency-Key: a retry gets the first answer and creates nothing; a different body or a running request is a conflict."""

from __future__ import annotations

import io
import json

from flask import Flask

from tests.conftest import World, essay


def test_retry_burns_no_attempt(world: World) -> None:
    learner = world.learners[0]
    url = f"/api/assignments/{world.assignment_id}/submissions"
    first = learner.post(url, json={"text": essay(0)}, headers={"Idempotency-Key": "lms-42"})
    again = learner.post(url, json={"text": essay(0)}, headers={"Idempotency-Key": "lms-42"})
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["attempts"] == 1


def test_multipart_retry_with_new_boundary_is_the_same_request(world: World) -> None:
    learner = world.learners[0]
    url = f"/api/assignments/{world.assignment_id}/submissions"

    def send() -> object:
        return learner.post(
            url,
            data={"text": essay(0), "files": (io.BytesIO(b"notes"), "n.txt")},
            content_type="multipart/form-data",
            headers={"Idempotency-Key": "k1"},
        )

    a, b = send(), send()
    assert a.status_code == b.status_code == 201  # type: ignore[attr-defined]
    assert a.get_json() == b.get_json()  # type: ignore[attr-defined]
    assert learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["attempts"] == 1


def test_same_key_different_body_conflicts(world: World) -> None:
    learner = world.learners[0]
    url = f"/api/assignments/{world.assignment_id}/submissions"
    assert learner.post(url, json={"text": essay(0)}, headers={"Idempotency-Key": "k"}).status_code == 201
    r = learner.post(url, json={"text": essay(1)}, headers={"Idempotency-Key": "k"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"


def test_key_is_scoped_to_caller_and_path(world: World) -> None:
    a, b = world.learners[:2]
    url = f"/api/assignments/{world.assignment_id}/submissions"
    assert a.post(url, json={"text": essay(0)}, headers={"Idempotency-Key": "same"}).status_code == 201
    r = b.post(url, json={"text": essay(1)}, headers={"Idempotency-Key": "same"})
    assert r.status_code == 201 and r.get_json()["id"]


def test_errors_are_not_stored(world: World) -> None:
    learner = world.learners[0]
    url = f"/api/assignments/{world.assignment_id}/submissions"
    assert learner.post(url, json={"text": "..."}, headers={"Idempotency-Key": "fix-and-retry"}).status_code == 422
    assert learner.post(url, json={"text": essay(0)}, headers={"Idempotency-Key": "fix-and-retry"}).status_code == 201


def test_key_still_running_conflicts(world: World, app: Flask) -> None:
    from reviews.kernel.db import db
    from reviews.kernel.idempotency import IdempotencyKey

    learner = world.learners[0]
    url = f"/api/assignments/{world.assignment_id}/submissions"
    body = json.dumps({"text": essay(0)}).encode()
    import hashlib

    with app.app_context():
        db.session.add(IdempotencyKey(user_id=learner.id, path=url, key="busy", body_hash=hashlib.sha256(body).hexdigest()))
        db.session.commit()
    r = learner.post(url, data=body, headers={"Idempotency-Key": "busy", "Content-Type": "application/json"})
    assert r.status_code == 409 and "still running" in r.get_json()["error"]["message"]

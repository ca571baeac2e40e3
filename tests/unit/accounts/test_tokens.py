"""A new API token replaces the old one at once (POST /api/users/{id}/token): for anyone from an administrator, for
themself from any user; everyone else is refused, and every new token is on the audit trail."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from reviews.accounts.models import ApiToken, User
from reviews.accounts.services import issue_token
from reviews.kernel.audit import AuditEvent
from reviews.kernel.auth import hash_secret
from reviews.kernel.db import db
from tests.conftest import Caller, World

HTML = {"Accept": "text/html"}


def new_token(caller: Caller, user_id: str) -> Any:
    return caller.post(f"/api/users/{user_id}/token")


def works(world: World, token: str) -> int:
    """The status a bearer token gets from an endpoint every member of the course may read."""
    answer = world.client.get(f"/api/assignments/{world.assignment_id}", headers={"Authorization": f"Bearer {token}"})
    return int(answer.status_code)


def token_hashes(world: World, user_id: str) -> list[str]:
    with world.app.app_context():
        return list(db.session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user_id)))


def test_an_administrator_issues_a_new_token_and_the_old_one_stops_working(world: World) -> None:
    learner = world.learners[0]
    assert works(world, learner.token) == 200
    answer = new_token(world.admin, learner.id)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert set(body) == {"id", "email", "token"}
    assert body["id"] == learner.id and body["email"] == learner.email and body["token"] != learner.token
    assert works(world, learner.token) == 401
    assert works(world, body["token"]) == 200
    # Only the new token's hash is kept: the old hash is gone, not merely outnumbered.
    assert token_hashes(world, learner.id) == [hash_secret(body["token"])]
    with world.app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.token_issued")).all()
        assert [(e.actor_id, e.subject) for e in events] == [(world.admin.id, f"user:{learner.id}")]


def test_a_user_replaces_their_own_token(world: World) -> None:
    mentor = world.mentor
    answer = new_token(mentor, mentor.id)
    assert answer.status_code == 201
    assert works(world, mentor.token) == 401
    assert works(world, answer.get_json()["token"]) == 200
    # The old token cannot be used to replace the new one either.
    assert new_token(mentor, mentor.id).status_code == 401


@pytest.mark.parametrize("role", ["learner", "mentor", "staff", "outsider"])
def test_nobody_else_issues_a_token_for_another_user(world: World, role: str) -> None:
    caller = {"learner": world.learners[1], "mentor": world.mentor, "staff": world.staff, "outsider": world.outsider}[role]
    target = world.learners[0]
    refused = new_token(caller, target.id)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    assert works(world, target.token) == 200
    # Asked about an id that exists or not, a non-administrator learns nothing from the answer.
    assert new_token(caller, "no-such-user").status_code == 403


def test_signed_out_and_unknown_user(world: World) -> None:
    signed_out = world.client.post(f"/api/users/{world.learners[0].id}/token")
    assert signed_out.status_code == 401 and signed_out.get_json()["error"]["code"] == "unauthenticated"
    missing = new_token(world.admin, "no-such-user")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_a_new_token_from_the_api_ends_the_users_page_sessions(world: World) -> None:
    learner = world.learners[0]
    url = world.admin.post(f"/api/users/{learner.id}/sign-in-links").get_json()["url"]
    browser = world.app.test_client()
    assert browser.get(urlsplit(url).path, headers=HTML).status_code == 302
    assert browser.get(f"/assignments/{world.assignment_id}", headers=HTML).status_code == 200
    assert new_token(world.admin, learner.id).status_code == 201
    assert browser.get(f"/assignments/{world.assignment_id}", headers=HTML).status_code == 401


def test_the_service_keeps_one_token_per_user(world: World) -> None:
    learner = world.learners[0]
    with world.app.app_context():
        user = db.session.get_one(User, learner.id)
        first = issue_token(db.session, user)
        second = issue_token(db.session, user)
        db.session.commit()
    assert token_hashes(world, learner.id) == [hash_secret(second)]
    assert works(world, first) == 401 and works(world, second) == 200


def test_creating_users_through_the_api(world: World) -> None:
    created = world.admin.post("/api/users", json={"email": "Root@Example.org", "name": "Root", "is_admin": True})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    with world.app.app_context():
        assert db.session.get_one(User, body["id"]).is_admin is True
    plain = world.admin.post("/api/users", json={"email": "plain@example.org", "name": "Plain"}).get_json()
    with world.app.app_context():
        assert db.session.get_one(User, plain["id"]).is_admin is False
    duplicate = world.admin.post("/api/users", json={"email": "root@example.org", "name": "Again"})
    assert duplicate.status_code == 409
    error = duplicate.get_json()["error"]
    assert error["code"] == "conflict" and error["details"]["fields"]["email"]
    bad = world.admin.post("/api/users", json={"email": "not an email", "name": "  "})
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["details"]["fields"]
    assert fields["email"] == ["Give an email address like name@example.org."]
    assert fields["name"] == ["Give the person's name."]
    assert world.staff.post("/api/users", json={"email": "x@example.org", "name": "X"}).status_code == 403

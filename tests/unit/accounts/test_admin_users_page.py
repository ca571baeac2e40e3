"""The administrators' users page: search, create, a new API token and a sign-in link per user, each secret shown
once; every other role is refused, and every action is on the audit trail."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from reviews.accounts.models import ApiToken, User
from reviews.kernel.audit import AuditEvent
from reviews.kernel.auth import hash_secret
from reviews.kernel.db import db
from tests.conftest import Caller, World, make_user
from tests.query_counts import counting_queries

HTML = {"Accept": "text/html"}
USERS = "/admin/users"


def signed_in(world: World, caller: Caller) -> FlaskClient:
    """A fresh browser signed in as ``caller`` through an administrator's sign-in link."""
    url = world.admin.post(f"/api/users/{caller.id}/sign-in-links").get_json()["url"]
    browser = world.app.test_client()
    assert browser.get(urlsplit(url).path, headers=HTML).status_code == 302
    return browser


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def post(browser: FlaskClient, path: str, data: dict[str, str] | None = None, back: str = USERS) -> Any:
    page = browser.get(back, headers=HTML).get_data(as_text=True)
    form = {"csrf": csrf_of(page), "form_id": "user-actions", "back": back, **(data or {})}
    return browser.post(path, data=form, headers=HTML)


def shown_secret(page: str) -> str | None:
    found = re.search(r'id="shown-secret"[^>]*value="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


def works(world: World, token: str) -> int:
    answer = world.client.get(f"/api/assignments/{world.assignment_id}", headers={"Authorization": f"Bearer {token}"})
    return int(answer.status_code)


def audit(world: World, action: str) -> list[tuple[str | None, str]]:
    with world.app.app_context():
        return [(e.actor_id, e.subject) for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))]


@pytest.mark.parametrize("role", ["learner", "mentor", "staff", "outsider"])
def test_only_administrators_see_or_use_the_page(world: World, role: str) -> None:
    caller = {"learner": world.learners[0], "mentor": world.mentor, "staff": world.staff, "outsider": world.outsider}[role]
    browser = signed_in(world, caller)
    page = browser.get(USERS, headers=HTML)
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "Only an administrator may manage users." in text and "learner1@example.org" not in text
    home = browser.get("/", headers=HTML).get_data(as_text=True)
    assert 'href="/admin/users"' not in home
    # Their forms are refused too, and change nothing.
    csrf = csrf_of(home)
    target = world.learners[1]
    for path in (f"{USERS}/{target.id}/token", f"{USERS}/{target.id}/sign-in-link"):
        refused = browser.post(path, data={"csrf": csrf, "form_id": "user-actions"}, headers=HTML)
        assert refused.status_code == 403, path
    created = browser.post(USERS, data={"csrf": csrf, "form_id": "create-user", "email": "new@example.org", "name": "New"}, headers=HTML)
    assert created.status_code == 403
    assert works(world, target.token) == 200
    with world.app.app_context():
        assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None
    assert audit(world, "user.token_issued") == [] and all(actor != caller.id for actor, _ in audit(world, "user.created"))


def test_signed_out_browsers_are_asked_to_sign_in(world: World) -> None:
    browser = world.app.test_client()
    page = browser.get(USERS, headers=HTML)
    assert page.status_code == 401 and "<h1>" in page.get_data(as_text=True)
    posted = browser.post(f"{USERS}/{world.learners[0].id}/token", data={"form_id": "user-actions"}, headers=HTML)
    assert posted.status_code == 401
    assert works(world, world.learners[0].token) == 200


def test_the_admin_finds_users_by_email_or_name_and_pages_through_them(world: World) -> None:
    for i in range(30):
        make_user(world.app, world.client, f"person{i:02d}@example.org", f"Zed Person {i:02d}")
    make_user(world.app, world.client, "under_score@example.org", "Percent 100% Sure")
    admin = signed_in(world, world.admin)
    page = admin.get(USERS, headers=HTML)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "<h1>Users</h1>" in text and "Users 1–25 of 40" in text
    assert 'class="reflow"' in text and 'data-label="Email"' in text
    assert "admin@example.org" in text and "person29@example.org" not in text
    second = admin.get(f"{USERS}?page=2", headers=HTML).get_data(as_text=True)
    assert "Users 26–40 of 40" in second and "person29@example.org" in second and "admin@example.org" not in second
    assert "Previous page" in second and "Next page" not in second

    by_name = admin.get(f"{USERS}?q=zed+person+0", headers=HTML).get_data(as_text=True)
    assert "10 users match" in by_name
    assert "person09@example.org" in by_name and "person10@example.org" not in by_name
    by_email = admin.get(f"{USERS}?q=MENTOR@", headers=HTML).get_data(as_text=True)
    assert "1 user matches" in by_email and "mentor@example.org" in by_email and "staff@example.org" not in by_email
    # What is typed is matched as text: % and _ are no wildcards.
    percent = admin.get(f"{USERS}?q=100%25", headers=HTML).get_data(as_text=True)
    assert "1 user matches" in percent and "under_score@example.org" in percent
    underscore = admin.get(f"{USERS}?q=r_s", headers=HTML).get_data(as_text=True)
    assert "1 user matches" in underscore
    nobody = admin.get(f"{USERS}?q=nobody-at-all", headers=HTML).get_data(as_text=True)
    assert "Nobody's email or name contains “nobody-at-all”." in nobody and 'id="users"' not in nobody
    assert admin.get(f"{USERS}?page=abc", headers=HTML).status_code == 200
    # A page of users costs the same number of queries however many users there are.
    with counting_queries(world.app) as few:
        admin.get(f"{USERS}?q=mentor", headers=HTML)
    with counting_queries(world.app) as many:
        admin.get(USERS, headers=HTML)
    assert len(many) == len(few)


def test_the_admin_creates_a_user_and_sees_their_token_once(world: World) -> None:
    admin = signed_in(world, world.admin)
    page = admin.get(USERS, headers=HTML).get_data(as_text=True)
    form = {
        "csrf": csrf_of(page),
        "form_id": "create-user",
        "back": USERS,
        "email": " Nia@Example.org ",
        "name": "Nia New",
        "is_admin": "1",
    }
    sent = admin.post(USERS, data=form, headers=HTML)
    assert sent.status_code == 303 and sent.headers["Location"] == USERS
    shown = admin.get(USERS, headers=HTML).get_data(as_text=True)
    token = shown_secret(shown)
    assert token and token.startswith("fp_")
    assert "Nia New can now be added to courses." in shown and "nia@example.org" in shown
    assert works(world, token) == 200  # an administrator's token reads every course
    assert world.client.post("/api/courses", json={"title": "By Nia"}, headers={"Authorization": f"Bearer {token}"}).status_code == 201
    again = admin.get(USERS, headers=HTML).get_data(as_text=True)
    assert shown_secret(again) is None and token not in again
    with world.app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nia@example.org"))
        assert user is not None and user.is_admin is True and user.name == "Nia New"
    assert (world.admin.id, f"user:{user.id}") in audit(world, "user.created")


def test_create_refusals_sit_beside_their_fields_and_keep_the_text(world: World) -> None:
    admin = signed_in(world, world.admin)
    page = admin.get(USERS, headers=HTML).get_data(as_text=True)
    base = {"csrf": csrf_of(page), "form_id": "create-user", "back": USERS}

    duplicate = admin.post(USERS, data={**base, "email": "Staff@example.org", "name": "Sam Again"}, headers=HTML)
    assert duplicate.status_code == 303
    text = admin.get(USERS, headers=HTML).get_data(as_text=True)
    email_error = re.search(r'id="create-user-email-error">([^<]+)<', text)
    assert email_error and "already has the email staff@example.org" in html.unescape(email_error.group(1))
    assert 'value="Sam Again"' in text and shown_secret(text) is None

    bad = admin.post(USERS, data={**base, "email": "not an email", "name": ""}, headers=HTML)
    assert bad.status_code == 303
    text = html.unescape(admin.get(USERS, headers=HTML).get_data(as_text=True))
    assert re.search(r'id="create-user-email-error">Give an email address like name@example.org.<', text)
    assert re.search(r'id="create-user-name-error">Give the person\'s name.<', text)
    assert 'value="not an email"' in text
    assert "invalid_request" not in text and "is_admin" not in text.split("<form", 1)[0]
    with world.app.app_context():
        assert db.session.scalar(select(User).where(User.name == "Sam Again")) is None


def test_a_new_token_from_the_page_replaces_the_old_one(world: World) -> None:
    learner = world.learners[0]
    learner_browser = signed_in(world, learner)
    admin = signed_in(world, world.admin)
    back = f"{USERS}?q=learner0"
    sent = post(admin, f"{USERS}/{learner.id}/token", back=back)
    assert sent.status_code == 303 and sent.headers["Location"] == back
    page = admin.get(back, headers=HTML).get_data(as_text=True)
    token = shown_secret(page)
    assert token and token != learner.token and token not in sent.headers["Location"]
    assert "Learner 0 has a new API token; their old one no longer works." in page
    assert works(world, learner.token) == 401 and works(world, token) == 200
    with world.app.app_context():
        assert list(db.session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == learner.id))) == [hash_secret(token)]
    assert audit(world, "user.token_issued") == [(world.admin.id, f"user:{learner.id}")]
    # The learner's page sessions ended with the old token.
    assert learner_browser.get(f"/assignments/{world.assignment_id}", headers=HTML).status_code == 401
    # Shown once.
    assert shown_secret(admin.get(back, headers=HTML).get_data(as_text=True)) is None
    missing = post(admin, f"{USERS}/no-such-user/token")
    assert missing.status_code == 404


def test_an_admin_who_replaces_their_own_token_stays_signed_in_here(world: World) -> None:
    admin = signed_in(world, world.admin)
    other_browser = signed_in(world, world.admin)
    assert post(admin, f"{USERS}/{world.admin.id}/token").status_code == 303
    page = admin.get(USERS, headers=HTML)
    assert page.status_code == 200
    token = shown_secret(page.get_data(as_text=True))
    assert token and works(world, world.admin.token) == 401
    assert world.client.post("/api/courses", json={"title": "T"}, headers={"Authorization": f"Bearer {token}"}).status_code == 201
    assert other_browser.get(USERS, headers=HTML).status_code == 401


def test_the_admin_makes_a_sign_in_link_for_anyone(world: World) -> None:
    admin = signed_in(world, world.admin)
    for person in (world.staff, world.mentor, world.learners[2]):
        assert post(admin, f"{USERS}/{person.id}/sign-in-link").status_code == 303
        page = admin.get(USERS, headers=HTML).get_data(as_text=True)
        url = shown_secret(page)
        assert url and "/sign-in/sl_" in url
        assert shown_secret(admin.get(USERS, headers=HTML).get_data(as_text=True)) is None
        browser = world.app.test_client()
        assert browser.get(urlsplit(url).path, headers=HTML).status_code == 302
        assert browser.get(f"/assignments/{world.assignment_id}", headers=HTML).status_code == 200
        assert browser.get(urlsplit(url).path, headers=HTML).status_code == 400  # single use
    subjects = [s for actor, s in audit(world, "sign_in_link.created") if actor == world.admin.id]
    assert {f"user:{p.id}" for p in (world.staff, world.mentor, world.learners[2])} <= set(subjects)


def test_a_stale_form_sends_nothing(world: World) -> None:
    admin = signed_in(world, world.admin)
    refused = admin.post(
        f"{USERS}/{world.learners[0].id}/token", data={"csrf": "old", "form_id": "user-actions", "back": USERS}, headers=HTML
    )
    assert refused.status_code == 303
    assert works(world, world.learners[0].token) == 200
    assert "Nothing was sent yet" in admin.get(USERS, headers=HTML).get_data(as_text=True)

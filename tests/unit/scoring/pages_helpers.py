"""Signing in to the pages in a test client, and sending their forms as a browser does."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from reviews.accounts.callers import SESSION_KEY
from reviews.accounts.services import start_web_session
from reviews.kernel.db import db
from tests.conftest import Caller, World, make_user

HTML = {"Accept": "text/html"}


def page_client(app: Flask, user_id: str, course_id: str | None = None) -> FlaskClient:
    """A browser with a live page session of the user's (what opening a sign-in link leaves)."""
    client = app.test_client()
    with app.app_context():
        secret = start_web_session(db.session, user_id, course_id, hours=1)
        db.session.commit()
    with client.session_transaction() as session:
        session[SESSION_KEY] = secret
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page carries a form with its CSRF token"
    return found.group(1)


def post_form(client: FlaskClient, page: str, action: str, form_id: str, fields: dict[str, Any], **kw: Any) -> Any:
    """Open ``page``, then send the form ``form_id`` to ``action`` with its hidden fields, as the browser would."""
    opened = client.get(page, headers=HTML)
    assert opened.status_code == 200, opened.status_code
    data = {"csrf": csrf_of(opened.get_data(as_text=True)), "form_id": form_id, "back": page, **fields}
    return client.post(action, data=data, headers=HTML, **kw)


def other_course_staff(world: World) -> Caller:
    """Staff of the other course (no role in the world's course)."""
    other = make_user(world.app, world.client, "otherstaff@example.org", "Other Staff")
    added = world.admin.post(f"/api/courses/{world.other_course_id}/members", json={"user_id": other.id, "role": "staff"})
    assert added.status_code == 201
    return other

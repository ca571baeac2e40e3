"""The form kernel (reviews/web/forms.py) as a person meets it: a refused form comes back filled in with the
sentence beside its field, a reload never sends again, and a form sent after the session ended or from a page
opened before signing in again keeps its text until it is sent by hand."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Blueprint, Flask, render_template_string, request
from flask.testing import FlaskClient

from reviews.accounts.callers import signed_in
from reviews.accounts.models import User
from reviews.accounts.services import create_sign_in_link, create_user, end_web_sessions
from reviews.kernel.db import db
from reviews.kernel.errors import DomainError
from reviews.web.forms import check_csrf, keep_form, safe_back, submit_form
from reviews.web.models import FormDraft

HTML = {"Accept": "text/html"}
PAGE = """{% extends "web/base.html" %}{% import "web/forms.html" as forms %}{% block body %}
<h1>Notes</h1>{% set f = form_state("note") %}
<form method="post" action="/t/notes">{{ forms.hidden("note") }}{{ forms.form_errors(f) }}
{{ forms.input(f, "title", "Title") }}{{ forms.textarea(f, "body", "Your note") }}<button>Send</button></form>
<p id="sent">{{ sent|join("|") }}</p>{% endblock %}"""


@pytest.fixture
def notes(app: Flask) -> Iterator[list[str]]:
    """A page with one form whose work refuses an empty title (as a service would) and records what was sent."""
    sent: list[str] = []
    bp = Blueprint("t_notes", __name__)

    @bp.route("/t/notes")
    def page() -> Any:
        signed_in()
        return render_template_string(PAGE, sent=sent)

    @bp.route("/t/notes", methods=["POST"])
    def post() -> Any:
        check_csrf()
        signed_in()
        title, body = request.form.get("title", ""), request.form.get("body", "")
        if len(body) > 50_000:
            return keep_form("note", "/t/notes", {"body": ["Keep the note under 50,000 characters."]})

        def work() -> None:
            if not title.strip():
                raise DomainError("invalid_request", "x", {"fields": {"title": ["Give the note a title."]}})
            if title == "taken":
                raise DomainError("conflict", "A note with that title exists: choose another title.")
            sent.append(f"{title}:{body}")

        return submit_form("note", "/t/notes", work, "Note sent.")

    app.register_blueprint(bp)
    yield sent


def _person(app: Flask, email: str) -> str:
    with app.app_context():
        user, _ = create_user(db.session, email, email.split("@")[0])
        db.session.commit()
        return user.id


def _sign_in(app: Flask, client: FlaskClient, user_id: str) -> Any:
    with app.app_context():
        secret, _ = create_sign_in_link(db.session, db.session.get_one(User, user_id), minutes=30)
        db.session.commit()
    return client.get(f"/sign-in/{secret}", headers=HTML)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _open(client: FlaskClient) -> str:
    page = client.get("/t/notes", headers=HTML)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _send(client: FlaskClient, csrf: str, title: str, body: str) -> Any:
    return client.post("/t/notes", data={"csrf": csrf, "form_id": "note", "back": "/t/notes", "title": title, "body": body}, headers=HTML)


def test_a_refused_form_redirects_and_comes_back_filled_in_with_the_sentence_beside_the_field(
    app: Flask, client: FlaskClient, notes: list[str]
) -> None:
    _sign_in(app, client, _person(app, "ana@example.org"))
    answer = _send(client, _csrf(_open(client)), "", "My long answer that must not be lost")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/t/notes#form-note")
    html = _open(client)
    assert "My long answer that must not be lost" in html
    beside = r'<input id="note-title"[^>]*aria-describedby="note-title-error"[^>]*>\s*'
    field = re.search(beside + r'<span class="field-error" id="note-title-error">Give the note a title.</span>', html)
    assert field, html
    assert "see details" not in html and "invalid_request" not in html
    # Shown once: a reload of the page shows a fresh form, and nothing was ever sent.
    assert "My long answer" not in _open(client) and notes == []


def test_a_refusal_without_a_field_is_shown_on_the_form_and_success_says_so(app: Flask, client: FlaskClient, notes: list[str]) -> None:
    _sign_in(app, client, _person(app, "ana@example.org"))
    csrf = _csrf(_open(client))
    _send(client, csrf, "taken", "kept text")
    html = _open(client)
    assert re.search(r'<div class="form-errors" role="alert">\s*<p>A note with that title exists: choose another title.</p>', html)
    assert "kept text" in html and 'value="taken"' in html
    sent = _send(client, csrf, "Plan", "done")
    assert sent.status_code == 303 and notes == ["Plan:done"]
    assert "Note sent." in _open(client)


def test_a_page_check_keeps_the_text_too(app: Flask, client: FlaskClient, notes: list[str]) -> None:
    _sign_in(app, client, _person(app, "ana@example.org"))
    _send(client, _csrf(_open(client)), "Long", "y" * 50_001)
    html = _open(client)
    assert "Keep the note under 50,000 characters." in html and "y" * 50_001 in html


def test_a_form_opened_before_signing_in_again_keeps_its_text_and_sends_only_by_hand(
    app: Flask, client: FlaskClient, notes: list[str]
) -> None:
    ana = _person(app, "ana@example.org")
    _sign_in(app, client, ana)
    old_csrf = _csrf(_open(client))
    _sign_in(app, client, ana)  # signed in again (another tab): the open form's token is from the old sign-in
    stale = _send(client, old_csrf, "Plan", "typed before signing in again")
    assert stale.status_code == 303 and notes == []
    html = _open(client)
    assert "Nothing was sent yet" in html and "typed before signing in again" in html
    fresh = _csrf(html)
    assert fresh != old_csrf
    assert _send(client, fresh, "Plan", "typed before signing in again").status_code == 303
    assert notes == ["Plan:typed before signing in again"]


def test_a_form_sent_after_the_session_ended_asks_to_sign_in_then_comes_back_filled_in(
    app: Flask, client: FlaskClient, notes: list[str]
) -> None:
    ana = _person(app, "ana@example.org")
    _sign_in(app, client, ana)
    csrf = _csrf(_open(client))
    with app.app_context():
        end_web_sessions(db.session, ana)  # signed out everywhere (or expired)
        db.session.commit()
    answer = _send(client, csrf, "Plan", "written while the session ran out")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 401 and "Sign in again" in text and "nothing was sent" in text and "{" not in text.split("<body>")[1][:20]
    assert notes == []
    back = _sign_in(app, client, ana)
    assert back.status_code == 302, back.get_data(as_text=True) and back.headers["Location"].endswith("/t/notes#form-note")
    html = _open(client)
    assert "written while the session ran out" in html and "Nothing was sent yet" in html
    assert _send(client, _csrf(html), "Plan", "written while the session ran out").status_code == 303
    assert notes == ["Plan:written while the session ran out"]


def test_a_kept_text_is_never_shown_to_someone_else_signing_in_on_the_same_browser(
    app: Flask, client: FlaskClient, notes: list[str]
) -> None:
    ana, bob = _person(app, "ana@example.org"), _person(app, "bob@example.org")
    _sign_in(app, client, ana)
    csrf = _csrf(_open(client))
    with app.app_context():
        end_web_sessions(db.session, ana)
        db.session.commit()
    _send(client, csrf, "Private", "ana's private text")
    _sign_in(app, client, bob)
    assert "ana's private text" not in _open(client)
    with app.app_context():
        assert db.session.query(FormDraft).count() == 0  # dropped, not left for later


def test_a_post_from_no_page_of_ours_or_with_no_session_is_refused_in_words(app: Flask, client: FlaskClient, notes: list[str]) -> None:
    foreign = client.post("/t/notes", data={"title": "x", "body": "y"}, headers=HTML)
    assert foreign.status_code == 400 and "Nothing was sent" in foreign.get_data(as_text=True)
    signed_out = client.post("/t/notes", data={"form_id": "note", "back": "/t/notes", "title": "x", "body": "y"}, headers=HTML)
    assert signed_out.status_code == 401 and "Sign in again" in signed_out.get_data(as_text=True)
    assert notes == []


@pytest.mark.parametrize(
    "back", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "", "/ok\r\nSet-Cookie: x"]
)
def test_the_page_to_go_back_to_is_always_on_this_site(back: str) -> None:
    assert safe_back(back) == "/"
    assert safe_back("/assignments/abc?x=1") == "/assignments/abc?x=1"

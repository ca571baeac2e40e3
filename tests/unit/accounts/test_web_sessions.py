"""Attacks on the page session: a copied cookie replayed after sign-out, a cookie read by script or sent over
plain HTTP, pages framed or leaking their address, and sign-in secrets in the server's log."""

from __future__ import annotations

import logging
import re
import threading
import urllib.request
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

from reviews import settings
from reviews.accounts.models import User, WebSession
from reviews.accounts.services import issue_token
from reviews.kernel.db import db, utcnow
from reviews.kernel.redaction import redact
from reviews.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import World

HTML = {"Accept": "text/html"}
SIGNED_OUT = "Open the sign-in link you were given"


def admin_link(world: World, user_id: str) -> str:
    made = world.admin.post(f"/api/users/{user_id}/sign-in-links")
    assert made.status_code == 201, made.get_json()
    return str(made.get_json()["url"])


def session_cookie(response: Any) -> SimpleCookie:
    (header,) = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(header)
    return cookie


def replay(world: World, cookie_value: str, path: str) -> Any:
    """Another browser, sending only the copied cookie."""
    return world.app.test_client(use_cookies=False).get(path, headers={**HTML, "Cookie": f"session={cookie_value}"})


def sign_in(world: World, user_id: str) -> tuple[Any, str]:
    client = world.app.test_client()
    opened = client.get(urlsplit(admin_link(world, user_id)).path, headers=HTML)
    assert opened.status_code == 302
    return client, session_cookie(opened)["session"].value


def test_a_copied_cookie_is_refused_after_sign_out(world: World) -> None:
    learner = world.learners[0]
    browser, copied = sign_in(world, learner.id)
    page = f"/assignments/{world.assignment_id}"
    # The copy works while the session lives (so the refusal below is the sign-out's doing).
    assert replay(world, copied, page).status_code == 200
    home = browser.get("/", headers=HTML).get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', home)
    assert csrf and "Learner 0" in home
    assert browser.post("/sign-out", data={"csrf": csrf.group(1)}, headers=HTML).status_code == 302

    assert SIGNED_OUT in replay(world, copied, "/").get_data(as_text=True)
    refused = replay(world, copied, page)
    assert refused.status_code == 401 and "Sign in through the sign-in link" in refused.get_data(as_text=True)
    assert browser.get(page, headers=HTML).status_code == 401
    with world.app.app_context():
        (row,) = db.session.query(WebSession).filter_by(user_id=learner.id).all()
        assert row.revoked_at is not None
        assert copied not in row.token_hash  # only a hash of the cookie's secret is kept


def test_the_cookie_carries_no_user_id_and_a_forged_one_signs_nobody_in(world: World, app: Flask) -> None:
    learner = world.learners[0]
    browser, _ = sign_in(world, learner.id)
    with browser.session_transaction() as cookie:
        assert learner.id not in str(dict(cookie))
    forged = app.test_client()
    with forged.session_transaction() as cookie:
        cookie["user_id"] = learner.id
        cookie["web_session"] = "ws_guessed"
    assert forged.get(f"/assignments/{world.assignment_id}", headers=HTML).status_code == 401


def test_a_new_api_token_ends_the_users_page_sessions(world: World) -> None:
    learner = world.learners[0]
    _, copied = sign_in(world, learner.id)
    with world.app.app_context():
        issue_token(db.session, db.session.get_one(User, learner.id))
        db.session.commit()
    assert replay(world, copied, f"/assignments/{world.assignment_id}").status_code == 401


def test_sessions_end_when_idle_or_old(world: World) -> None:
    learner = world.learners[0]
    _, idle = sign_in(world, learner.id)
    _, old = sign_in(world, learner.id)
    page = f"/assignments/{world.assignment_id}"
    assert replay(world, idle, page).status_code == replay(world, old, page).status_code == 200
    with world.app.app_context():
        first, second = db.session.query(WebSession).filter_by(user_id=learner.id).order_by(WebSession.created_at).all()
        first.last_seen_at = utcnow() - timedelta(hours=world.app.config["WEB_SESSION_IDLE_HOURS"], minutes=1)
        second.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert replay(world, idle, page).status_code == 401
    assert replay(world, old, page).status_code == 401


def test_use_keeps_a_session_alive(world: World) -> None:
    learner = world.learners[0]
    _, cookie = sign_in(world, learner.id)
    with world.app.app_context():
        row = db.session.query(WebSession).filter_by(user_id=learner.id).one()
        row.last_seen_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    assert replay(world, cookie, "/").status_code == 200
    with world.app.app_context():
        seen = db.session.query(WebSession).filter_by(user_id=learner.id).one().last_seen_at
        assert utcnow() - seen < timedelta(minutes=1)


def test_signing_in_again_ends_the_browsers_previous_session(world: World) -> None:
    learner = world.learners[0]
    browser, first = sign_in(world, learner.id)
    opened = browser.get(urlsplit(admin_link(world, learner.id)).path, headers=HTML)
    assert opened.status_code == 302
    assert replay(world, first, "/assignments/" + world.assignment_id).status_code == 401
    assert browser.get("/assignments/" + world.assignment_id, headers=HTML).status_code == 200


def test_cookie_flags_over_http_and_https(world: World) -> None:
    learner = world.learners[0]
    assert world.app.config["SESSION_COOKIE_SECURE"] is False  # the embedded default (no DATABASE_URL)
    plain = world.app.test_client().get(urlsplit(admin_link(world, learner.id)).path, headers=HTML)
    flags = session_cookie(plain)["session"]
    assert flags["httponly"] is True and flags["samesite"] == "Lax" and not flags["secure"]

    path = urlsplit(admin_link(world, learner.id)).path
    secure = world.app.test_client().get(path, headers=HTML, base_url="https://fairpeer.test")
    assert secure.status_code == 302
    flags = session_cookie(secure)["session"]
    assert flags["secure"] is True and flags["httponly"] is True and flags["samesite"] == "Lax"


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SECURE": True}])
def test_secure_setting_marks_the_cookie_secure_even_behind_a_plain_http_proxy(world: World) -> None:
    opened = world.app.test_client().get(urlsplit(admin_link(world, world.learners[0].id)).path, headers=HTML)
    assert session_cookie(opened)["session"]["secure"] is True


def test_secure_cookies_by_default_in_a_deployment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert settings.from_environment(tmp_path)["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("DATABASE_URL", "postgresql://fairpeer@db.internal/fairpeer")
    assert settings.from_environment(tmp_path)["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")  # a deployment served over plain HTTP on purpose
    assert settings.from_environment(tmp_path)["SESSION_COOKIE_SECURE"] is False


def assert_security_headers(response: Any) -> None:
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_security_headers_on_pages_errors_files_and_api_answers(world: World) -> None:
    browser, _ = sign_in(world, world.learners[0].id)
    static = browser.get("/static/fairpeer.css")
    static.close()
    answers = [
        browser.get("/", headers=HTML),
        browser.get(f"/assignments/{world.assignment_id}", headers=HTML),
        browser.get("/no-such-page", headers=HTML),
        world.app.test_client().get(f"/assignments/{world.assignment_id}", headers=HTML),  # 401 page
        world.app.test_client().get("/sign-in/sl_not-a-link", headers=HTML),  # 400 page
        static,
        world.learners[0].get(f"/api/assignments/{world.assignment_id}"),
        world.client.get("/api/courses/x/assignments"),  # 401 JSON
        world.client.get("/api/openapi.json"),
        world.client.get("/healthz"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 404, 401, 400, 200, 200, 401, 200, 200]
    for answer in answers:
        assert_security_headers(answer)


def test_pages_carry_no_inline_script_or_style(world: World) -> None:
    """What the CSP would block (the browser test checks Chromium reports no violation)."""
    learner = world.learners[0]
    assert world.submit(learner).status_code == 201
    browser, _ = sign_in(world, learner.id)
    staff, _ = sign_in(world, world.staff.id)
    pages = [
        browser.get("/", headers=HTML),
        browser.get(f"/assignments/{world.assignment_id}", headers=HTML),
        browser.get(f"/records/{world.course_id}/{learner.id}", headers=HTML),
        staff.get(f"/courses/{world.course_id}/escalations", headers=HTML),
        staff.get(f"/assignments/{world.assignment_id}", headers=HTML),
        world.app.test_client().get("/", headers=HTML),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "<style" not in html and "<script" not in html and " style=" not in html, html[:300]
        assert re.search(r"\son[a-z]+=", html) is None
        assert 'href="/static/fairpeer.css"' in html


def test_redaction_of_sign_in_paths() -> None:
    line = '127.0.0.1 - - [03/Dec/2026 10:00:00] "GET /sign-in/sl_AbC-12_xyz HTTP/1.1" 302 -'
    assert redact(line) == '127.0.0.1 - - [03/Dec/2026 10:00:00] "GET /sign-in/[redacted] HTTP/1.1" 302 -'
    assert redact("GET /sign-in/sl_abc?x=1") == "GET /sign-in/[redacted]?x=1"
    assert redact("GET /assignments/abc") == "GET /assignments/abc"


def test_the_development_servers_log_holds_no_sign_in_secret(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """A real werkzeug server (what `fairpeer serve` runs) answers a sign-in link; its access log line is redacted."""
    world.app.config["SERVER_NAME"] = None
    url = admin_link(world, world.learners[0].id)
    secret = urlsplit(url).path.rsplit("/", 1)[1]
    server = make_server("127.0.0.1", 0, world.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            opener = urllib.request.build_opener(NoRedirect)
            try:
                opener.open(f"http://127.0.0.1:{server.server_port}/sign-in/{secret}", timeout=10)
            except urllib.error.HTTPError as exc:
                assert exc.code == 302
                exc.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any("/sign-in/[redacted]" in line for line in lines), lines
    assert not any(secret in line for line in lines)
    assert secret not in caplog.text


def test_gunicorns_access_log_holds_no_sign_in_secret_or_credential_header() -> None:
    from datetime import timedelta as duration

    from gunicorn.config import Config

    from reviews.gunicorn_conf import RedactingLogger, logger_class

    assert logger_class is RedactingLogger
    logger = RedactingLogger(Config())

    class Answer:
        status = "302 FOUND"
        sent = 0
        headers = (("Set-Cookie", "session=abc"),)

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/sign-in/sl_topsecret",
        "PATH_INFO": "/sign-in/sl_topsecret",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_REFERER": "https://fairpeer.example/sign-in/sl_othersecret",
    }
    request_headers = [("Authorization", "Bearer fp_token"), ("Cookie", "session=xyz")]
    atoms = logger.atoms(Answer(), request_headers, environ, duration(seconds=0.01))
    written = " ".join(str(v) for v in atoms.values())
    assert "sl_topsecret" not in written and "sl_othersecret" not in written
    assert "fp_token" not in written and "session=xyz" not in written and "session=abc" not in written
    assert atoms["r"] == "GET /sign-in/[redacted] HTTP/1.1"

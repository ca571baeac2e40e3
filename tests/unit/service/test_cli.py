"""The command line, and the embedded background runner that `fairpeer serve` starts with no configuration."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviews.cli import main
from tests.conftest import make_app


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("BROKER_URL", raising=False)
    return tmp_path


def test_init_users_and_link(cli_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert runner.invoke(main, ["init"]).exit_code == 0
    created = runner.invoke(main, ["users", "create", "--email", "Ada@Example.org", "--name", "Ada", "--admin"])
    assert created.exit_code == 0, created.output
    user = json.loads(created.output)
    assert set(user) == {"id", "email", "token"} and user["email"] == "ada@example.org"
    duplicate = runner.invoke(main, ["users", "create", "--email", "ada@example.org", "--name", "Ada"])
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    link = runner.invoke(main, ["users", "link", "--email", "ada@example.org", "--base-url", "http://host:1"])
    assert link.exit_code == 0 and link.output.startswith("http://host:1/sign-in/sl_")
    missing = runner.invoke(main, ["users", "link", "--email", "nobody@example.org"])
    assert missing.exit_code != 0 and "No user" in missing.output
    # The token works against the API, and only its hash is stored.
    app = make_app(cli_env / "cli.db")
    client = app.test_client()
    assert client.post("/api/courses", json={"title": "T"}, headers={"Authorization": f"Bearer {user['token']}"}).status_code == 201
    raw = (cli_env / "cli.db").read_bytes()
    assert user["token"].encode() not in raw
    app.extensions["fairpeer.db"][0].dispose()


def demo_links(output: str) -> dict[str, str]:
    """The persona: URL lines the demo prints (the lines around them are for the person reading)."""
    return dict(line.strip().split(": ", 1) for line in output.splitlines() if line.strip().split(":", 1)[0] in DEMO_PERSONAS)


DEMO_PERSONAS = {"learner", "mentor", "staff", "admin"}


def test_demo_fills_an_empty_database_and_prints_fresh_links_again(cli_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    result = runner.invoke(main, ["demo", "--base-url", "http://demo:5000"])
    assert result.exit_code == 0, result.output
    links = demo_links(result.output)
    assert set(links) == DEMO_PERSONAS
    assert all(url.startswith("http://demo:5000/sign-in/") for url in links.values())
    # Run again: the same personas, found by their demo emails, get fresh links; nothing is seeded twice.
    again = runner.invoke(main, ["demo", "--base-url", "http://demo:5000"])
    assert again.exit_code == 0, again.output
    assert "already there" in again.output
    fresh = demo_links(again.output)
    assert set(fresh) == DEMO_PERSONAS and not set(fresh.values()) & set(links.values())
    # The demo data can be browsed: the learner's link signs in and shows a released score on the record page.
    app = make_app(cli_env / "cli.db", SERVER_NAME=None)
    client = app.test_client()
    home = client.get(links["learner"].replace("http://demo:5000", ""), follow_redirects=True)
    assert home.status_code == 200 and "Project Planning 101" in home.get_data(as_text=True)
    assert home.get_data(as_text=True).count("Project Planning 101") >= 1
    record_path = next(part.split('"')[0] for part in home.get_data(as_text=True).split('href="')[1:] if part.startswith("/records/"))
    record = client.get(record_path).get_data(as_text=True)
    assert 'class="score"' in record
    mentor = app.test_client()
    queue_home = mentor.get(links["mentor"].replace("http://demo:5000", ""), follow_redirects=True).get_data(as_text=True)
    assert "Escalation queue" in queue_home
    used = mentor.get(links["mentor"].replace("http://demo:5000", ""))
    assert used.status_code == 400  # single use
    # The second run's links work too, for the same people.
    admin = app.test_client()
    admin_home = admin.get(fresh["admin"].replace("http://demo:5000", ""), follow_redirects=True).get_data(as_text=True)
    assert "Demo Admin" in admin_home
    with app.app_context():
        from sqlalchemy import func, select

        from reviews.accounts.models import User
        from reviews.courses.models import Course
        from reviews.kernel.db import db

        assert db.session.scalar(select(func.count(Course.id))) == 1
        assert db.session.scalar(select(func.count(User.id)).where(User.email == "ada@demo.fairpeer")) == 1
    app.extensions["fairpeer.db"][0].dispose()


def test_demo_refuses_a_database_with_other_data(cli_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert runner.invoke(main, ["users", "create", "--email", "someone@example.org", "--name", "Someone"]).exit_code == 0
    refused = runner.invoke(main, ["demo"])
    assert refused.exit_code != 0 and "not empty" in refused.output


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:5000"),
        ({"PORT": "8080"}, "http://127.0.0.1:8080"),
        ({"PORT": "8080", "FAIRPEER_BASE_URL": "https://reviews.example.org/"}, "https://reviews.example.org"),
    ],
)
def test_demo_links_point_where_the_service_is_served(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("FAIRPEER_BASE_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    result = runner.invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    links = demo_links(result.output)
    assert set(links) == DEMO_PERSONAS and all(url.startswith(expected + "/sign-in/sl_") for url in links.values())
    assert f"The links point at {expected}" in result.output and "--base-url" in result.output
    link = runner.invoke(main, ["users", "link", "--email", "staff@demo.fairpeer"])
    assert link.exit_code == 0 and link.output.startswith(expected + "/sign-in/sl_")


def test_users_token_replaces_the_token(cli_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    created = json.loads(runner.invoke(main, ["users", "create", "--email", "ada@example.org", "--name", "Ada", "--admin"]).output)
    issued = runner.invoke(main, ["users", "token", "--email", " ADA@example.org "])
    assert issued.exit_code == 0, issued.output
    renewed = json.loads(issued.output)
    assert set(renewed) == {"id", "email", "token"}
    assert renewed["id"] == created["id"] and renewed["email"] == "ada@example.org" and renewed["token"] != created["token"]
    missing = runner.invoke(main, ["users", "token", "--email", "nobody@example.org"])
    assert missing.exit_code != 0 and "No user has the email nobody@example.org" in missing.output
    app = make_app(cli_env / "cli.db")
    client = app.test_client()

    def status(token: str) -> int:
        return int(client.post("/api/courses", json={"title": "T"}, headers={"Authorization": f"Bearer {token}"}).status_code)

    assert status(created["token"]) == 401
    assert status(renewed["token"]) == 201
    with app.app_context():
        from sqlalchemy import select

        from reviews.kernel.audit import AuditEvent
        from reviews.kernel.db import db

        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.token_issued")).all()
        assert [(e.actor_id, e.subject) for e in events] == [(None, f"user:{created['id']}")]
    app.extensions["fairpeer.db"][0].dispose()


def test_serve_listens_on_port_from_the_environment(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reviews.cli

    listened: list[tuple[str, int]] = []
    monkeypatch.setattr(reviews.cli, "run_simple", lambda host, port, *_a, **_k: listened.append((host, port)))
    monkeypatch.setattr(reviews.cli, "start_embedded", lambda app: app)
    monkeypatch.setattr(reviews.cli.logs, "configure", lambda *a, **k: None)
    monkeypatch.setenv("PORT", "8123")
    assert CliRunner().invoke(main, ["serve"]).exit_code == 0
    assert CliRunner().invoke(main, ["serve", "--port", "8200"]).exit_code == 0
    monkeypatch.delenv("PORT")
    assert CliRunner().invoke(main, ["serve"]).exit_code == 0
    assert listened == [("127.0.0.1", 8123), ("127.0.0.1", 8200), ("127.0.0.1", 5000)]


def test_openapi_command_matches_committed(cli_env: Path) -> None:
    result = CliRunner().invoke(main, ["openapi"])
    assert result.exit_code == 0
    committed = json.loads((Path(__file__).resolve().parents[3] / "docs" / "openapi.json").read_text())
    assert json.loads(result.output) == committed


def test_worker_refuses_without_broker(cli_env: Path) -> None:
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code != 0 and "No broker configured" in result.output


def test_embedded_runner_runs_tasks_and_answers_health(template_db: Path, tmp_path: Path) -> None:
    import shutil

    from workers.celery_app import start_embedded

    shutil.copy(template_db, tmp_path / "e.db")
    app = make_app(tmp_path / "e.db", BACKGROUND_MODE="embedded", SWEEP_SECONDS=1)
    start_embedded(app)
    try:
        from tests.conftest import build_world

        world = build_world(app, app.test_client(), n_learners=3)
        world.submit_and_review()
        assert app.test_client().get("/healthz").status_code == 200
        deadline = time.monotonic() + 20
        score = None
        while time.monotonic() < deadline:
            progress = world.learners[0].get(f"/api/assignments/{world.assignment_id}/progress").get_json()
            score = progress["score"]
            if score and score.get("value") is not None:
                break
            time.sleep(0.1)
        assert score and score["value"] is not None
    finally:
        app.extensions["fairpeer.background"].stop()
        app.extensions["fairpeer.db"][0].dispose()

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


def test_demo_fills_an_empty_database_once(cli_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    result = runner.invoke(main, ["demo", "--base-url", "http://demo:5000"])
    assert result.exit_code == 0, result.output
    links = dict(line.strip().split(": ", 1) for line in result.output.strip().splitlines())
    assert set(links) == {"learner", "mentor", "staff", "admin"}
    assert all(url.startswith("http://demo:5000/sign-in/") for url in links.values())
    again = runner.invoke(main, ["demo"])
    assert again.exit_code != 0 and "not empty" in again.output
    # The demo data can be browsed: the learner's link signs in and shows a released score on the record page.
    app = make_app(cli_env / "cli.db", SERVER_NAME=None)
    client = app.test_client()
    home = client.get(links["learner"].replace("http://demo:5000", ""), follow_redirects=True)
    assert home.status_code == 200 and "Project Planning 101" in home.get_data(as_text=True)
    record_path = next(part.split('"')[0] for part in home.get_data(as_text=True).split('href="')[1:] if part.startswith("/records/"))
    record = client.get(record_path).get_data(as_text=True)
    assert 'class="score"' in record
    mentor = app.test_client()
    queue_home = mentor.get(links["mentor"].replace("http://demo:5000", ""), follow_redirects=True).get_data(as_text=True)
    assert "Escalation queue" in queue_home
    used = mentor.get(links["mentor"].replace("http://demo:5000", ""))
    assert used.status_code == 400  # single use
    app.extensions["fairpeer.db"][0].dispose()


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

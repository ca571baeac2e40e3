"""Configuration from the environment: nothing set means SQLite and in-process work, touching no PostgreSQL or Redis."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from reviews import settings
from reviews.kernel.db import normalise_url
from reviews.kernel.logs import JsonFormatter, task_id


def test_embedded_default_touches_no_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "BROKER_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    config = settings.from_environment(tmp_path / "instance")
    assert config["DATABASE_URL"].startswith("sqlite:///") and config["DATABASE_URL"].endswith("fairpeer.db")
    assert config["BROKER_URL"] is None and config["REDIS_URL"] is None
    assert config["BACKGROUND_MODE"] == "embedded"
    # A secret key is generated once and kept.
    assert config["SECRET_KEY"] == settings.from_environment(tmp_path / "instance")["SECRET_KEY"]

    from reviews.app import create_app

    monkeypatch.chdir(tmp_path)
    app = create_app()
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.extensions["fairpeer.db"][0].dialect.name == "sqlite"


def test_production_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://fairpeer@db.internal/fairpeer")
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/0")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    config = settings.from_environment(tmp_path)
    assert config["BACKGROUND_MODE"] == "celery" and config["BROKER_URL"] == "redis://cache.internal:6379/0"
    assert normalise_url(config["DATABASE_URL"]).startswith("postgresql+psycopg://")
    assert config["SECRET_KEY"] == "s3cret"


def test_json_logs_carry_the_task_id() -> None:
    record = logging.LogRecord("workers.tasks", logging.INFO, __file__, 1, "recalibrated %s", ("a1",), None)
    token = task_id.set("task-123")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        task_id.reset(token)
    assert line["message"] == "recalibrated a1" and line["task_id"] == "task-123" and line["level"] == "info"

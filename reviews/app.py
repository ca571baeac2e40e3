"""The Flask application factory: the kernel, then every feature's API, pages and tasks."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

from flask import Flask

from reviews import settings
from reviews.accounts.callers import load_caller
from reviews.kernel import auth, error_handlers
from reviews.kernel.api import api
from reviews.kernel.db import db
from reviews.kernel.ratelimit import limiter
from reviews.ops.health import bp as health
from reviews.web import bp as web
from reviews.web import render_error

# Each feature folder may hold routes.py (its API blueprint ``blp``), pages.py (its pages blueprint ``bp``) and
# tasks.py (its background tasks, registered when imported).
FEATURES = ("accounts", "courses", "submissions", "allocation", "scoring", "integrity", "moderation", "records", "ops")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment, then ``config`` on top (tests pass their own)."""
    app = Flask("reviews", instance_path=str(Path.cwd() / "instance"), instance_relative_config=False)
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.from_environment(Path(app.instance_path)))
    app.config.update(config or {})
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    # Limit headers on every answer cost a storage round trip each; a 429 still says when to retry.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # Redis unreachable: count in this process instead of failing the request.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)

    db.init_app(app)
    error_handlers.init_app(app, render_html=render_error)
    auth.init_app(app, load_caller)
    limiter.init_app(app)
    api.init_app(app)
    app.register_blueprint(web)
    app.register_blueprint(health)
    register_features(app)
    app.before_request(error_handlers.check_media_type)
    return app


def feature_modules(kind: str) -> list[Any]:
    """The ``kind`` module (``routes``, ``pages`` or ``tasks``) of every feature that has one."""
    found = []
    for feature in FEATURES:
        name = f"reviews.{feature}.{kind}"
        if importlib.util.find_spec(name) is not None:
            found.append(importlib.import_module(name))
    return found


def register_features(app: Flask) -> None:
    for routes in feature_modules("routes"):
        api.register_blueprint(routes.blp)
    for pages in feature_modules("pages"):
        app.register_blueprint(pages.bp)
    feature_modules("tasks")  # importing a tasks module registers its tasks

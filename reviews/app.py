"""The Flask application factory: the kernel, then every feature's API, pages and tasks."""

from __future__ import annotations

import importlib
import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask

from reviews import settings
from reviews.accounts.callers import load_caller, session_owner_id
from reviews.kernel import auth, error_handlers, inputs, logs, metrics
from reviews.kernel.api import api
from reviews.kernel.background import QUEUE_DEPTH
from reviews.kernel.db import db
from reviews.kernel.ratelimit import limiter
from reviews.moderation.services import unresolved_cases
from reviews.ops.health import bp as health
from reviews.web import bp as web
from reviews.web import forms, render_error, security

# Each feature folder may hold routes.py (its API blueprint ``blp``), pages.py (its pages blueprint ``bp``) and
# tasks.py (its background tasks, registered when imported).
FEATURES = (
    "accounts",
    "courses",
    "submissions",
    "training",
    "allocation",
    "scoring",
    "integrity",
    "moderation",
    "notifications",
    "records",
    "credentials",
    "ops",
)


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

    # First: their request hooks run before every other (the id and the clock start) and after every other.
    logs.init_app(app)
    metrics.init_app(app, SCRAPE_GAUGES)
    db.init_app(app)
    error_handlers.init_app(app, render_html=render_error)
    inputs.init_app(app)  # before any blueprint: its id converter must be the default
    auth.init_app(app, load_caller)
    security.init_app(app)  # security headers, the session cookie's flags, no secret in the server's log
    limiter.init_app(app)
    forms.init_app(app, session_owner_id)  # kept form drafts, the `size` filter, stale forms answered without losing the text
    api.init_app(app)
    app.register_blueprint(web)
    app.register_blueprint(health)
    register_features(app)
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


def _unresolved_cases() -> dict[tuple[str, ...], float]:
    return {(kind, status): float(count) for kind, status, count, _ in unresolved_cases(db.session)}


def _oldest_unresolved_case_age() -> dict[tuple[str, ...], float]:
    now = datetime.now(UTC)
    oldest: dict[str, datetime] = {}
    for kind, _, _, opened in unresolved_cases(db.session):
        oldest[kind] = min(opened, oldest.get(kind, opened))
    return {(kind,): max(0.0, (now - opened).total_seconds()) for kind, opened in oldest.items()}


# Read when /metrics is scraped (each a query or a broker round trip; cheap).
SCRAPE_GAUGES = [
    QUEUE_DEPTH,
    metrics.ScrapeGauge(
        "fairpeer_cases_unresolved", "Escalation cases not yet resolved, by kind and status.", ("kind", "status"), _unresolved_cases
    ),
    metrics.ScrapeGauge(
        "fairpeer_case_oldest_unresolved_age_seconds",
        "Age of the oldest case not yet resolved, by kind (how long the escalation queue keeps people waiting).",
        ("kind",),
        _oldest_unresolved_case_age,
    ),
]

"""The Flask application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from reviews import settings
from reviews.kernel import errors
from reviews.kernel.api import api
from reviews.kernel.db import db
from reviews.kernel.ratelimit import limiter


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
    errors.init_app(app)
    limiter.init_app(app)
    api.init_app(app)
    _register_features(app)
    return app


def _register_features(app: Flask) -> None:
    from reviews.accounts.routes import blp as accounts
    from reviews.allocation.routes import blp as allocation
    from reviews.courses.routes import blp as courses
    from reviews.health import bp as health
    from reviews.moderation.routes import blp as moderation
    from reviews.pages.routes import bp as pages
    from reviews.records.routes import blp as records
    from reviews.scoring.routes import blp as scoring
    from reviews.submissions.routes import blp as submissions

    for blueprint in (accounts, courses, submissions, allocation, scoring, moderation, records):
        api.register_blueprint(blueprint)
    app.register_blueprint(health)
    app.register_blueprint(pages)
    app.before_request(errors.check_media_type)

"""/healthz: a real round trip through the database and the background work."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from reviews.kernel.db import db
from reviews.kernel.errors import error_body

bp = Blueprint("health", __name__)


@bp.route("/healthz", methods=["GET"])
def healthz() -> Any:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1")).scalar_one()
        db.session.rollback()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = f"failed: {type(exc).__name__}"
    try:
        background = current_app.extensions["fairpeer.background"]
        checks["background"] = "ok" if background.ping(current_app.config["HEALTH_TIMEOUT_SECONDS"]) else "no answer"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        checks["background"] = f"failed: {type(exc).__name__}"
    if all(v == "ok" for v in checks.values()):
        return jsonify({"status": "ok", "checks": checks})
    body = error_body("unavailable", "The service is not healthy; see details.checks.", {"checks": checks})
    return jsonify(body), 503

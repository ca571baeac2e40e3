"""Rendering helpers shared by the pages."""

from __future__ import annotations

import secrets
from typing import Any

from flask import abort, render_template, request, session


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def check_csrf() -> None:
    """Every page form posts the session's token: another site cannot post on a signed-in user's behalf."""
    sent = request.form.get("csrf", "")
    if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
        abort(400)


def render_error(status: int, message: str) -> Any:
    return render_template("error.html", status=status, message=message), status

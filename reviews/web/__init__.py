"""The small web kernel every feature's pages share: the layout, CSRF, forms and error pages.

Each feature keeps its own pages (``reviews/<feature>/pages.py``) and templates; they extend ``web/base.html``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session
from werkzeug.wrappers import Response

from reviews.kernel.auth import current_caller_or_none
from reviews.kernel.db import db
from reviews.kernel.errors import DomainError
from reviews.kernel.transaction import run_in_transaction

bp = Blueprint("web", __name__, template_folder="templates")


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "user": current_caller_or_none() if request else None}


def feature_pages(name: str, import_name: str) -> Blueprint:
    """A feature's pages blueprint (``<feature>_pages``), with the feature's own ``templates/`` folder."""
    return Blueprint(f"{name}_pages", import_name, template_folder="templates")


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


def back_to(url: str, message: str, category: str = "ok") -> Response:
    """Redirect after a form post (so a reload does not post again), with a message for the next page."""
    flash(message, category)
    return redirect(url)


def act(work: Callable[[], object], back: str, done: str | None = None) -> Response:
    """A page action in its own transaction: commit and go back to ``back`` (saying ``done``), or roll back and go
    back with the refusal's sentence. The services decide; this only turns their answer into a page answer. A
    deadlock runs the work again (kernel/transaction.py)."""

    def attempt() -> None:
        work()
        db.session.commit()

    try:
        run_in_transaction(db.session, attempt)
    except DomainError as exc:
        db.session.rollback()
        return back_to(back, exc.message, "error")
    return back_to(back, done) if done else redirect(back)


def render_error(status: int, message: str) -> tuple[str, int]:
    """The HTML error page; the app factory hands this to the kernel's error handlers."""
    return render_template("web/error.html", status=status, message=message), status

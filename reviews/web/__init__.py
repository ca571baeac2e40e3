"""The small web kernel every feature's pages share: the layout, CSRF, forms (forms.py) and error pages.

Each feature keeps its own pages (``reviews/<feature>/pages.py``) and templates; they extend ``web/base.html``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request

from reviews.kernel.auth import current_caller_or_none
from reviews.web.forms import check_csrf, csrf_token, keep_unauthenticated_post

__all__ = ["bp", "check_csrf", "csrf_token", "feature_pages", "has_endpoint", "render_error"]

bp = Blueprint("web", __name__, template_folder="templates")


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "user": current_caller_or_none() if request else None, "has_endpoint": has_endpoint}


def has_endpoint(name: str) -> bool:
    """Whether a page exists (for links to pages of features that may be left out)."""
    return name in current_app.view_functions


def feature_pages(name: str, import_name: str) -> Blueprint:
    """A feature's pages blueprint (``<feature>_pages``), with the feature's own ``templates/`` folder."""
    return Blueprint(f"{name}_pages", import_name, template_folder="templates")


def render_error(status: int, message: str) -> tuple[str, int]:
    """The HTML error page; the app factory hands this to the kernel's error handlers. A page form sent after its
    session ended keeps its text and asks the person to sign in again (reviews/web/forms.py)."""
    if status == 401 and keep_unauthenticated_post():
        return render_template("web/sign_in_again.html", kept=True), status
    return render_template("web/error.html", status=status, message=message), status

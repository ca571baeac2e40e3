"""The inbox page: a person's own notifications, newest first, marked read one by one or all at once; and the
header's unread count (one COUNT per page, kept on ``g``)."""

from __future__ import annotations

from typing import Any

from flask import g, render_template, request, url_for
from werkzeug.wrappers import Response

from reviews.accounts.callers import signed_in
from reviews.kernel.auth import current_caller_or_none
from reviews.kernel.db import db
from reviews.notifications import services as notifications
from reviews.web import check_csrf, feature_pages
from reviews.web.forms import safe_back, submit_form

bp = feature_pages("notifications", __name__)


@bp.app_context_processor
def _inbox_count() -> dict[str, Any]:
    def inbox_unread() -> int:
        """Counted once per page, and only when the header asks (a signed-in person's page)."""
        if "inbox_unread" not in g:
            caller = current_caller_or_none()
            g.inbox_unread = notifications.unread_count(db.session, caller.id) if caller is not None else 0
        return int(g.inbox_unread)

    return {"inbox_unread": inbox_unread}


@bp.route("/inbox")
def inbox() -> Any:
    user = signed_in()
    items = notifications.inbox(db.session, user.id)
    return render_template("notifications/inbox.html", items=items, page_size=notifications.INBOX_PAGE)


@bp.route("/inbox/<notification_id>/read", methods=["POST"])
def mark_read(notification_id: str) -> Response:
    check_csrf()
    user = signed_in()
    own = notifications.own_notification(db.session, notification_id, user)
    inbox_url = url_for("notifications_pages.inbox")

    def then() -> str | None:
        # "Open" marks it read and goes to what it is about (a path on this site only).
        return safe_back(own.link, inbox_url) if request.form.get("open") and own.link else None

    return submit_form("read", inbox_url, lambda: notifications.mark_read(db.session, own), after=then)


@bp.route("/inbox/read-all", methods=["POST"])
def mark_all_read() -> Response:
    check_csrf()
    user = signed_in()
    back = url_for("notifications_pages.inbox")
    return submit_form("read-all", back, lambda: notifications.mark_all_read(db.session, user), "Everything in your inbox is marked read.")

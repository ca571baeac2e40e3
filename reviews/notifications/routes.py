"""The inbox API: your own notifications, and marking them read."""

from __future__ import annotations

from typing import Any

from reviews.accounts.callers import current_user
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.notifications import services as notifications
from reviews.notifications.schemas import InboxSchema, MarkedSchema, NotificationSchema, notification_json

blp = Blueprint("notifications", __name__, url_prefix="/api", description="Your inbox")


@blp.route("/notifications", methods=["GET"])
@blp.response(200, InboxSchema)
def list_notifications() -> Any:
    """Your own notifications, newest first (the latest 100), and how many are unread. Anyone signed in."""
    caller = current_user()
    items = notifications.inbox(db.session, caller.id)
    return {"notifications": [notification_json(n) for n in items], "unread": notifications.unread_count(db.session, caller.id)}


@blp.route("/notifications/<notification_id>/read", methods=["POST"])
@blp.response(200, NotificationSchema)
def mark_read(notification_id: str) -> Any:
    """Mark one of your notifications read (again: no change); another person's answers 404."""
    own = notifications.own_notification(db.session, notification_id, current_user())
    notifications.mark_read(db.session, own)
    db.session.commit()
    return notification_json(own)


@blp.route("/notifications/read", methods=["POST"])
@blp.response(200, MarkedSchema)
def mark_all_read() -> Any:
    """Mark every one of your notifications read."""
    marked = notifications.mark_all_read(db.session, current_user())
    db.session.commit()
    return {"marked": marked}

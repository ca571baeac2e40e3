"""The inbox: notify a person (and email them when SMTP_URL is set), list, count and mark read."""

from __future__ import annotations

import base64
import hashlib

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.kernel.background import enqueue
from reviews.kernel.db import new_id, utcnow
from reviews.kernel.errors import not_found
from reviews.notifications.models import Notification, OutboxEmail
from reviews.notifications.outbox import message_id_for
from reviews.notifications.tasks import send_email

INBOX_PAGE = 100


def keyed_id(key: str) -> str:
    """The id of the one notification a key stands for (e.g. one digest per person per day): the same key always
    gives the same id, so the primary key refuses a second one, however many runs try at once."""
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()[:16]).decode().rstrip("=")


def notify(session: Session, user_id: str, kind: str, subject: str, body: str, link: str = "", key: str | None = None) -> Notification:
    """Put a notification in the person's inbox and, when email is on (SMTP_URL), an email in the outbox, in the
    caller's transaction: both are committed with the change they tell of, or neither. The email is sent after
    the commit (and by the sweep, if that send is lost). With ``key`` the notification's id comes from it
    (``keyed_id``): a second one with the same key fails to insert."""
    notification = Notification(
        id=keyed_id(key) if key else new_id(), user_id=user_id, kind=kind, subject=subject[:200], body=body, link=link[:500]
    )
    session.add(notification)
    config = current_app.config
    if config.get("SMTP_URL"):
        user = session.get_one(User, user_id)
        session.flush()
        outbox_id = new_id()
        base = (config.get("BASE_URL") or "").rstrip("/")
        text = body + (f"\n\n{base}{link}" if base and link else "") + "\n\nYou find this in your fairpeer inbox too."
        session.add(
            OutboxEmail(
                id=outbox_id,
                notification_id=notification.id,
                to_address=user.email,
                subject=subject[:200],
                body=text,
                message_id=message_id_for(outbox_id, config["EMAIL_FROM"]),
            )
        )
        enqueue(session, send_email, outbox_id)
    return notification


def notify_many(session: Session, user_ids: list[str], kind: str, subject: str, body: str, link: str = "") -> None:
    for user_id in dict.fromkeys(user_ids):
        notify(session, user_id, kind, subject, body, link)


def unread_count(session: Session, user_id: str) -> int:
    """One COUNT on the inbox index."""
    return int(
        session.scalar(select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0
    )


def inbox(session: Session, user_id: str, limit: int = INBOX_PAGE) -> list[Notification]:
    """The person's notifications, newest first."""
    query = select(Notification).where(Notification.user_id == user_id)
    return list(session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def own_notification(session: Session, notification_id: str, user: User) -> Notification:
    """The caller's own notification; anyone else's answers 404, as one that does not exist."""
    found = session.get(Notification, notification_id)
    if found is None or found.user_id != user.id:
        raise not_found("That notification")
    return found


def mark_read(session: Session, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification


def mark_all_read(session: Session, user: User) -> int:
    done = session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return int(done.rowcount or 0)  # type: ignore[attr-defined]

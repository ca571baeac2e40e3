"""The inbox (one row per notification) and the email outbox (one row per email to send)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


class Notification(IdMixin, Base):
    """Something a person should know, shown in their inbox until they mark it read."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_inbox", "user_id", "read_at"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    read_at: Mapped[datetime | None]


class OutboxEmail(IdMixin, Base):
    """An email written in the same transaction as its notification, sent by a task (docs/design.md, Nothing lost).

    ``status`` goes pending -> sending (claimed under a lease until ``lease_until``) -> sent; a lease that expires
    (its sender died) lets the row be claimed again. ``message_id`` is derived from the row's id, so every attempt
    sends the same message."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_due", "status", "lease_until"),)

    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), unique=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")

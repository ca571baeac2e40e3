"""The audit trail: every change a person makes, and every recalibration run."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from reviews.kernel.db import Base, IdMixin


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"

    course_id: Mapped[str | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict[str, Any]]


def record(session: Session, course_id: str | None, actor_id: str | None, action: str, subject: str, **data: Any) -> None:
    """Add an audit event to the caller's transaction: it commits, or is lost, with the change it describes."""
    session.add(AuditEvent(course_id=course_id, actor_id=actor_id, action=action, subject=subject, data=data))

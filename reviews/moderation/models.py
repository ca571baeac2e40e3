from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin

OPEN, CLAIMED, STAFF_REVIEW, RESOLVED = "open", "claimed", "staff_review", "resolved"


class Case(IdMixin, Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_queue", "course_id", "status", "priority"),)

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[str | None] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(default=50)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_ids: Mapped[list[Any]]
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    opened_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    claimed_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None]
    evidence: Mapped[dict[str, Any]]
    outcome: Mapped[dict[str, Any] | None]
    # Cases the service opens itself carry a key, so the same finding never opens two cases.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    message: Mapped[str] = mapped_column(Text, default="")

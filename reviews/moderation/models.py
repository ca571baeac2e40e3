from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin

OPEN, CLAIMED, STAFF_REVIEW, RESOLVED = "open", "claimed", "staff_review", "resolved"


class Case(IdMixin, Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_queue", "course_id", "status", "priority"),
        Index("ix_cases_rank", "course_id", "status", "queue_rank", "id"),
    )

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
    # A claim is a lease: past this moment the case is back in the queue (reviews/moderation/leases.py).
    lease_expires_at: Mapped[datetime | None]
    # Moves with every change of the case (SQLAlchemy's version counter): the ETag its answers carry.
    version: Mapped[int] = mapped_column(server_default="1")
    evidence: Mapped[dict[str, Any]]
    outcome: Mapped[dict[str, Any] | None]
    # Cases the service opens itself carry a key, so the same finding never opens two cases.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    message: Mapped[str] = mapped_column(Text, default="")
    # The queue's sort key, fixed at opening: priority plus one age point an hour ranks cases the same way at every
    # moment, so it is stored and cursor pages stay stable (reviews/moderation/ranking.py keeps it up to date).
    queue_rank: Mapped[int] = mapped_column(BigInteger)
    resolved_at: Mapped[datetime | None]
    # An appeal names the review (review_id in the evidence) or the rubric criterion it is about.
    criterion_key: Mapped[str | None] = mapped_column(String(40))
    # A contested_decision case points at the decided case it contests; one contest per decision.
    contests_case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CaseResponse(IdMixin, Base):
    """What the author of the work a case is about answered (mentors and staff read it on the case)."""

    __tablename__ = "case_responses"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(Text)

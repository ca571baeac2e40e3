from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin

LEARNER_WORK, STAFF_SAMPLE = "learner", "sample"
ACTIVE, SUPERSEDED, CANCELLED = "active", "superseded", "cancelled"


class Submission(IdMixin, Base):
    """A learner's attempt, or a staff-graded calibration sample (served to reviewers exactly like one)."""

    __tablename__ = "submissions"
    # The pick of what to review next walks this index in its order (allocation/services.py).
    __table_args__ = (Index("ix_submissions_pool", "assignment_id", "status", "serve_rank", "review_load"),)

    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=LEARNER_WORK)
    attempt: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    text: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    # Live claims plus completed reviews: kept on the row so that a claim locks and re-checks one row.
    review_load: Mapped[int] = mapped_column(default=0)
    reviews_done: Mapped[int] = mapped_column(default=0)
    # Peer reviews this submission should get: the assignment's reviews_required, raised one at a time (up to a
    # cap) when calibration finds its score too uncertain. None means reviews_required.
    reviews_target: Mapped[int | None]
    # Work is served in this order first (0 before 1): 0 for a released score that lost a review to a decision
    # and waits for its extra one (scoring/released.py). Ascending, so the pool index serves the order.
    serve_rank: Mapped[int] = mapped_column(default=1)
    similarity_checked_at: Mapped[datetime | None]
    cancelled_reason: Mapped[str | None] = mapped_column(Text)


class StoredFile(IdMixin, Base):
    __tablename__ = "stored_files"

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # Loaded only when the file itself is served: listing a submission's files never reads their bytes.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    extracted_text: Mapped[str] = mapped_column(Text, default="")


class RejectedAttempt(IdMixin, Base):
    """A refused submission attempt: kept for the learner's history and for spotting repeated junk."""

    __tablename__ = "submission_rejections"

    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    reasons: Mapped[list[Any]]


class StaffGrade(IdMixin, Base):
    """Staff's scores of a submission; the latest one is the submission's score."""

    __tablename__ = "staff_grades"

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    grader_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    scores: Mapped[dict[str, Any]]
    note: Mapped[str] = mapped_column(Text, default="")

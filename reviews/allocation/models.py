from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin

# A claim is live until reviewed (completed), overdue (expired), or withdrawn because its item left the pool
# (replaced by a new attempt, marked as plagiarism).
LIVE, COMPLETED, EXPIRED, WITHDRAWN = "live", "completed", "expired", "withdrawn"


class ReviewClaim(IdMixin, Base):
    __tablename__ = "review_claims"
    __table_args__ = (Index("ix_review_claims_reviewer", "assignment_id", "reviewer_id", "status"),)

    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=LIVE)
    expires_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class Exposure(IdMixin, Base):
    """Who was shown which submission, when: the provenance behind every copying case."""

    __tablename__ = "exposures"

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    viewer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    claim_id: Mapped[str | None] = mapped_column(ForeignKey("review_claims.id", ondelete="SET NULL"))


class Review(IdMixin, Base):
    __tablename__ = "reviews"

    claim_id: Mapped[str] = mapped_column(ForeignKey("review_claims.id", ondelete="CASCADE"), unique=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    scores: Mapped[dict[str, Any]]
    comments: Mapped[dict[str, Any]]
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    discounted: Mapped[bool] = mapped_column(default=False)
    # The weight this review had in the latest calibration (for mentors and the record page).
    weight: Mapped[float | None]

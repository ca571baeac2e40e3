from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, utcnow


class Score(Base):
    """The computed score of one submission, from the latest calibration run, plus any person's decision."""

    __tablename__ = "scores"

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    value: Mapped[float | None]
    low: Mapped[float | None]
    high: Mapped[float | None]
    reviews: Mapped[int] = mapped_column(default=0)
    method: Mapped[str] = mapped_column(String(32), default="median")
    criteria: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(default=0)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    override_value: Mapped[float | None]
    override_note: Mapped[str | None] = mapped_column(Text)
    # Once a score is released it stays released, even when a discounted review leaves it short of reviews;
    # release_note then says why its interval widened.
    released_at: Mapped[datetime | None]
    release_note: Mapped[str | None] = mapped_column(Text)


class ReviewerStat(Base):
    """What the latest calibration run learned about one reviewer on one criterion (for mentors and cases)."""

    __tablename__ = "reviewer_stats"

    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True)
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    criterion: Mapped[str] = mapped_column(String(40), primary_key=True)
    bias: Mapped[float | None]
    reliability: Mapped[float | None]
    weight: Mapped[float | None]
    low_effort: Mapped[float | None]
    grades: Mapped[int] = mapped_column(default=0)
    samples_seen: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=0)

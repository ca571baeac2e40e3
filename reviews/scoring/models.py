from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin, utcnow


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


class ReviewingCloseness(Base):
    """How close one reviewer's grades came to the truth in one assignment, from the latest calibration run (the
    accuracy part of the reviewing grade, 0 to 100; reviews/scoring/reviewing.py). Helpfulness ratings and the
    weights are added when it is read, so that they count at once."""

    __tablename__ = "reviewing_closeness"

    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True)
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[float]
    low: Mapped[float]
    high: Mapped[float]
    # The root mean squared distance of their points from the truth, and the mean signed one (their lean), both as
    # shares of the criterion's points.
    error_share: Mapped[float]
    lean_share: Mapped[float]
    grades: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=0)


class HelpfulnessRating(IdMixin, Base):
    """How helpful the author of a submission found one review of it, 1 to 5, with an optional note
    (reviews/scoring/helpfulness.py). One a review: a new rating replaces the last. ``reviewer_id`` is the
    review's, kept here so that a reviewer's ratings add up in one query; staff alone read it with the rating."""

    __tablename__ = "helpfulness_ratings"

    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), unique=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rater_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin


class Course(IdMixin, Base):
    __tablename__ = "courses"

    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    # How long a mentor's claim on a case lasts before it goes back to the queue (renewable by its holder).
    case_lease_hours: Mapped[float] = mapped_column(default=4.0, server_default="4")
    # What the course taught, in staff's words: shown on records and carried in the course record credential.
    learning_summary: Mapped[str] = mapped_column(Text, default="", server_default="")


class Membership(IdMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))


class Assignment(IdMixin, Base):
    __tablename__ = "assignments"

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    prompt: Mapped[str] = mapped_column(Text, default="")
    # The skills or outcomes the assignment assesses (short lines), shown on records and in credentials.
    skills: Mapped[list[Any]] = mapped_column(default=list)
    template: Mapped[str | None] = mapped_column(Text)
    lineage: Mapped[str | None] = mapped_column(String(120), index=True)
    rubric: Mapped[dict[str, Any]]
    reviews_required: Mapped[int] = mapped_column(default=3)
    reviews_to_give: Mapped[int] = mapped_column(default=4)
    calibration_share: Mapped[float] = mapped_column(default=0.2)
    max_attempts: Mapped[int | None]  # None: unlimited (the request schema supplies the default)
    attempt_cooldown_hours: Mapped[float] = mapped_column(default=0)
    min_words: Mapped[int] = mapped_column(default=20)
    due_at: Mapped[datetime | None]
    review_due_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]
    # Training before live reviews (reviews/training): how many training samples a learner grades first (0: none),
    # and how far from the staff's score a criterion may be, in points (None: 10% of its points, at least 1).
    training_samples: Mapped[int] = mapped_column(default=0, server_default="0")
    training_tolerance: Mapped[float | None]
    # The review gate (reviews/integrity/short_text.py): whether every review needs an overall comment of real words.
    require_overall_comment: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The reviewing grade (reviews/scoring/reviewing.py): its share in the combined grade (0: the grade is the
    # project score) and the share of helpfulness ratings within the reviewing grade.
    reviewing_weight: Mapped[float] = mapped_column(default=0.0, server_default="0")
    helpfulness_weight: Mapped[float] = mapped_column(default=0.25, server_default="0.25")
    # Calibration bookkeeping: inputs_changed_at moves with every review or decision that affects scores;
    # a run stamps the inputs it saw, so the sweep can tell a missing or stale result from a current one.
    calibration_version: Mapped[int] = mapped_column(default=0)
    inputs_changed_at: Mapped[datetime | None]
    calibrated_inputs_at: Mapped[datetime | None]
    # How many reviews the latest run counted: reviews are only ever added, so a different count means new ones.
    calibrated_review_count: Mapped[int] = mapped_column(default=0)

    @property
    def criteria(self) -> list[dict[str, Any]]:
        return list(self.rubric.get("criteria", []))

    @property
    def max_total(self) -> float:
        return float(sum(c["max_points"] for c in self.criteria))

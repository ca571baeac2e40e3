from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin


class Course(IdMixin, Base):
    __tablename__ = "courses"

    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    # How long a mentor's claim on a case lasts before it goes back to the queue (renewable by its holder).
    case_lease_hours: Mapped[float] = mapped_column(default=4.0, server_default="4")


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

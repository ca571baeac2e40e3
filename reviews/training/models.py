from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin


class TrainingSample(IdMixin, Base):
    """A text staff graded openly for training: learners see its staff scores and comments after grading it.

    Its own table, never a submission: the claim path cannot serve it, and nothing of the blind calibration
    samples (submissions of kind staff_sample) is ever read here. Removing one sets ``removed_at``: the tries
    learners made on it stay, and so does the training they finished with it.
    """

    __tablename__ = "training_samples"

    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    scores: Mapped[dict[str, Any]]
    comments: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]


class TrainingAttempt(IdMixin, Base):
    """One try of a learner at a training sample, with the staff scores it was held against (as they were then)."""

    __tablename__ = "training_attempts"
    __table_args__ = (
        UniqueConstraint("sample_id", "learner_id", "try_number"),
        Index("ix_training_attempts_learner", "assignment_id", "learner_id"),
    )

    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    sample_id: Mapped[str] = mapped_column(ForeignKey("training_samples.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    try_number: Mapped[int]
    scores: Mapped[dict[str, Any]]
    comments: Mapped[dict[str, Any]]
    staff_scores: Mapped[dict[str, Any]]
    staff_comments: Mapped[dict[str, Any]]
    tolerance: Mapped[dict[str, Any]]  # points per criterion, as the assignment set it then
    passed: Mapped[bool]

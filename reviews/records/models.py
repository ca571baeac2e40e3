"""What a learner adds to their record, and the links they share it by."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin


class ProjectNote(IdMixin, Base):
    """The learner's own words about one project and what they choose to show of it. Absent: nothing added, the
    project is not on shared records and its text is not public."""

    __tablename__ = "record_project_notes"
    __table_args__ = (UniqueConstraint("learner_id", "assignment_id"),)

    learner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    annotation: Mapped[str] = mapped_column(Text, default="")
    shared: Mapped[bool] = mapped_column(default=False)
    text_public: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]


class RecordShare(IdMixin, Base):
    """A link to a learner's record of one course. Only the SHA-256 of its token is kept: the database alone
    opens no record. Revoked links answer 404."""

    __tablename__ = "record_shares"

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so the learner can tell their links apart (not enough to open one).
    hint: Mapped[str] = mapped_column(String(8))
    allow_indexing: Mapped[bool] = mapped_column(default=False)
    revoked_at: Mapped[datetime | None]

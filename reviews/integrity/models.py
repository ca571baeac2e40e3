from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base


class IndexedFingerprint(Base):
    """One winnowed fingerprint of one indexed submission, within a scope (an assignment, or the lineage its runs
    share): the copy detector's postings, in the production database."""

    __tablename__ = "fingerprints"
    __table_args__ = (Index("ix_fingerprints_document", "scope", "submission_id"),)

    scope: Mapped[str] = mapped_column(String(160), primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)


class IndexedDocument(Base):
    """A submission in a scope's index (the collection size the common-fingerprint weighting is relative to)."""

    __tablename__ = "fingerprint_documents"

    scope: Mapped[str] = mapped_column(String(160), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    fingerprints: Mapped[int] = mapped_column(default=0)

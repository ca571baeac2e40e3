"""Issuer public keys, issued credentials (the signed JSON exactly as issued), status lists, learners' subject ids.

No private key is ever stored: it comes from FAIRPEER_SIGNING_KEY or FAIRPEER_SIGNING_KEY_FILE (reviews/credentials/keys.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin, utcnow

PROJECT, COURSE_RECORD = "project", "course"


class IssuerKey(IdMixin, Base):
    """A public key the service signs with (the current one: the newest not retired). Retired keys stay here so
    that what they signed keeps verifying, and so the verify page can say since when a key was ours."""

    __tablename__ = "issuer_keys"

    public_multibase: Mapped[str] = mapped_column(String(64), unique=True)
    did: Mapped[str] = mapped_column(String(80))
    retired_at: Mapped[datetime | None]


class CredentialSubject(Base):
    """A learner's subject id in credentials: random, stable, and telling nothing of their account."""

    __tablename__ = "credential_subjects"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(45), unique=True)


class StatusList(Base):
    """One W3C Bitstring status list (131072 entries), published at /status/<number>.

    ``bits_version`` moves with every bit set; the signed list (``signed``, kept as issued) is re-signed in the
    same transaction, so what /status/<n> serves is always the current bits. ``next_index`` hands out entries
    with one conditional UPDATE (services.allocate_status_entry)."""

    __tablename__ = "credential_status_lists"

    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    url: Mapped[str] = mapped_column(String(500), unique=True)
    # The key that signs this list, always: a verifier wants the list and its credentials from the same issuer,
    # so the credentials of a key retired later keep their list under that key (keys.py, retired keys).
    key_id: Mapped[str] = mapped_column(ForeignKey("issuer_keys.id"), index=True)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    next_index: Mapped[int] = mapped_column(default=0)
    bits_version: Mapped[int] = mapped_column(default=0)
    signed: Mapped[str | None] = mapped_column(Text)
    signed_version: Mapped[int] = mapped_column(default=-1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class IssuedCredential(Base):
    """A signed OpenBadgeCredential: one per released project score as shown (``kind`` project, a ``series`` per
    submission) or the course record of a learner (``kind`` course, a ``series`` per learner and course).

    ``sequence`` numbers a series' credentials: unique with it, so two runs that both decide to issue the next
    one cannot both succeed. ``document`` is the signed JSON as issued, never signed again."""

    __tablename__ = "credentials"
    __table_args__ = (
        UniqueConstraint("series", "sequence"),
        UniqueConstraint("status_list", "status_index"),
        Index("ix_credentials_learner_course", "learner_id", "course_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a uuid4: the credential is urn:uuid:<id>
    kind: Mapped[str] = mapped_column(String(16))
    series: Mapped[str] = mapped_column(String(120))
    sequence: Mapped[int]
    learner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    assignment_id: Mapped[str | None] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    # What it says that may change (a project's value and interval; a course record's evidence): compared with
    # the score as now shown to decide whether to issue again.
    snapshot: Mapped[dict[str, Any]]
    document: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(ForeignKey("issuer_keys.id"))
    status_list: Mapped[int] = mapped_column(ForeignKey("credential_status_lists.number"))
    status_index: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))

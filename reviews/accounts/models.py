from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin


class User(IdMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(default=False)


class ApiToken(IdMixin, Base):
    """A bearer token; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)


class SignInLink(IdMixin, Base):
    """A single-use, expiring link that starts a browser session."""

    __tablename__ = "sign_in_links"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # Minted by a course's staff: the session it starts is limited to that course. None (an admin's or the
    # command line's link): every course of the user's.
    course_id: Mapped[str | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))


class WebSession(IdMixin, Base):
    """A browser signed in to the pages. The cookie carries a random secret; only its SHA-256 is kept here, so
    signing out (or a new API token) ends the session wherever the cookie was copied to."""

    __tablename__ = "web_sessions"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The one course a session begun from a staff member's link may see (None: every course of the user's).
    course_id: Mapped[str | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

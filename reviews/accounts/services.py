"""Users, API tokens, sign-in links and the page sessions they start."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from reviews.accounts.models import ApiToken, SignInLink, User, WebSession
from reviews.kernel import audit
from reviews.kernel.auth import hash_secret, new_secret
from reviews.kernel.db import utcnow
from reviews.kernel.errors import DomainError


def create_user(session: Session, email: str, name: str, *, is_admin: bool = False, actor_id: str | None = None) -> tuple[User, str]:
    """A new user and their API token (returned once; only its hash is stored)."""
    email = email.strip().lower()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise DomainError(
            "conflict",
            f"A user with email {email} already exists. Use that account.",
            {"fields": {"email": [f"Someone already has the email {email}: find them with the search instead."]}},
        )
    user = User(email=email, name=name.strip(), is_admin=is_admin)
    session.add(user)
    session.flush()
    token = issue_token(session, user)
    audit.record(session, None, actor_id, "user.created", f"user:{user.id}", email=email, is_admin=is_admin)
    return user, token


def issue_token(session: Session, user: User) -> str:
    """A new API token for the user, replacing every token they had (those stop working in this transaction).
    Whoever gets a new token gets a fresh start: their page sessions end too."""
    token = new_secret("fp")
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    session.add(ApiToken(user_id=user.id, token_hash=hash_secret(token)))
    end_web_sessions(session, user.id)
    return token


def replace_token(session: Session, user: User, actor_id: str | None) -> str:
    """``issue_token`` asked for by a person (an administrator, the user, the command line), on the audit trail."""
    token = issue_token(session, user)
    audit.record(session, None, actor_id, "user.token_issued", f"user:{user.id}")
    return token


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def search_users(session: Session, text: str, page: int, per_page: int) -> tuple[list[User], int]:
    """Users whose email or name contains ``text`` (any case; every user when it is blank), by email, one page of
    them (pages count from 1), and how many match in all."""
    query = select(User)
    words = text.strip()
    if words:
        # autoescape: a % or _ typed in the search matches itself, not anything.
        query = query.where(or_(User.email.icontains(words, autoescape=True), User.name.icontains(words, autoescape=True)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = list(session.scalars(query.order_by(User.email).limit(per_page).offset((max(page, 1) - 1) * per_page)))
    return users, total


def create_sign_in_link(
    session: Session, user: User, minutes: int, actor_id: str | None = None, course_id: str | None = None
) -> tuple[str, SignInLink]:
    """A single-use link; ``course_id`` (a staff member's link) limits the session it starts to that course."""
    secret = new_secret("sl")
    expires_at = utcnow() + timedelta(minutes=minutes)
    link = SignInLink(user_id=user.id, token_hash=hash_secret(secret), expires_at=expires_at, course_id=course_id)
    session.add(link)
    audit.record(session, course_id, actor_id, "sign_in_link.created", f"user:{user.id}")
    return secret, link


def redeem_sign_in_link(session: Session, secret: str) -> SignInLink | None:
    """The link, once: a used or expired link signs nobody in."""
    link = session.scalar(select(SignInLink).where(SignInLink.token_hash == hash_secret(secret)))
    if link is None or link.used_at is not None or link.expires_at < utcnow():
        return None
    link.used_at = utcnow()
    return link


# A session's last_seen_at is written at most this often (a page view is a read, not a write).
TOUCH_EVERY = timedelta(minutes=5)


def start_web_session(session: Session, user_id: str, course_id: str | None, hours: float) -> str:
    """A new page session; the returned secret goes into the cookie, only its hash into the table."""
    secret = new_secret("ws")
    now = utcnow()
    session.add(
        WebSession(
            user_id=user_id,
            token_hash=hash_secret(secret),
            course_id=course_id,
            last_seen_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return secret


def find_web_session(session: Session, secret: str, idle_hours: float, now: datetime | None = None) -> tuple[WebSession, User] | None:
    """The live session whose cookie holds ``secret`` (not revoked, not past its lifetime, used within
    ``idle_hours``) and its user, in one query."""
    now = now or utcnow()
    found = (
        session.execute(
            select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.token_hash == hash_secret(secret))
        )
        .tuples()
        .first()
    )
    if found is None:
        return None
    web, user = found
    if web.revoked_at is not None or web.expires_at <= now or web.last_seen_at + timedelta(hours=idle_hours) <= now:
        return None
    return web, user


def end_web_session(session: Session, secret: str) -> None:
    """Sign-out: the session is revoked, so the cookie signs nobody in again, wherever it was copied to."""
    session.execute(
        update(WebSession).where(WebSession.token_hash == hash_secret(secret), WebSession.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


def end_web_sessions(session: Session, user_id: str) -> None:
    """Every page session of the user ends (a new API token)."""
    session.execute(update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None)).values(revoked_at=utcnow()))

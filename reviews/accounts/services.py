"""Users, API tokens and sign-in links."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviews.accounts.models import ApiToken, SignInLink, User
from reviews.kernel import audit
from reviews.kernel.auth import hash_secret, new_secret
from reviews.kernel.db import utcnow
from reviews.kernel.errors import DomainError


def create_user(session: Session, email: str, name: str, *, is_admin: bool = False, actor_id: str | None = None) -> tuple[User, str]:
    """A new user and their API token (returned once; only its hash is stored)."""
    email = email.strip().lower()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise DomainError("conflict", f"A user with email {email} already exists. Use that account.")
    user = User(email=email, name=name.strip(), is_admin=is_admin)
    session.add(user)
    session.flush()
    token = issue_token(session, user)
    audit.record(session, None, actor_id, "user.created", f"user:{user.id}", email=email, is_admin=is_admin)
    return user, token


def issue_token(session: Session, user: User) -> str:
    token = new_secret("fp")
    session.add(ApiToken(user_id=user.id, token_hash=hash_secret(token)))
    return token


def create_sign_in_link(session: Session, user: User, minutes: int, actor_id: str | None = None) -> tuple[str, SignInLink]:
    secret = new_secret("sl")
    link = SignInLink(user_id=user.id, token_hash=hash_secret(secret), expires_at=utcnow() + timedelta(minutes=minutes))
    session.add(link)
    audit.record(session, None, actor_id, "sign_in_link.created", f"user:{user.id}")
    return secret, link


def redeem_sign_in_link(session: Session, secret: str) -> User | None:
    """The link's user, once: a used or expired link signs nobody in."""
    link = session.scalar(select(SignInLink).where(SignInLink.token_hash == hash_secret(secret)))
    if link is None or link.used_at is not None or link.expires_at < utcnow():
        return None
    link.used_at = utcnow()
    return session.get(User, link.user_id)

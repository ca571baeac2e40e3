"""Who is calling: bearer tokens for the API, a session cookie for the pages; roles per course."""

from __future__ import annotations

import functools
import hashlib
import secrets
from typing import TYPE_CHECKING

from flask import g, request, session
from sqlalchemy import Select, bindparam, select

from reviews.kernel.db import db
from reviews.kernel.errors import ApiError, forbidden, not_found

if TYPE_CHECKING:
    from reviews.accounts.models import User

LEARNER, MENTOR, STAFF = "learner", "mentor", "staff"
ROLES = (LEARNER, MENTOR, STAFF)


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """Tokens and sign-in links are stored only as this hash: a database leak yields no credential."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@functools.cache
def _user_by_token() -> Select[tuple[User]]:
    """Built once (every API request asks it): the user holding the token with hash ``token_hash``."""
    from reviews.accounts.models import ApiToken, User

    return select(User).join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == bindparam("token_hash"))


def _load_user() -> User | None:
    from reviews.accounts.models import User

    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return db.session.scalar(_user_by_token(), {"token_hash": hash_secret(token.strip())})
    user_id = session.get("user_id")
    if user_id and not request.path.startswith("/api"):
        return db.session.get(User, user_id)
    return None


def current_user_or_none() -> User | None:
    if "_fairpeer_user" not in g:
        g._fairpeer_user = _load_user()
    return g._fairpeer_user


def current_user() -> User:
    user = current_user_or_none()
    if user is None:
        raise ApiError(401, "unauthenticated", "Sign in first: send Authorization: Bearer <token> with a valid token.")
    return user


def require_admin() -> User:
    user = current_user()
    if not user.is_admin:
        raise forbidden("Only an administrator may do this.")
    return user


def role_in(course_id: str, user: User) -> str | None:
    """The user's role in the course, or None when they are not a member (admins count as staff)."""
    from reviews.courses.models import Membership

    if user.is_admin:
        return STAFF
    return db.session.scalar(select(Membership.role).where(Membership.course_id == course_id, Membership.user_id == user.id))


def require_member(course_id: str, user: User, what: str = "That") -> str:
    """The caller's role; a non-member learns nothing, not even that the object exists (404)."""
    role = role_in(course_id, user)
    if role is None:
        raise not_found(what)
    return role


def require_role(course_id: str, user: User, allowed: tuple[str, ...], what: str = "That", action: str = "do this") -> str:
    role = require_member(course_id, user, what)
    if role not in allowed:
        names = " or ".join(allowed)
        raise forbidden(f"Only {names} of this course may {action}.")
    return role

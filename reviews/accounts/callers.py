"""The caller of a request as a ``User``: a bearer token for the API, the page session for the pages."""

from __future__ import annotations

import functools
from typing import cast

from flask import request, session
from sqlalchemy import Select, bindparam, select

from reviews.accounts.models import ApiToken, User
from reviews.kernel.auth import current_caller, current_caller_or_none, hash_secret, require_admin_caller
from reviews.kernel.db import db
from reviews.kernel.errors import DomainError


@functools.cache
def _user_by_token() -> Select[tuple[User]]:
    """Built once (every API request asks it): the user holding the token with hash ``token_hash``."""
    return select(User).join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == bindparam("token_hash"))


def load_caller() -> User | None:
    """The kernel's caller loader: a bearer token wins; the page session counts only outside /api."""
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
    return cast(User | None, current_caller_or_none())


def current_user() -> User:
    return cast(User, current_caller())


def require_admin() -> User:
    return cast(User, require_admin_caller())


def signed_in() -> User:
    """The person signed in to the pages, or a 401 page that says how to sign in."""
    user = current_user_or_none()
    if user is None:
        raise DomainError("unauthenticated", "Sign in through the sign-in link you were given.")
    return user

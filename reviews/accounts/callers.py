"""The caller of a request as a ``User``: a bearer token for the API, the page session for the pages.

A page session lives in the ``web_sessions`` table; the cookie (Flask's signed session) carries only its secret,
under ``SESSION_KEY``. A session begun from a staff member's sign-in link is limited to that link's course:
``course_scope`` says which, and ``reviews.courses.access`` treats every other course as one the user is not in.
"""

from __future__ import annotations

import functools
from typing import cast

from flask import current_app, g, request, session
from sqlalchemy import Select, bindparam, select

from reviews.accounts.models import ApiToken, User, WebSession
from reviews.accounts.services import TOUCH_EVERY, find_web_session
from reviews.kernel.auth import current_caller, current_caller_or_none, hash_secret, require_admin_caller
from reviews.kernel.db import db, utcnow
from reviews.kernel.errors import DomainError

# The key of the page session's secret in Flask's signed cookie.
SESSION_KEY = "web_session"
# (user id, course id) of this request's course-scoped page session.
_SCOPE = "_fairpeer_course_scope"


@functools.cache
def _user_by_token() -> Select[tuple[User]]:
    """Built once (every API request asks it): the user holding the token with hash ``token_hash``."""
    return select(User).join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == bindparam("token_hash"))


def load_caller() -> User | None:
    """The kernel's caller loader: a bearer token wins (and is never scoped); the page session counts only
    outside /api, and only while its row is live (signed out, expired or idle too long: signed out)."""
    g.pop(_SCOPE, None)
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return db.session.scalar(_user_by_token(), {"token_hash": hash_secret(token.strip())})
    secret = session.get(SESSION_KEY)
    if not isinstance(secret, str) or not secret or request.path.startswith("/api"):
        return None
    # Nothing of the request's own is in the transaction yet: the last-seen time may be committed on its own.
    may_touch = not db.session.in_transaction()
    now = utcnow()
    found = find_web_session(db.session, secret, current_app.config["WEB_SESSION_IDLE_HOURS"], now)
    if found is None:
        return None
    web, user = found
    if web.course_id is not None:
        setattr(g, _SCOPE, (user.id, web.course_id))
    if may_touch and now - web.last_seen_at >= TOUCH_EVERY:
        web.last_seen_at = now
        db.session.commit()
    return user


def session_owner_id() -> str | None:
    """Whose this browser's page session is or was, even when it has ended (signed out, expired, idle): so that a
    form kept after it ended is given back only to that person (reviews/web/forms.py)."""
    secret = session.get(SESSION_KEY)
    if not isinstance(secret, str) or not secret:
        return None
    return db.session.scalar(select(WebSession.user_id).where(WebSession.token_hash == hash_secret(secret)))


def course_scope(user: User) -> str | None:
    """The one course this request's page session may see when ``user`` is its caller and it was begun from a
    staff member's sign-in link; None when nothing limits them (an API token, an admin's link)."""
    scope: tuple[str, str] | None = g.get(_SCOPE)
    if scope is not None and scope[0] == user.id:
        return scope[1]
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

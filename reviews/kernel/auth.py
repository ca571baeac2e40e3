"""Who is calling. The kernel keeps the current caller for the request; ``accounts`` says how a bearer token or a
page session becomes one (registered by the app factory), and ``courses.access`` says what their role allows."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Protocol

from flask import current_app, g

from reviews.kernel.errors import DomainError, forbidden


class Caller(Protocol):
    """What the kernel needs of a signed-in user (``reviews.accounts.models.User`` is one)."""

    @property
    def id(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...


# Finds the caller of the current request, or None (set by the app factory: accounts.services.load_caller).
CallerLoader = Callable[[], Caller | None]
_LOADER = "fairpeer.caller_loader"


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """Tokens and sign-in links are stored only as this hash: a database leak yields no credential."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def current_caller_or_none() -> Caller | None:
    if "_fairpeer_user" not in g:
        loader: CallerLoader = current_app.extensions[_LOADER]
        g._fairpeer_user = loader()
    caller: Caller | None = g._fairpeer_user
    return caller


def current_caller() -> Caller:
    caller = current_caller_or_none()
    if caller is None:
        raise DomainError("unauthenticated", "Sign in first: send Authorization: Bearer <token> with a valid token.")
    return caller


def require_admin_caller() -> Caller:
    caller = current_caller()
    if not caller.is_admin:
        raise forbidden("Only an administrator may do this.")
    return caller


def init_app(app: object, loader: CallerLoader) -> None:
    """Register how a request's caller is found."""
    extensions: dict[str, object] = app.extensions  # type: ignore[attr-defined]
    extensions[_LOADER] = loader

"""Rate limits on signing in, submitting and claiming; Redis-backed in production, per process otherwise."""

from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from reviews.kernel.auth import current_caller_or_none


def caller_key() -> str:
    user = current_caller_or_none()
    return f"user:{user.id}" if user is not None else f"ip:{get_remote_address()}"


limiter = Limiter(key_func=caller_key, default_limits=[])


def sign_in_limit() -> str:
    return str(current_app.config["RATE_LIMIT_SIGN_IN"])


def submit_limit() -> str:
    return str(current_app.config["RATE_LIMIT_SUBMIT"])


def claim_limit() -> str:
    return str(current_app.config["RATE_LIMIT_CLAIM"])


def exempt_when_disabled() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True) or request.method == "OPTIONS"

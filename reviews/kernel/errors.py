"""Errors a caller can cause, as domain values: a stable code, a sentence that tells them what to do, details.

Services raise these and know nothing of HTTP; ``reviews.kernel.error_handlers`` answers them in the contract's
one error shape, ``{"error": {"code", "message", "details"}}``, with the status ``STATUS`` gives the code
(docs/api.md, Errors).
"""

from __future__ import annotations

from typing import Any

# The HTTP status of every error code (docs/api.md lists them). A code missing here answers 400.
STATUS: dict[str, int] = {
    "invalid_json": 400,
    "not_a_credential": 400,
    "invalid_request": 422,
    "unauthenticated": 401,
    "forbidden": 403,
    "submit_first": 403,
    "not_found": 404,
    "nothing_to_review": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "already_claimed": 409,
    "already_reviewed": 409,
    "attempts_exhausted": 409,
    "attempts_blocked": 409,
    "already_contested": 409,
    "contest_window_closed": 409,
    "decision_final": 409,
    "not_decided": 409,
    "case_resolved": 409,
    "claim_expired": 409,
    "lease_expired": 409,
    "past_due": 409,
    "sample_served": 409,
    "last_staff": 409,
    "settings_locked": 409,
    "training_required": 409,
    "training_done": 409,
    "too_many_shares": 409,
    "not_released": 409,
    "file_too_large": 413,
    "credential_too_large": 413,
    "unsupported_media_type": 415,
    "submission_rejected": 422,
    "message_rejected": 422,
    "review_rejected": 422,
    "annotation_too_long": 422,
    "too_many_skills": 422,
    "skill_too_long": 422,
    "summary_too_long": 422,
    "cooldown": 429,
    "rate_limited": 429,
    "internal_error": 500,
    "unavailable": 503,
}


class DomainError(Exception):
    """An outcome a caller can cause; ``code`` is stable, ``message`` tells them what to do.

    ``details["retry_after"]`` (seconds), when present, becomes the answer's Retry-After header.
    """

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.details: dict[str, Any] = details or {}

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 400)


def not_found(what: str = "That") -> DomainError:
    return DomainError("not_found", f"{what} does not exist or you do not have access to it. Check the id.")


def forbidden(message: str) -> DomainError:
    return DomainError("forbidden", message)


def invalid(fields: dict[str, Any], message: str = "Some fields are missing or wrong; see details.") -> DomainError:
    return DomainError("invalid_request", message, {"fields": fields})


def conflict(message: str) -> DomainError:
    return DomainError("conflict", message)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}

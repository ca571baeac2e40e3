"""The HTTP edge of errors: every error answers in the contract's one shape (docs/api.md, Errors).

API callers get JSON; a browser asking for a page gets the HTML that the app factory hands in (``render_html``),
so the kernel renders no feature's template.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from reviews.kernel.errors import DomainError, error_body

# Renders an error page: (status, message) -> a Flask response value.
HtmlRenderer = Callable[[int, str], Any]

_HTTP_CODES = {
    400: ("invalid_json", "The request body is not valid JSON. Send a JSON object with Content-Type application/json."),
    401: ("unauthenticated", "Sign in first: send Authorization: Bearer <token>."),
    403: ("forbidden", "Your role does not allow this."),
    404: ("not_found", "Nothing is at this address. Check the path and the id."),
    405: ("method_not_allowed", "This method is not allowed here; the Allow header lists the ones that are."),
    413: ("file_too_large", "The upload is too large. Send smaller files."),
    415: ("unsupported_media_type", "Send the body as application/json (or multipart/form-data where files are accepted)."),
}

CHANGED_MEANWHILE = "Someone else changed this at the same moment, so nothing was changed. Reload it, check, and send again."

DATABASE_UNAVAILABLE = (
    "The service cannot reach its database right now. Try again in a few seconds; "
    "resend with the same Idempotency-Key to be sure nothing is done twice."
)


def json_error(status: int, code: str, message: str, details: dict[str, Any] | None, headers: Any = None) -> Response:
    response = jsonify(error_body(code, message, details))
    response.status_code = status
    if headers:
        for key, value in dict(headers).items():
            if key.lower() != "content-type":
                response.headers[key] = value
    return response


def wants_json() -> bool:
    return request.path.startswith("/api") or request.path == "/healthz" or not request.accept_mimetypes.accept_html


def _retry_headers(seconds: Any) -> dict[str, str]:
    return {"Retry-After": str(seconds)} if seconds is not None else {}


def init_app(app: Flask, render_html: HtmlRenderer) -> None:
    """Answer every error in the contract's shape; pages get ``render_html(status, message)``."""

    def html(status: int, message: str, headers: dict[str, str] | None = None) -> Any:
        response, code = render_html(status, message)
        return response, code, headers or {}

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Any:
        headers = _retry_headers(exc.details.get("retry_after"))
        if not wants_json():
            return html(exc.status, exc.message, headers)
        return json_error(exc.status, exc.code, exc.message, exc.details, headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        data = getattr(exc, "data", None) or {}
        if status == 422:
            messages = data.get("messages") or {}
            fields: dict[str, Any] = {}
            for location_errors in messages.values():
                if isinstance(location_errors, dict):
                    fields.update(location_errors)
            return json_error(422, "invalid_request", "Some fields are missing or wrong; see details.", {"fields": fields})
        if status == 400:
            messages = data.get("messages") or {}
            if "json" in messages or request.is_json:
                code, message = _HTTP_CODES[400]
            else:
                code, message = "invalid_request", "The request is malformed. Check the body and its Content-Type."
            if not wants_json():
                return html(400, message)
            return json_error(400, code, message, None)
        if status == 429:
            retry = _retry_after(exc)
            if not wants_json():
                return html(429, f"Too many attempts in a short time. Wait {retry} seconds, then try again.", _retry_headers(retry))
            return json_error(
                429,
                "rate_limited",
                f"Too many requests in a short time. Wait {retry} seconds, then try again.",
                {"retry_after": retry},
                _retry_headers(retry),
            )
        code, message = _HTTP_CODES.get(status, ("http_error", exc.description or "Request failed."))
        if not wants_json():
            return html(status, message)
        headers = exc.get_headers() if status == 405 else None
        return json_error(status, code, message, None, headers)

    @app.errorhandler(StaleDataError)
    def _changed_meanwhile(exc: StaleDataError) -> Any:
        # A versioned row (a case) was changed by another request between this one's read and its write.
        if not wants_json():
            return html(409, CHANGED_MEANWHILE)
        return json_error(409, "conflict", CHANGED_MEANWHILE, None)

    @app.errorhandler(OperationalError)
    @app.errorhandler(DisconnectionError)
    def _database_unavailable(exc: Exception) -> Any:
        # The database went away (restart, failover, network). A write may or may not have committed; a retry
        # with the same Idempotency-Key is safe either way.
        app.logger.warning("database unavailable: %s", exc.__class__.__name__)
        if not wants_json():
            return html(503, DATABASE_UNAVAILABLE, _retry_headers(5))
        return json_error(503, "unavailable", DATABASE_UNAVAILABLE, {"retry_after": 5}, _retry_headers(5))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error")
        message = "Something went wrong on our side. Try again in a moment."
        if not wants_json():
            try:
                return html(500, message)  # a page never answers with raw JSON
            except Exception:  # the error page itself failed (its database is gone, say)
                app.logger.exception("the error page failed")
                return Response(message, status=500, mimetype="text/plain")
        return json_error(500, "internal_error", message, None)


def _retry_after(exc: HTTPException) -> int:
    limit = getattr(exc, "limit", None)
    try:
        reset = getattr(getattr(limit, "limit", None), "get_expiry", None)
        if reset is not None:
            return max(1, int(reset()))
    except Exception:  # noqa: BLE001 - an estimate is fine; never fail the error answer
        pass
    return 60


_JSON_BODY_OK = ("application/json",)
_MULTIPART_PATHS = ("/submissions", "/calibration-samples")


def check_media_type() -> None:
    """415 for an API write whose body is neither JSON nor (where files are taken) multipart."""
    if not request.path.startswith("/api") or request.method not in ("POST", "PUT", "PATCH"):
        return
    if not request.content_length and not request.headers.get("Transfer-Encoding"):
        return
    mimetype = request.mimetype
    if mimetype in _JSON_BODY_OK or mimetype.endswith("+json"):
        return
    takes_files = request.path.endswith(_MULTIPART_PATHS)
    if mimetype == "multipart/form-data" and takes_files:
        return
    accepted = "application/json or multipart/form-data" if takes_files else "application/json"
    raise DomainError("unsupported_media_type", f"Send the body as {accepted}.")

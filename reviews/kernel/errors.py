"""One error shape for the whole API: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DisconnectionError, OperationalError
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """An error a caller can cause; ``code`` is stable, ``message`` tells them what to do."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or {}
        self.headers = headers or {}


def not_found(what: str = "That") -> ApiError:
    return ApiError(404, "not_found", f"{what} does not exist or you do not have access to it. Check the id.")


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def invalid(fields: dict[str, Any], message: str = "Some fields are missing or wrong; see details.") -> ApiError:
    return ApiError(422, "invalid_request", message, {"fields": fields})


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


_HTTP_CODES = {
    400: ("invalid_json", "The request body is not valid JSON. Send a JSON object with Content-Type application/json."),
    401: ("unauthenticated", "Sign in first: send Authorization: Bearer <token>."),
    403: ("forbidden", "Your role does not allow this."),
    404: ("not_found", "Nothing is at this address. Check the path and the id."),
    405: ("method_not_allowed", "This method is not allowed here; the Allow header lists the ones that are."),
    413: ("file_too_large", "The upload is too large. Send smaller files."),
    415: ("unsupported_media_type", "Send the body as application/json (or multipart/form-data where files are accepted)."),
}


def _json_error(status: int, code: str, message: str, details: dict[str, Any] | None, headers: Any = None) -> Response:
    response = jsonify(error_body(code, message, details))
    response.status_code = status
    if headers:
        for key, value in dict(headers).items():
            if key.lower() != "content-type":
                response.headers[key] = value
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api") or request.path == "/healthz" or not request.accept_mimetypes.accept_html


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Any:
        if not _wants_json():
            from reviews.pages.render import render_error

            return render_error(exc.status, exc.message)
        return _json_error(exc.status, exc.code, exc.message, exc.details, exc.headers)

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
            return _json_error(422, "invalid_request", "Some fields are missing or wrong; see details.", {"fields": fields})
        if status == 400:
            messages = data.get("messages") or {}
            if "json" in messages or request.is_json:
                code, message = _HTTP_CODES[400]
            else:
                code, message = "invalid_request", "The request is malformed. Check the body and its Content-Type."
            return _json_error(400, code, message, None)
        if status == 429:
            retry = _retry_after(exc)
            if not _wants_json():
                from reviews.pages.render import render_error

                response, code = render_error(429, f"Too many attempts in a short time. Wait {retry} seconds, then try again.")
                return response, code, {"Retry-After": str(retry)}
            return _json_error(
                429,
                "rate_limited",
                f"Too many requests in a short time. Wait {retry} seconds, then try again.",
                {"retry_after": retry},
                {"Retry-After": str(retry)},
            )
        code, message = _HTTP_CODES.get(status, ("http_error", exc.description or "Request failed."))
        if not _wants_json():
            from reviews.pages.render import render_error

            return render_error(status, message)
        headers = exc.get_headers() if status == 405 else None
        return _json_error(status, code, message, None, headers)

    @app.errorhandler(OperationalError)
    @app.errorhandler(DisconnectionError)
    def _database_unavailable(exc: Exception) -> Any:
        # The database went away (restart, failover, network). A write may or may not have committed; a retry
        # with the same Idempotency-Key is safe either way.
        app.logger.warning("database unavailable: %s", exc.__class__.__name__)
        message = (
            "The service cannot reach its database right now. Try again in a few seconds; "
            "resend with the same Idempotency-Key to be sure nothing is done twice."
        )
        if not _wants_json():
            from reviews.pages.render import render_error

            response, code = render_error(503, message)
            return response, code, {"Retry-After": "5"}
        return _json_error(503, "unavailable", message, {"retry_after": 5}, {"Retry-After": "5"})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error")
        return _json_error(500, "internal_error", "Something went wrong on our side. Try again in a moment.", None)


def _retry_after(exc: HTTPException) -> int:
    limit = getattr(exc, "limit", None)
    try:
        reset = getattr(getattr(limit, "limit", None), "get_expiry", None)
        if reset is not None:
            return max(1, int(reset()))
    except Exception:
        pass
    return 60


_JSON_BODY_OK = ("application/json",)


def check_media_type() -> None:
    """415 for an API write whose body is neither JSON nor (where files are taken) multipart."""
    if not request.path.startswith("/api") or request.method not in ("POST", "PUT", "PATCH"):
        return
    if not request.content_length and not request.headers.get("Transfer-Encoding"):
        return
    mimetype = request.mimetype
    if mimetype in _JSON_BODY_OK or mimetype.endswith("+json"):
        return
    if mimetype == "multipart/form-data" and request.path.endswith(("/submissions", "/calibration-samples")):
        return
    raise ApiError(
        415,
        "unsupported_media_type",
        "Send the body as application/json"
        + (" or multipart/form-data" if request.path.endswith(("/submissions", "/calibration-samples")) else "")
        + ".",
    )

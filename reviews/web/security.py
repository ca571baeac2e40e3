"""What every answer says to the browser about itself: security headers, and how the session cookie is set.

The pages carry no inline script or style (their CSS is ``reviews/static/fairpeer.css``), so the policy allows
nothing but this origin's own files. No page may be framed, no address leaves in a Referer (a sign-in link is a
credential), and nothing is sniffed into another type.
"""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Response

from reviews.kernel import redaction

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class SessionCookie(SecureCookieSessionInterface):
    """Flask's signed cookie (HttpOnly, SameSite=Lax from the settings), Secure when SESSION_COOKIE_SECURE says so
    and on every request that came over HTTPS. It holds the page session's secret, the CSRF token and flashes;
    who is signed in is the ``web_sessions`` table's to say (``reviews.accounts.callers``)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookie()
    app.after_request(add_headers)
    redaction.install()  # the development server's access log (`fairpeer serve`)

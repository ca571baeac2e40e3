"""No secret in a log line: the path of a sign-in link is a credential, so access logs show it redacted.

``install()`` puts the filter on the development server's logger ("werkzeug"); ``reviews.gunicorn_conf`` redacts
gunicorn's access log the same way.
"""

from __future__ import annotations

import logging
import re

# /sign-in/<secret>: everything after the prefix up to the next space, quote, slash, query or fragment.
_SIGN_IN_PATH = re.compile(r"(/sign-in/)[^\s\"'/?#\x1b]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _SIGN_IN_PATH.sub(rf"\g<1>{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record whose message holds a sign-in path (the message is formatted once, here)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install(*names: str) -> None:
    """Redact the loggers ``names`` (default: the development server's), once each."""
    for name in names or ("werkzeug",):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())

"""Structured JSON logs; a request's id and a task's id are bound into every line written while they run.

Every web request gets an id: a sane incoming ``X-Request-ID`` is kept, otherwise one is made. It is sent back in
the ``X-Request-ID`` response header, written on every log line of the request, and carried into the tasks the
request enqueues (``reviews.kernel.background``), so a task's lines carry the id of the request that caused them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

task_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("fairpeer_task_id", default=None)
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("fairpeer_request_id", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
# What an incoming X-Request-ID may be (a proxy's or a client's id); anything else is replaced by a fresh one.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")

# The attributes every LogRecord has; anything else on a record came in through ``extra=`` and is written out.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}

access_log = logging.getLogger("reviews.requests")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_") and name not in line:
                line[name] = value
        current_request = request_id.get()
        if current_request:
            line["request_id"] = current_request
        current = task_id.get()
        if current:
            line["task_id"] = current
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(level: str = "INFO") -> None:
    """Send every log line to stderr as one JSON object (the web processes and the CLI's long-running commands)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def new_request_id() -> str:
    return secrets.token_hex(16)


def incoming_request_id(value: str | None) -> str:
    """The caller's X-Request-ID when it is sane, else a fresh id."""
    value = (value or "").strip()
    return value if SANE_REQUEST_ID.fullmatch(value) else new_request_id()


def init_app(app: Flask) -> None:
    """Give every request an id (on its log lines, in its answer, in the tasks it enqueues) and one access line.

    Call it before anything else registers request hooks: its ``before_request`` then runs first (a hook that
    answers early, a rate limit say, still has the id set) and its ``after_request`` last.
    """
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_end)


def _begin() -> None:
    rid = incoming_request_id(request.headers.get(REQUEST_ID_HEADER))
    g._fairpeer_request_id = rid
    g._fairpeer_request_id_token = request_id.set(rid)
    g._fairpeer_request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    rid = g.get("_fairpeer_request_id")
    if rid:
        response.headers[REQUEST_ID_HEADER] = rid
    started = g.get("_fairpeer_request_started")
    # The route, not the path: paths carry secrets (sign-in links) and ids.
    rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    access_log.info(
        "%s %s %s",
        request.method,
        rule,
        response.status_code,
        extra={
            "method": request.method,
            "route": rule,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
        },
    )
    return response


def _end(_exc: BaseException | None) -> None:
    token = g.pop("_fairpeer_request_id_token", None)
    if token is not None:
        try:
            request_id.reset(token)
        except ValueError:  # set in another context (a test client's preserved context); just clear it
            request_id.set(None)

"""Idempotency-Key: a retried create gets the first answer again and creates nothing new."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Response, current_app, make_response, request
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from reviews.kernel.auth import current_caller
from reviews.kernel.db import Base, IdMixin, db, utcnow
from reviews.kernel.errors import DomainError, conflict
from reviews.kernel.transaction import run_in_transaction

RUNNING, DONE = "running", "done"

# The 409 every idempotent operation can answer (documented with Blueprint.refusals).
KEY_REUSED = "The Idempotency-Key was sent before with another body, or its first request is still running."


class IdempotencyKey(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "path", "key"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(500))
    key: Mapped[str] = mapped_column(String(200))
    body_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=RUNNING)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)


def _body_hash() -> str:
    digest = hashlib.sha256()
    if request.mimetype == "multipart/form-data":
        # The multipart boundary is random per attempt: hash what was sent, not how it was framed.
        for key in sorted(request.form):
            for value in request.form.getlist(key):
                digest.update(f"f:{key}={value}\n".encode())
        for key in sorted(request.files):
            for upload in request.files.getlist(key):
                data = upload.read()
                upload.seek(0)
                digest.update(f"file:{key}:{upload.filename}:{hashlib.sha256(data).hexdigest()}\n".encode())
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """A create endpoint as one transaction, honouring ``Idempotency-Key`` (scoped to the caller and the path).

    The view does its work and does not commit; this commits it, and with it the key's stored answer when the
    request carries a key, so a crash leaves both or neither: never a created object whose key still says
    "running" and lets a retry create it again. A deadlock or a serialisation failure runs the view again on a
    fresh transaction (kernel/transaction.py).
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        session = db.session
        key = request.headers.get("Idempotency-Key")
        if not key:

            def plain() -> Response:
                response: Response = make_response(view(*args, **kwargs))
                session.commit()
                return response

            return run_in_transaction(session, plain)
        taken = _take_key(session, key)
        if isinstance(taken, Response):
            return taken
        record_id = taken

        def keyed() -> Response:
            response: Response = make_response(view(*args, **kwargs))
            row = session.get(IdempotencyKey, record_id)
            if 200 <= response.status_code < 300 and row is not None:
                row.state, row.status_code = DONE, response.status_code
                row.response_body = response.get_data(as_text=True)
            elif row is not None:
                session.delete(row)
            session.commit()
            return response

        try:
            return run_in_transaction(session, keyed)
        except BaseException:
            # Nothing of the view was kept: free the key for a retry.
            session.rollback()
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
            session.commit()
            raise

    return wrapper


def _take_key(session: Session, key: str) -> str | Response:
    """Claim ``key`` for this request (committed at once, so a concurrent retry sees it running) and return its
    row id; or, for a key already finished, its stored answer again. A key still running answers 409."""
    if len(key) > 200:
        raise DomainError(
            "invalid_request",
            "Idempotency-Key is too long; use at most 200 characters.",
            {"fields": {"Idempotency-Key": ["Too long."]}},
        )
    user = current_caller()
    body_hash = _body_hash()
    stale = utcnow() - timedelta(seconds=current_app.config["IDEMPOTENCY_STALE_SECONDS"])
    existing = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.path == request.path, IdempotencyKey.key == key)
    )
    if existing is not None:
        if existing.body_hash != body_hash:
            raise conflict("This Idempotency-Key was used with a different body. Use a new key for a new request.")
        if existing.state == DONE:
            replay: Response = current_app.response_class(existing.response_body, status=existing.status_code, mimetype="application/json")
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        if existing.created_at > stale:
            raise conflict("A request with this Idempotency-Key is still running. Wait for it, then retry.")
        # The first request died before its commit, so it created nothing: let this one take the key over.
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == existing.id))
        session.commit()
    row = IdempotencyKey(user_id=user.id, path=request.path, key=key, body_hash=body_hash)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise conflict("A request with this Idempotency-Key is still running. Wait for it, then retry.") from None
    return row.id


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))

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
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.auth import current_caller
from reviews.kernel.db import Base, IdMixin, db, utcnow
from reviews.kernel.errors import DomainError, conflict

RUNNING, DONE = "running", "done"


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
    """Honour ``Idempotency-Key`` on a create endpoint (scoped to the caller and the path)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if not key:
            return view(*args, **kwargs)
        if len(key) > 200:
            raise DomainError(
                "invalid_request",
                "Idempotency-Key is too long; use at most 200 characters.",
                {"fields": {"Idempotency-Key": ["Too long."]}},
            )
        user = current_caller()
        body_hash = _body_hash()
        session = db.session
        stale = utcnow() - timedelta(seconds=current_app.config["IDEMPOTENCY_STALE_SECONDS"])
        existing = session.scalar(
            select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.path == request.path, IdempotencyKey.key == key)
        )
        if existing is not None:
            if existing.body_hash != body_hash:
                raise conflict("This Idempotency-Key was used with a different body. Use a new key for a new request.")
            if existing.state == DONE:
                replay = current_app.response_class(existing.response_body, status=existing.status_code, mimetype="application/json")
                replay.headers["Idempotent-Replayed"] = "true"
                return replay
            if existing.created_at > stale:
                raise conflict("A request with this Idempotency-Key is still running. Wait for it, then retry.")
            # The first request died mid-way and stored nothing: let this one take the key over.
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == existing.id))
            session.commit()
        session.add(IdempotencyKey(user_id=user.id, path=request.path, key=key, body_hash=body_hash))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            raise conflict("A request with this Idempotency-Key is still running. Wait for it, then retry.") from None
        record_id = session.scalar(
            select(IdempotencyKey.id).where(
                IdempotencyKey.user_id == user.id, IdempotencyKey.path == request.path, IdempotencyKey.key == key
            )
        )
        try:
            result = view(*args, **kwargs)
            response: Response = make_response(result)
        except BaseException:
            session.rollback()
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
            session.commit()
            raise
        if 200 <= response.status_code < 300:
            row = session.get(IdempotencyKey, record_id)
            if row is not None:
                row.state, row.status_code = DONE, response.status_code
                row.response_body = response.get_data(as_text=True)
                session.commit()
        else:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
            session.commit()
        return response

    return wrapper


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))

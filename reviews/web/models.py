"""What the pages keep on the server for a person between two requests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from reviews.kernel.db import Base, IdMixin, json_column


class FormDraft(IdMixin, Base):
    """A form's typed values and the errors to show beside them, kept while the browser is redirected.

    A refused form (POST-redirect-GET) and a form sent from a page whose session has since ended both land here,
    so that the next page shows the form again, filled in. The browser holds only a random key (in its signed
    session cookie); the row keeps the key's SHA-256. Used once, and dropped after a day in any case.
    """

    __tablename__ = "form_drafts"

    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The person who sent it, when the page knew them; a draft kept for a signed-out browser has none until
    # it is taken after signing in again.
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    form_id: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(2000))
    values: Mapped[dict[str, Any]] = json_column()
    errors: Mapped[dict[str, Any]] = json_column()
    # Why the form came back: "refused" (the service said no) or "stale" (nothing was sent: sign in / send again).
    reason: Mapped[str] = mapped_column(String(20))

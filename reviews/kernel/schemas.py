"""Request fields shared by the feature schemas.

Every schema takes text through ``String`` (or ``Email``), never marshmallow's own: a NUL character or a lone
surrogate is refused with 422, naming the field (``reviews.kernel.inputs``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

from reviews.kernel.inputs import hostile_message, is_clean

# Deadlines and other moments a caller gives lie in these years (after conversion to UTC).
EARLIEST_YEAR, LATEST_YEAR = 2000, 2200
OUT_OF_RANGE = f"Give a moment between the years {EARLIEST_YEAR} and {LATEST_YEAR} (ISO 8601, e.g. 2030-06-30T23:59:00Z)."


def _clean(text: str, attr: str | None) -> str:
    if not is_clean(text):
        raise ma.ValidationError(hostile_message(attr or "The text"))
    return text


class String(ma.fields.String):
    """Text without a NUL character or a lone surrogate."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return _clean(super()._deserialize(value, attr, data, **kwargs), attr)


class Email(ma.fields.Email):
    """An email address without a NUL character or a lone surrogate (marshmallow's check lets some through)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return _clean(super()._deserialize(value, attr, data, **kwargs), attr)


class AwareDateTime(ma.fields.DateTime):
    """ISO 8601; a time without a zone is taken as UTC; the moment must lie in the years 2000 to 2200."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:59:59-12:00 is past the calendar's end in UTC
            raise ma.ValidationError(OUT_OF_RANGE) from None
        if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            raise ma.ValidationError(OUT_OF_RANGE)
        return moment


class ScoresField(ma.fields.Dict):
    """{criterion_key: points}; checked against the rubric by the service."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(keys=String(), values=ma.fields.Float(allow_nan=False), **kwargs)

"""Request fields shared by the feature schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma


class AwareDateTime(ma.fields.DateTime):
    """ISO 8601; a time without a zone is taken as UTC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class ScoresField(ma.fields.Dict):
    """{criterion_key: points}; checked against the rubric by the service."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(keys=ma.fields.String(), values=ma.fields.Float(allow_nan=False), **kwargs)

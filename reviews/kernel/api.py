"""The flask-smorest Api: request validation and the generated OpenAPI document."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint

from reviews.kernel.schemas import String

__all__ = ["Blueprint", "ErrorSchema", "api"]


class _ErrorDetail(ma.Schema):
    code = String(required=True)
    message = String(required=True)
    details = ma.fields.Dict(required=True, metadata={"description": "{} when there is nothing more to say; {fields: ...} for 422."})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(_ErrorDetail, required=True)


class Blueprint(_Blueprint):
    """smorest's Blueprint whose ``response`` schema documents the answer and never re-serialises it.

    smorest would dump the view's dict through the schema: keys it does not list vanish and a Float field turns
    ``0`` into ``0.0``. Here the view's dict is the answer, byte for byte; the schema is only its contract. The
    success answer is registered with no schema (nothing dumped) and the schema added as documentation of the
    same status (``alt_response`` never touches the answer); a view that returns a ``Response`` (a file, a CSV)
    passes through either way.
    """

    def response(
        self,
        status_code: int,
        schema: Any = None,
        *,
        content_type: str | None = None,
        description: str | None = None,
        example: Any = None,
        examples: Any = None,
        headers: Any = None,
    ) -> Any:
        extra = {"description": description, "example": example, "examples": examples, "headers": headers}
        answer = super().response(status_code, content_type=content_type, **extra)
        if schema is None:
            return answer
        document = super().alt_response(status_code, schema=schema, content_type=content_type, **extra)

        def decorator(func: Any) -> Any:
            return document(answer(func))

        return decorator


class Api(_Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        # reviews.kernel.error_handlers answers every error in the contract's shape; smorest's own handler would not.
        pass


api = Api(
    spec_kwargs={
        "info": {"description": "fairpeer: peer-review calibration and moderation for online courses."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
)


def spec_dict() -> dict[str, Any]:
    spec: dict[str, Any] = api.spec.to_dict()
    return spec

"""The flask-smorest Api: request validation and the generated OpenAPI document."""

from __future__ import annotations

import http
from collections.abc import Callable
from typing import Any, TypeVar, cast

import marshmallow as ma
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint

from reviews.kernel.errors import STATUS
from reviews.kernel.schemas import String

__all__ = ["Blueprint", "ErrorSchema", "api"]

View = TypeVar("View", bound=Callable[..., Any])

# How a 422 with rules begins: the shape of the request (marshmallow's, or a view's own reading) is always checked too.
SHAPE_OR_RULE = "Unprocessable: the request's shape (`invalid_request`, details.fields) or a rule:"


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # After smorest's own callbacks, so the rule list replaces @arguments' generic 422 whatever the decorator order.
        self._prepare_doc_cbks.append(self._prepare_refusals_doc)

    def refusals(self, status: int, /, **rules: str) -> Callable[[View], View]:
        """Document the refusals of an operation that a rule, not the request's shape, gives: ``code=sentence``.

        Documentation only (``alt_response``): the answer is the view's, untouched. Each code must answer
        ``status`` in ``STATUS``. The description lists every code with its rule; a 422's begins with the shape
        check, so that it also covers the generic 422 of ``@arguments``, which it replaces. Several calls for one
        status add up, top to bottom.
        """
        if not rules:
            raise ValueError("refusals: name at least one code and its rule")
        for code in rules:
            if STATUS.get(code) != status:
                raise ValueError(f"refusals: {code!r} answers {STATUS.get(code)}, not {status} (reviews.kernel.errors.STATUS)")
        document = super().alt_response(status, schema=ErrorSchema, description=describe_refusals(status, list(rules.items())))

        def decorator(func: View) -> View:
            view: Any = document(func)
            listed = view._apidoc.setdefault("refusals", {}).setdefault(status, [])
            listed[:0] = list(rules.items())
            return cast(View, view)

        return decorator

    @staticmethod
    def _prepare_refusals_doc(doc: dict[str, Any], doc_info: dict[str, Any], **_: Any) -> dict[str, Any]:
        for status, rules in doc_info.get("refusals", {}).items():
            doc["responses"][status]["description"] = describe_refusals(status, rules)
        return doc


def describe_refusals(status: int, rules: list[tuple[str, str]]) -> str:
    """``Phrase:`` then one ``- `code`: rule`` line per rule."""
    head = SHAPE_OR_RULE if status == 422 else f"{http.HTTPStatus(status).phrase}:"
    return "\n".join([head, *(f"- `{code}`: {sentence}" for code, sentence in rules)])


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

"""The flask-smorest Api: request validation and the generated OpenAPI document."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Api as _Api
from flask_smorest import Blueprint

__all__ = ["Blueprint", "ErrorSchema", "api"]


class _ErrorDetail(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    details = ma.fields.Dict()


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(_ErrorDetail, required=True)


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

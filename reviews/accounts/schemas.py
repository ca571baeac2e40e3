"""Response schemas of the user and sign-in-link endpoints."""

from __future__ import annotations

import marshmallow as ma

from reviews.kernel.schemas import String


class UserCreatedSchema(ma.Schema):
    id = String(required=True)
    email = String(required=True)
    name = String(required=True)
    token = String(required=True, metadata={"description": "The user's API token, shown only this once."})


class SignInLinkSchema(ma.Schema):
    url = String(required=True, metadata={"description": "The single-use sign-in link for the browser pages."})
    expires_at = String(required=True, metadata={"description": "ISO 8601."})


class TokenIssuedSchema(ma.Schema):
    id = String(required=True)
    email = String(required=True)
    token = String(
        required=True, metadata={"description": "The user's new API token, shown only this once; every earlier one stopped working."}
    )

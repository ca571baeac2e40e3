"""Response schemas of the user and sign-in-link endpoints."""

from __future__ import annotations

import marshmallow as ma


class UserCreatedSchema(ma.Schema):
    id = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    token = ma.fields.String(required=True, metadata={"description": "The user's API token, shown only this once."})


class SignInLinkSchema(ma.Schema):
    url = ma.fields.String(required=True, metadata={"description": "The single-use sign-in link for the browser pages."})
    expires_at = ma.fields.String(required=True, metadata={"description": "ISO 8601."})

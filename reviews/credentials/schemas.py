"""Schemas of the credentials API (documentation of the answers; the signed JSON itself is passed through as issued)."""

from __future__ import annotations

import marshmallow as ma

from reviews.kernel.schemas import String


class CredentialLinkSchema(ma.Schema):
    id = String(required=True, metadata={"description": "The credential's id, urn:uuid:<uuid> (unguessable)."})
    url = String(required=True, metadata={"description": "GET gives the signed JSON to the learner and the course's staff."})
    verify_url = String(required=True, metadata={"description": "The public verify page (no sign-in)."})
    download_url = String(required=True, metadata={"description": "The signed JSON as a file, for the signed-in pages."})


class CheckSchema(ma.Schema):
    name = String(required=True, metadata={"description": "json_ld, schema, signature, key, dates or status."})
    ok = ma.fields.Boolean(required=True, allow_none=True, metadata={"description": "null: could not be checked."})
    detail = String(required=True)


class VerificationSchema(ma.Schema):
    status = String(required=True, metadata={"description": "valid, revoked, invalid or status_unknown."})
    checks = ma.fields.List(ma.fields.Nested(CheckSchema), required=True)
    issuer = ma.fields.Dict(allow_none=True, metadata={"description": "{id, name} of the issuer, when the credential names one."})

"""Verifying a credential for anyone, with the status lists this service publishes read from the database (no
HTTP to ourselves) and no network at all for others' (their status is reported as could not be checked)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import credentials
from reviews.credentials import keys
from reviews.credentials.models import IssuedCredential, IssuerKey, StatusList
from reviews.kernel.db import utcnow
from reviews.kernel.errors import DomainError, not_found

STATUS_WORDS = {
    "valid": "Valid",
    "revoked": "Revoked",
    "invalid": "Invalid",
    "status_unknown": "Status could not be checked",
}
STATUS_SENTENCES = {
    "valid": "Every check passed: this credential was issued as it reads and has not been revoked.",
    "revoked": "The signature holds, but the issuer has revoked this credential: it no longer stands.",
    "invalid": "At least one check failed: do not rely on what this credential says.",
    "status_unknown": "The signature holds, but whether the issuer revoked it could not be checked. Do not treat it as valid.",
}


def own_status_list(session: Session, url: str) -> dict[str, Any] | None:
    """The signed status list this service publishes at ``url``, or None (not ours: it is not fetched)."""
    signed = session.scalar(select(StatusList.signed).where(StatusList.url == url))
    return json.loads(signed) if signed else None


def verify_document(session: Session, document: dict[str, Any], now: datetime | None = None) -> credentials.Verification:
    return credentials.verify_credential(
        document,
        status_lists=lambda url: own_status_list(session, url),
        now=now or utcnow(),
        trusted_keys=keys.trusted_keys(session),
    )


def too_large(max_bytes: int) -> DomainError:
    return DomainError(
        "credential_too_large",
        f"A credential to verify may be at most {max_bytes // 1024} KiB; this one is larger. Send the credential alone.",
    )


def parse_body(raw: bytes, max_bytes: int) -> dict[str, Any]:
    """The JSON object a caller sent to verify; anything else is refused with a specific code."""
    if len(raw) > max_bytes:
        raise too_large(max_bytes)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise DomainError(
            "invalid_json", "The body is not JSON. Send the credential as a JSON object (Content-Type: application/json)."
        ) from None
    if not isinstance(body, dict):
        raise DomainError("not_a_credential", "Send one credential: a JSON object with @context, type, issuer and proof.")
    return body


@dataclass
class VerifyPage:
    credential: IssuedCredential
    document: dict[str, Any]
    verification: credentials.Verification
    issuer_key: IssuerKey | None


def issued_credential(session: Session, credential_uuid: str) -> IssuedCredential:
    row = session.get(IssuedCredential, credential_uuid) if _is_uuid(credential_uuid) else None
    if row is None:
        raise not_found("That credential")
    return row


def _is_uuid(value: str) -> bool:
    return len(value) == 36 and all(c in "0123456789abcdef-" for c in value)


def verify_page(session: Session, credential_uuid: str, now: datetime | None = None) -> VerifyPage:
    """What /verify/<id> shows: the stored credential checked as any verifier would check it."""
    row = issued_credential(session, credential_uuid)
    document = json.loads(row.document)
    result = verify_document(session, document, now)
    issuer_id = (result.issuer or {}).get("id")
    issuer_key = keys.registered_since(session, str(issuer_id)) if issuer_id else None
    return VerifyPage(row, document, result, issuer_key)


def verification_json(result: credentials.Verification) -> dict[str, Any]:
    """The answer of POST /api/verify: the verdict, each check, and who the credential says issued it."""
    issuer = result.issuer or {}
    named = {"id": issuer.get("id"), "name": issuer.get("name")} if isinstance(issuer.get("id"), str) else None
    return {**result.to_json(), "issuer": named}

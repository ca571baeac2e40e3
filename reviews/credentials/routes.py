"""The credentials API: the signed JSON for its learner and the course's staff, and verification for anyone."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from reviews.accounts.callers import current_user_or_none
from reviews.accounts.models import User
from reviews.credentials import verification
from reviews.credentials.models import IssuedCredential
from reviews.credentials.schemas import VerificationSchema
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.kernel.errors import DomainError, not_found
from reviews.kernel.ratelimit import limiter
from reviews.records.services import visible_record

blp = Blueprint("credentials", __name__, url_prefix="/api", description="Signed credentials (Open Badges 3.0) and their verification")

VC_MEDIA_TYPE = "application/json"


def readable_credential(credential_uuid: str, caller: User | None) -> IssuedCredential:
    """A credential the caller may fetch: their own, or one of a learner of a course they are staff of (the record's
    rule, records.services.visible_record). Anyone else (another learner, a mentor, an outsider, nobody signed in)
    learns nothing, not even that it exists: 404. The pages' download asks the same."""
    row = verification.issued_credential(db.session, credential_uuid)
    if caller is None:
        raise not_found("That credential")
    try:
        visible_record(db.session, row.course_id, row.learner_id, caller)
    except DomainError as exc:
        if exc.code in ("forbidden", "not_found"):
            raise not_found("That credential") from None
        raise
    return row


@blp.route("/credentials/<credential_id>", methods=["GET"])
@blp.response(
    200,
    {"type": "object", "description": "An OpenBadgeCredential (W3C VC 2.0 JSON-LD) with its DataIntegrityProof."},
    content_type=VC_MEDIA_TYPE,
    description="The signed OpenBadgeCredential, byte for byte as issued.",
)
@blp.refusals(404, not_found="No such credential, or it is not the caller's nor of a learner of a course they are staff of.")
def get_credential(credential_id: str) -> Any:
    """The signed credential (JSON-LD, eddsa-rdfc-2022 proof), for the learner it was issued to and the course's staff."""
    row = readable_credential(credential_id, current_user_or_none())
    return Response(row.document, mimetype=VC_MEDIA_TYPE)


def verify_limit() -> str:
    return str(current_app.config["RATE_LIMIT_VERIFY"])


@blp.route("/verify", methods=["POST"])
@limiter.limit(verify_limit)
@blp.doc(
    security=[],
    requestBody={
        "required": True,
        "description": "One credential (a JSON object), as issued; at most VERIFY_MAX_BYTES (256 KiB).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
)
@blp.response(200, VerificationSchema)
@blp.refusals(400, invalid_json="The body is not JSON.", not_a_credential="The body is JSON but not one object.")
@blp.refusals(413, credential_too_large="The body is larger than VERIFY_MAX_BYTES.")
@blp.refusals(429, rate_limited="Too many verifications in a short time (RATE_LIMIT_VERIFY); details.retry_after says when to retry.")
def verify(**_: Any) -> Any:
    """Verify a credential: JSON-LD (shipped contexts only, every term defined), schema, signature, key, dates and
    status. For anyone, signed in or not. A status list this service does not publish is not fetched: its status is
    reported as could not be checked (``status_unknown``), never as valid."""
    limit = int(current_app.config["VERIFY_MAX_BYTES"])
    if (request.content_length or 0) > limit:  # refused before it is read
        raise verification.too_large(limit)
    body = verification.parse_body(request.get_data(cache=True), limit)
    return verification.verification_json(verification.verify_document(db.session, body))

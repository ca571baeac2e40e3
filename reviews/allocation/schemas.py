"""Response schemas of the review-claim and review endpoints."""

from __future__ import annotations

import marshmallow as ma

from reviews.kernel.schemas import String
from reviews.submissions.schemas import FileSchema


class ClaimItemSchema(ma.Schema):
    text = String(required=True)
    files = ma.fields.List(ma.fields.Nested(FileSchema), required=True)


class ClaimSchema(ma.Schema):
    """What a reviewer sees: the same keys for a peer's work and a staff sample, and no ids of the work."""

    claim_id = String(required=True)
    expires_at = String(required=True, metadata={"description": "ISO 8601."})
    rubric = ma.fields.Dict(required=True, metadata={"description": "{criteria: [{key, title, description, max_points}]}."})
    item = ma.fields.Nested(ClaimItemSchema, required=True)


class ReviewCreatedSchema(ma.Schema):
    review_id = String(required=True)

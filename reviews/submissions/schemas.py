"""Response schemas of the submission, file, received-review and progress endpoints."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from reviews.kernel.schemas import String
from reviews.scoring.schemas import ScoreSchema


class SubmissionCreatedSchema(ma.Schema):
    id = String(required=True)
    attempt = ma.fields.Integer(required=True)
    status = String(required=True)


class CalibrationSampleCreatedSchema(ma.Schema):
    id = String(required=True)


class FileSchema(ma.Schema):
    id = String(required=True)
    filename = String(required=True)
    content_type = String(required=True, metadata={"description": "As uploaded; downloads are always application/octet-stream."})
    size = ma.fields.Integer(required=True, metadata={"description": "Bytes."})
    url = String(required=True, metadata={"description": "Where to download it: /api/files/<id>."})


class PreviousScoreSchema(ScoreSchema):
    """The last released score of an earlier attempt: the Score object with the attempt it belongs to."""

    attempt = ma.fields.Integer(required=True, metadata={"description": "The earlier attempt's number."})
    submission_id = String(required=True, metadata={"description": "The earlier attempt's id."})


PREVIOUS_SCORE = (
    "The last released score of an earlier attempt (null if none): it stays on the learner's record while a newer "
    "attempt is not yet released."
)


class SubmissionSchema(ma.Schema):
    """A submission; author_id and kind are shown to mentors and staff only."""

    id = String(required=True)
    assignment_id = String(required=True)
    attempt = ma.fields.Integer(required=True)
    status = String(required=True)
    text = String(required=True)
    files = ma.fields.List(ma.fields.Nested(FileSchema), required=True)
    score = ma.fields.Nested(ScoreSchema, required=True, allow_none=True, metadata={"description": "null until computed."})
    previous_score = ma.fields.Nested(PreviousScoreSchema, required=True, allow_none=True, metadata={"description": PREVIOUS_SCORE})
    created_at = String(required=True, metadata={"description": "ISO 8601."})
    cancelled_reason = String(metadata={"description": "Present only when the submission was cancelled."})
    author_id = String(metadata={"description": "Mentors and staff only."})
    kind = String(metadata={"description": "Mentors and staff only."})


class ReceivedReviewSchema(ma.Schema):
    """A review received; anonymous to the author (reviewer_id, weight, discounted, created_at for mentors and staff only)."""

    id = String(required=True)
    scores = ma.fields.Dict(required=True, metadata={"description": "{criterion_key: points}."})
    comments = ma.fields.Dict(required=True, metadata={"description": "{criterion_key: comment}."})
    overall_comment = String(required=True)
    reviewer_id = String(metadata={"description": "Mentors and staff only."})
    weight = ma.fields.Float(allow_none=True, metadata={"description": "Mentors and staff only."})
    discounted = ma.fields.Boolean(metadata={"description": "Mentors and staff only."})
    created_at = String(metadata={"description": "Mentors and staff only; ISO 8601."})


class ReceivedReviewsSchema(ma.Schema):
    released = ma.fields.Boolean(required=True)
    reviews = ma.fields.List(
        ma.fields.Nested(ReceivedReviewSchema), required=True, metadata={"description": "Empty for the author before release."}
    )


class ProgressSubmissionSchema(ma.Schema):
    id = String(required=True)
    attempt = ma.fields.Integer(required=True)
    status = String(required=True)
    created_at = String(required=True, metadata={"description": "ISO 8601."})


class ProgressSchema(ma.Schema):
    submission = ma.fields.Nested(ProgressSubmissionSchema, required=True, allow_none=True, metadata={"description": "The latest attempt."})
    attempts = ma.fields.Integer(required=True)
    max_attempts = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "null: unlimited."})
    reviews_given = ma.fields.Integer(required=True)
    reviews_owed = ma.fields.Integer(required=True)
    score = ma.fields.Nested(ScoreSchema, required=True, allow_none=True, metadata={"description": "The latest attempt's score."})
    previous_score = ma.fields.Nested(PreviousScoreSchema, required=True, allow_none=True, metadata={"description": PREVIOUS_SCORE})


# The two multipart endpoints read `request` themselves (JSON or multipart/form-data); these document their bodies.
_TEXT = {"type": "string", "description": "The work's text (may be empty when files carry it)."}
_FILES = {
    "type": "array",
    "items": {"type": "string", "format": "binary"},
    "description": "Attached files (PDF, DOCX, text or source, PNG, JPEG); every file part is taken, whatever its field name.",
}
_SCORES = {"type": "object", "additionalProperties": {"type": "number"}, "description": "{criterion_key: points} for every criterion."}

SUBMISSION_REQUEST_BODY: dict[str, Any] = {
    "description": "The attempt: a JSON object with its text, or a multipart form with text and files.",
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"text": _TEXT}, "additionalProperties": False},
        },
        "multipart/form-data": {
            "schema": {"type": "object", "properties": {"text": _TEXT, "files": _FILES}},
        },
    },
}

SAMPLE_REQUEST_BODY: dict[str, Any] = {
    "description": "The sample and its staff scores: a JSON object, or a multipart form with text, scores (a JSON string) and files.",
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"text": _TEXT, "scores": _SCORES},
                "required": ["scores"],
                "additionalProperties": False,
            },
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "text": _TEXT,
                    "scores": {"type": "string", "description": "A JSON object {criterion_key: points} for every criterion, as a string."},
                    "files": _FILES,
                },
                "required": ["scores"],
            },
        },
    },
}

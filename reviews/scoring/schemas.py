"""Response schemas of the scoring endpoints, and the Score object the other features answer with."""

from __future__ import annotations

import marshmallow as ma

from reviews.kernel.schemas import String


class ScoreSchema(ma.Schema):
    """The Score object; before release its author sees only ``{"released": false}``."""

    value = ma.fields.Float(metadata={"description": "The calibrated (or staff, or overridden) total."})
    max = ma.fields.Float(metadata={"description": "The rubric's maximum total."})
    interval = ma.fields.List(
        ma.fields.Float(allow_none=True), metadata={"description": "[low, high] of the total; null where not computed."}
    )
    reviews = ma.fields.Integer(metadata={"description": "How many reviews went into the score."})
    method = String(metadata={"description": "How the score was made: e.g. median, calibrated, staff, override, cancelled."})
    criteria = ma.fields.Dict(metadata={"description": "{criterion_key: {value, interval}}."})
    released = ma.fields.Boolean(required=True, metadata={"description": "Whether the score is released to its author."})
    note = String(metadata={"description": "Present when a released score rests on fewer reviews than required: why its interval widened."})


class StaffGradeSchema(ma.Schema):
    id = String(required=True, metadata={"description": "The staff grade's id."})
    submission_id = String(required=True)
    score = ma.fields.Nested(ScoreSchema, allow_none=True, required=True)


class ReleaseSchema(ma.Schema):
    id = String(required=True, metadata={"description": "The assignment's id."})
    released_at = String(allow_none=True, required=True, metadata={"description": "ISO 8601 time of the release."})


class SampleReviewSchema(ma.Schema):
    reviewer_id = String(required=True)
    scores = ma.fields.Dict(required=True, metadata={"description": "{criterion_key: points} the reviewer gave."})
    discounted = ma.fields.Boolean(required=True)
    created_at = String(required=True, metadata={"description": "ISO 8601."})


class CalibrationSampleSchema(ma.Schema):
    """A staff-graded calibration sample, as its course's staff see it (never shown to learners)."""

    id = String(required=True)
    assignment_id = String(required=True)
    text = String(required=True)
    files = ma.fields.List(ma.fields.Dict(), required=True, metadata={"description": "[{id, filename, content_type, size, url}]."})
    scores = ma.fields.Dict(required=True, metadata={"description": "The staff scores: {criterion_key: points}."})
    served = ma.fields.Boolean(
        required=True, metadata={"description": "Whether a reviewer has been served it; from then on its staff scores cannot change."}
    )
    created_at = String(required=True, metadata={"description": "ISO 8601."})
    reviews = ma.fields.List(ma.fields.Nested(SampleReviewSchema), required=True, metadata={"description": "Oldest first."})


class CalibrationSamplesSchema(ma.Schema):
    samples = ma.fields.List(ma.fields.Nested(CalibrationSampleSchema), required=True, metadata={"description": "Oldest first."})

"""Response schemas of the learner's record."""

from __future__ import annotations

import marshmallow as ma

from reviews.courses.schemas import CourseSchema
from reviews.kernel.schemas import String
from reviews.scoring.schemas import ScoreSchema


class RecordLearnerSchema(ma.Schema):
    id = String(required=True)
    name = String(required=True)


class RecordProjectSchema(ma.Schema):
    assignment_id = String(required=True)
    title = String(required=True)
    submission_id = String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The attempt on the record: the latest, unless it is not released yet and an earlier attempt's "
            "score was (that earlier attempt is kept); null if none."
        },
    )
    attempt = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "That attempt's number; null if none."})
    status = String(required=True, allow_none=True)
    score = ma.fields.Nested(ScoreSchema, required=True, allow_none=True)
    attempts = ma.fields.Integer(required=True)
    max_attempts = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "null: unlimited."})


class RecordSchema(ma.Schema):
    learner = ma.fields.Nested(RecordLearnerSchema, required=True)
    course = ma.fields.Nested(CourseSchema, required=True)
    projects = ma.fields.List(ma.fields.Nested(RecordProjectSchema), required=True)

"""Request and response schemas of the learner's record and its share links."""

from __future__ import annotations

import marshmallow as ma

from reviews.courses.schemas import CourseSchema
from reviews.kernel.schemas import String
from reviews.scoring.schemas import ScoreSchema


class RecordLearnerSchema(ma.Schema):
    id = String(required=True)
    name = String(required=True)


class IntegritySchema(ma.Schema):
    checked_against = ma.fields.Integer(
        required=True, metadata={"description": "Other learners' submissions the copy check compared it with."}
    )
    upheld = ma.fields.Boolean(required=True, metadata={"description": "A mentor marked it as copied work."})
    words = String(required=True)


class CredentialLinkSchema(ma.Schema):
    id = String(required=True, metadata={"description": "The credential's id (urn:uuid:...)."})
    url = String(required=True, metadata={"description": "GET gives the signed JSON to the learner and staff."})
    verify_url = String(metadata={"description": "The public verify page (for a CV or a profile)."})
    download_url = String()


class _ProjectFields(ma.Schema):
    number = ma.fields.Integer(required=True, metadata={"description": "The project's position on the record (1, 2, ...)."})
    title = String(required=True)
    asked = String(required=True, metadata={"description": "What the assignment asked: its prompt, shortened to 300 characters."})
    skills = ma.fields.List(String(), required=True, metadata={"description": "What the assignment assesses, in staff's words."})
    score_words = String(required=True, metadata={"description": "The score and its 95% interval in words."})
    reviews = ma.fields.Integer(required=True, metadata={"description": "Calibrated peer reviews behind a released score."})
    graded_by = String(
        required=True,
        allow_none=True,
        metadata={"description": "peers, staff (staff graded it) or mentor (a mentor set it); null: no score."},
    )
    attempts = ma.fields.Integer(required=True)
    max_attempts = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "null: unlimited."})
    attempt_dates = ma.fields.List(String(), required=True, metadata={"description": "When each attempt was submitted, oldest first."})
    integrity = ma.fields.Nested(IntegritySchema, required=True, allow_none=True)
    annotation = String(
        required=True, allow_none=True, metadata={"description": "The learner's own words about the project (not verified by anyone)."}
    )
    credential = ma.fields.Nested(CredentialLinkSchema, required=True, allow_none=True)
    text_public = ma.fields.Boolean(required=True)


class RecordProjectSchema(_ProjectFields):
    assignment_id = String(required=True)
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
    shared = ma.fields.Boolean(required=True, metadata={"description": "The learner shows it on their shared record."})


class RecordCourseSchema(CourseSchema):
    learning_summary = String(required=True)


class RecordSchema(ma.Schema):
    learner = ma.fields.Nested(RecordLearnerSchema, required=True)
    course = ma.fields.Nested(RecordCourseSchema, required=True)
    projects = ma.fields.List(ma.fields.Nested(RecordProjectSchema), required=True)


class ProjectNoteSchema(ma.Schema):
    assignment_id = String(required=True)
    annotation = String(required=True)
    shared = ma.fields.Boolean(required=True)
    text_public = ma.fields.Boolean(required=True)


class ShareSchema(ma.Schema):
    id = String(required=True)
    hint = String(required=True, metadata={"description": "The token's first characters, to tell links apart."})
    allow_indexing = ma.fields.Boolean(required=True)
    created_at = String(required=True)
    revoked_at = String(required=True, allow_none=True)
    token = String(metadata={"description": "Only in the answer that made the link: it is not kept and cannot be shown again."})
    path = String(metadata={"description": "/shared/{token}: the page anyone with the link can open."})
    url = String(metadata={"description": "The same page as a full address, to copy (only in the answer that made the link)."})


class ShareListSchema(ma.Schema):
    shares = ma.fields.List(ma.fields.Nested(ShareSchema), required=True)


class SharedProjectSchema(_ProjectFields):
    score = ma.fields.Nested(ScoreSchema, required=True, allow_none=True)


class SharedCourseSchema(ma.Schema):
    title = String(required=True)
    learning_summary = String(required=True)


class SharedLearnerSchema(ma.Schema):
    name = String(required=True)


class SharedRecordSchema(ma.Schema):
    learner = ma.fields.Nested(SharedLearnerSchema, required=True)
    course = ma.fields.Nested(SharedCourseSchema, required=True)
    allow_indexing = ma.fields.Boolean(required=True)
    projects = ma.fields.List(ma.fields.Nested(SharedProjectSchema), required=True)

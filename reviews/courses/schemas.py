"""Response schemas of the course, member, assignment and audit endpoints (the request schemas sit beside their
routes, and the pages load their forms through those same schemas)."""

from __future__ import annotations

import marshmallow as ma

from reviews.courses.access import ROLES
from reviews.kernel.schemas import Email, String


class MemberByEmail(ma.Schema):
    """The pages add a member by email address (the API takes the user's id)."""

    email = Email(required=True, error_messages={"invalid": "Give an email address, like name@example.org."})
    role = String(required=True, validate=ma.validate.OneOf(ROLES, error="Choose learner, mentor or staff."))


class CourseSchema(ma.Schema):
    id = String(required=True)
    title = String(required=True)
    slug = String(required=True)
    case_lease_hours = ma.fields.Float(metadata={"description": "How long a mentor's claim on a case lasts, in hours."})
    learning_summary = String(metadata={"description": "What the course taught, in staff's words (shown on records)."})


class MembershipSchema(ma.Schema):
    course_id = String(required=True)
    user_id = String(required=True)
    role = String(required=True, metadata={"description": "learner, mentor or staff."})


class AssignmentSchema(ma.Schema):
    """An assignment; calibration_share, lineage and released_at are shown to staff only."""

    id = String(required=True)
    course_id = String(required=True)
    title = String(required=True)
    prompt = String(required=True)
    skills = ma.fields.List(String(), metadata={"description": "The skills or outcomes it assesses (shown on records)."})
    template = String(required=True, allow_none=True)
    rubric = ma.fields.Dict(
        required=True, metadata={"description": "{criteria: [{key, title, description, max_points, levels?: [{points, description}]}]}."}
    )
    reviews_required = ma.fields.Integer(required=True)
    reviews_to_give = ma.fields.Integer(required=True)
    max_attempts = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "null: unlimited."})
    attempt_cooldown_hours = ma.fields.Float(required=True)
    min_words = ma.fields.Integer(required=True)
    due_at = String(required=True, allow_none=True, metadata={"description": "ISO 8601."})
    review_due_at = String(required=True, allow_none=True, metadata={"description": "ISO 8601."})
    created_at = String(required=True, metadata={"description": "ISO 8601."})
    training_samples = ma.fields.Integer(
        required=True, metadata={"description": "Training samples a learner grades before live reviews; 0: no training."}
    )
    training_tolerance = ma.fields.Float(
        required=True, allow_none=True, metadata={"description": "Points a training try may be off per criterion; null: 10%, at least 1."}
    )
    require_overall_comment = ma.fields.Boolean(
        required=True, metadata={"description": "Every review needs an overall comment of real words (422 review_rejected without)."}
    )
    reviewing_weight = ma.fields.Float(
        required=True, metadata={"description": "The reviewing grade's share in the combined grade (0 to 1; 0: grade = score)."}
    )
    helpfulness_weight = ma.fields.Float(required=True, metadata={"description": "The helpfulness ratings' share in the reviewing grade."})
    calibration_share = ma.fields.Float(metadata={"description": "Staff only."})
    lineage = String(allow_none=True, metadata={"description": "Staff only."})
    released_at = String(allow_none=True, metadata={"description": "Staff only; ISO 8601."})


class AssignmentListSchema(ma.Schema):
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema), required=True)


class AuditEventSchema(ma.Schema):
    id = String(required=True)
    at = String(required=True, metadata={"description": "ISO 8601."})
    actor = String(required=True, allow_none=True, metadata={"description": "The acting user's id; null for the service."})
    action = String(required=True)
    subject = String(required=True, metadata={"description": "e.g. submission:<id>."})
    data = ma.fields.Dict(required=True)


class AuditTrailSchema(ma.Schema):
    events = ma.fields.List(ma.fields.Nested(AuditEventSchema), required=True, metadata={"description": "Newest first."})
    next_cursor = String(
        required=True, allow_none=True, metadata={"description": "Pass as `cursor` for the next, older page; null: this is the last."}
    )

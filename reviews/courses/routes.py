from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import select

from reviews.accounts.callers import current_user, require_admin
from reviews.courses import services
from reviews.courses.access import MENTOR, ROLES, STAFF, require_member, require_role
from reviews.courses.models import Assignment, Course
from reviews.courses.schemas import AssignmentListSchema, AssignmentSchema, AuditTrailSchema, CourseSchema, MembershipSchema
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.kernel.idempotency import KEY_REUSED, idempotent
from reviews.kernel.schemas import AwareDateTime, String

blp = Blueprint("courses", __name__, url_prefix="/api", description="Courses, members and assignments")

# The request schemas; the pages load their forms through them too (one validation for both).
KEY_RULE = "Use 1-40 lowercase letters, digits and underscores."


def lease_hours_field(**options: Any) -> ma.fields.Float:
    """How long a mentor's claim on a case lasts (hours), a course setting."""
    description = "How long a mentor's claim on a case lasts (hours, 0.25 to 720)."
    return ma.fields.Float(allow_nan=False, validate=ma.validate.Range(min=0.25, max=720), metadata={"description": description}, **options)


def skills_field(**options: Any) -> ma.fields.List[Any]:
    """What the assignment assesses, shown on records and carried in credentials."""
    description = "The skills or outcomes the assignment assesses: up to 20 short lines (each 1 to 120 characters)."
    # The lengths are the service's to check, with their own codes (422 too_many_skills, skill_too_long).
    return ma.fields.List(String(), validate=ma.validate.Length(max=200), metadata={"description": description}, **options)


def training_samples_field(**options: Any) -> ma.fields.Integer:
    """How many training samples a learner grades before live reviews (reviews/training)."""
    description = "Training samples a learner grades openly before their first live review (0 to 20; 0: no training)."
    return ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=20), metadata={"description": description}, **options)


def training_tolerance_field(**options: Any) -> ma.fields.Float:
    """How far a training try may be from the staff's points, per criterion (reviews/training)."""
    description = (
        "Points a training try may be off from the staff's score on each criterion; null: 10% of the criterion's points, at least 1."
    )
    return ma.fields.Float(
        allow_none=True, allow_nan=False, validate=ma.validate.Range(min=0, max=1000), metadata={"description": description}, **options
    )


def require_overall_comment_field(**options: Any) -> ma.fields.Boolean:
    """Whether a review needs an overall comment (the review gate, reviews/integrity/short_text.py)."""
    description = "Every review needs an overall comment of real words; without one it is refused (422 review_rejected)."
    return ma.fields.Boolean(metadata={"description": description}, **options)


def share_field(description: str, **options: Any) -> ma.fields.Float:
    """A share from 0 to 1 (the reviewing grade's settings, reviews/scoring/reviewing.py)."""
    return ma.fields.Float(allow_nan=False, validate=ma.validate.Range(min=0, max=1), metadata={"description": description}, **options)


REVIEWING_WEIGHT = "The reviewing grade's share in the combined grade (0 to 1; 0: the grade is the project score)."
HELPFULNESS_WEIGHT = "The helpfulness ratings' share in the reviewing grade (0 to 1), reached as ratings accumulate."


class CourseCreate(ma.Schema):
    title = String(required=True, validate=ma.validate.Length(min=1, max=300))
    slug = String(validate=ma.validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,99}$", error="Use 1-100 lowercase letters, digits and dashes."))
    case_lease_hours = lease_hours_field(load_default=4.0)


class CourseUpdate(ma.Schema):
    """A partial update of the course's settings: only those given change."""

    title = String(validate=ma.validate.Length(min=1, max=300))
    case_lease_hours = lease_hours_field()
    learning_summary = String(
        validate=ma.validate.Length(max=20_000),  # past 2000 characters once trimmed: 422 summary_too_long
        metadata={"description": "What the course taught, in a few sentences (at most 2000 characters): shown on records."},
    )


class MemberCreate(ma.Schema):
    user_id = String(required=True, validate=ma.validate.Length(min=1, max=64))
    role = String(required=True, validate=ma.validate.OneOf(ROLES))


class Level(ma.Schema):
    points = ma.fields.Integer(required=True, strict=True)
    description = String(required=True, validate=ma.validate.Length(min=1, max=1000))


class Criterion(ma.Schema):
    key = String(required=True, validate=ma.validate.Regexp(r"^[a-z0-9_]{1,40}$", error=KEY_RULE))
    title = String(required=True, validate=ma.validate.Length(min=1, max=200))
    description = String(load_default="", validate=ma.validate.Length(max=4000))
    max_points = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=1000))
    levels = ma.fields.List(
        ma.fields.Nested(Level),
        validate=ma.validate.Length(max=1001),
        metadata={"description": "Optional level descriptors reviewers see: each points value within 0..max_points, once."},
    )

    @ma.validates_schema(skip_on_field_errors=True)
    def _levels_within_points(self, data: dict[str, Any], **_: Any) -> None:
        if "max_points" not in data:  # a partial load: nothing to hold the levels against
            return
        points = [level["points"] for level in data.get("levels") or [] if "points" in level]
        outside = sorted({p for p in points if not 0 <= p <= data["max_points"]})
        if outside:
            shown = ", ".join(str(p) for p in outside)
            raise ma.ValidationError(f"Level points must lie between 0 and {data['max_points']}; {shown} does not.", "levels")
        if len(set(points)) != len(points):
            raise ma.ValidationError("Each level needs its own points value; two levels share one.", "levels")


class Rubric(ma.Schema):
    criteria = ma.fields.List(ma.fields.Nested(Criterion), required=True, validate=ma.validate.Length(min=1, max=50))


class AssignmentCreate(ma.Schema):
    title = String(required=True, validate=ma.validate.Length(min=1, max=300))
    prompt = String(load_default="", validate=ma.validate.Length(max=100_000))
    template = String(load_default=None, allow_none=True, validate=ma.validate.Length(max=100_000))
    lineage = String(load_default=None, allow_none=True, validate=ma.validate.Length(max=120))
    rubric = ma.fields.Nested(Rubric, required=True)
    reviews_required = ma.fields.Integer(load_default=3, strict=True, validate=ma.validate.Range(min=1, max=20))
    reviews_to_give = ma.fields.Integer(load_default=4, strict=True, validate=ma.validate.Range(min=0, max=50))
    calibration_share = ma.fields.Float(
        load_default=0.2, validate=ma.validate.Range(min=0, max=1, max_inclusive=False), metadata={"exclusiveMaximum": 1.0}
    )
    max_attempts = ma.fields.Integer(load_default=2, allow_none=True, strict=True, validate=ma.validate.Range(min=1, max=100))
    attempt_cooldown_hours = ma.fields.Float(load_default=0, validate=ma.validate.Range(min=0, max=24 * 365))
    min_words = ma.fields.Integer(load_default=20, strict=True, validate=ma.validate.Range(min=1, max=100_000))
    due_at = AwareDateTime(load_default=None, allow_none=True)
    review_due_at = AwareDateTime(load_default=None, allow_none=True)
    training_samples = training_samples_field(load_default=0)
    skills = skills_field(load_default=list)
    training_tolerance = training_tolerance_field(load_default=None)
    reviewing_weight = share_field(REVIEWING_WEIGHT, load_default=0.0)
    helpfulness_weight = share_field(HELPFULNESS_WEIGHT, load_default=0.25)
    require_overall_comment = require_overall_comment_field(load_default=False)


class AssignmentUpdate(ma.Schema):
    """A partial update: only the settings given change; ``rubric`` replaces the whole rubric."""

    title = String(validate=ma.validate.Length(min=1, max=300))
    prompt = String(validate=ma.validate.Length(max=100_000))
    template = String(allow_none=True, validate=ma.validate.Length(max=100_000))
    lineage = String(allow_none=True, validate=ma.validate.Length(max=120))
    rubric = ma.fields.Nested(Rubric)
    reviews_required = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=20))
    reviews_to_give = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=50))
    calibration_share = ma.fields.Float(validate=ma.validate.Range(min=0, max=1, max_inclusive=False), metadata={"exclusiveMaximum": 1.0})
    max_attempts = ma.fields.Integer(allow_none=True, strict=True, validate=ma.validate.Range(min=1, max=100))
    attempt_cooldown_hours = ma.fields.Float(validate=ma.validate.Range(min=0, max=24 * 365))
    min_words = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=100_000))
    due_at = AwareDateTime(allow_none=True)
    review_due_at = AwareDateTime(allow_none=True)
    training_samples = training_samples_field()
    skills = skills_field()
    training_tolerance = training_tolerance_field()
    reviewing_weight = share_field(REVIEWING_WEIGHT)
    helpfulness_weight = share_field(HELPFULNESS_WEIGHT)
    require_overall_comment = require_overall_comment_field()


class AuditQuery(ma.Schema):
    actor = String(load_default=None, metadata={"description": "The acting user's id or email address."})
    action = String(load_default=None, validate=ma.validate.Length(max=64), metadata={"description": "e.g. member.removed."})
    subject = String(load_default=None, validate=ma.validate.Length(max=120), metadata={"description": "e.g. assignment:<id>."})
    since = AwareDateTime(load_default=None, metadata={"description": "Events at or after this moment (ISO 8601)."})
    until = AwareDateTime(load_default=None, metadata={"description": "Events before this moment (ISO 8601)."})
    limit = ma.fields.Integer(load_default=500, validate=ma.validate.Range(min=1, max=5000))
    cursor = String(
        load_default=None, validate=ma.validate.Length(max=200), metadata={"description": "A next_cursor from an earlier page."}
    )


def course_json(course: Course) -> dict[str, Any]:
    return {
        "id": course.id,
        "title": course.title,
        "slug": course.slug,
        "case_lease_hours": course.case_lease_hours,
        "learning_summary": course.learning_summary or "",
    }


@blp.route("/courses", methods=["POST"])
@idempotent
@blp.arguments(CourseCreate)
@blp.response(201, CourseSchema)
@blp.refusals(409, conflict="A course with that slug (the one given, or the one made from the title) exists already.")
@blp.refusals(409, conflict=KEY_REUSED)
def create_course(body: dict[str, Any]) -> Any:
    """Create a course (admin)."""
    admin = require_admin()
    course = services.create_course(db.session, body["title"], body.get("slug"), admin.id, case_lease_hours=body["case_lease_hours"])
    return course_json(course)


@blp.route("/courses/<course_id>", methods=["PATCH"])
@blp.arguments(CourseUpdate)
@blp.response(200, CourseSchema)
@blp.refusals(422, summary_too_long="learning_summary is longer than 2000 characters once trimmed.")
def update_course(body: dict[str, Any], course_id: str) -> Any:
    """Change the course's settings (admin, staff); audited as course.updated."""
    caller = current_user()
    course = services.get_course(db.session, course_id)
    require_role(course.id, caller, (STAFF,), "That course", "change its settings")
    services.update_course(db.session, course, body, caller.id)
    db.session.commit()
    return course_json(course)


@blp.route("/courses/<course_id>/members", methods=["POST"])
@idempotent
@blp.arguments(MemberCreate)
@blp.response(201, MembershipSchema)
@blp.refusals(422, invalid_request="user_id names no user.")
@blp.refusals(409, conflict=KEY_REUSED)
def add_member(body: dict[str, Any], course_id: str) -> Any:
    """Add a member with a role, or change their role (admin, staff)."""
    caller = current_user()
    course = services.get_course(db.session, course_id)
    require_role(course.id, caller, (STAFF,), "That course", "add members")
    membership = services.add_member(db.session, course, body["user_id"], body["role"], caller.id)
    return {"course_id": course.id, "user_id": membership.user_id, "role": membership.role}


@blp.route("/courses/<course_id>/members/<user_id>", methods=["DELETE"])
@blp.response(204)
@blp.refusals(409, last_staff="The member is the course's only staff member: add another staff member first.")
def remove_member(course_id: str, user_id: str) -> Any:
    """Remove a member from the course (admin, staff); 404 when the user is not a member."""
    caller = current_user()
    course = services.get_course(db.session, course_id)
    require_role(course.id, caller, (STAFF,), "That course", "remove members")
    services.remove_member(db.session, course, user_id, caller.id)
    db.session.commit()
    return ""


@blp.route("/courses/<course_id>/assignments", methods=["GET"])
@blp.response(200, AssignmentListSchema)
def list_assignments(course_id: str) -> Any:
    """The course's assignments (members)."""
    caller = current_user()
    course = services.get_course(db.session, course_id)
    role = require_member(course.id, caller, "That course")
    rows = db.session.scalars(select(Assignment).where(Assignment.course_id == course.id).order_by(Assignment.created_at, Assignment.id))
    return {"assignments": [services.assignment_json(a, role) for a in rows]}


@blp.route("/courses/<course_id>/assignments", methods=["POST"])
@idempotent
@blp.arguments(AssignmentCreate)
@blp.response(201, AssignmentSchema)
@blp.refusals(422, invalid_request="due_at or review_due_at lies outside the years 2000 to 2200 once converted to UTC.")
@blp.refusals(422, invalid_request="Two rubric criteria share a key.")
@blp.refusals(
    422,
    invalid_request="The settings cannot supply the peer reviews they demand: reviews_to_give x (1 - calibration_share) is below "
    "reviews_required.",
)
@blp.refusals(422, invalid_request="review_due_at comes before due_at.")
@blp.refusals(422, invalid_request="A criterion's level descriptors give points outside 0 to its max_points, or the same points twice.")
@blp.refusals(422, too_many_skills="More than 20 skills once blank lines are dropped.")
@blp.refusals(422, skill_too_long="A skill longer than 120 characters once trimmed.")
@blp.refusals(409, conflict=KEY_REUSED)
def create_assignment(body: dict[str, Any], course_id: str) -> Any:
    """Create an assignment with its rubric (staff)."""
    caller = current_user()
    course = services.get_course(db.session, course_id)
    require_role(course.id, caller, (STAFF,), "That course", "create assignments")
    assignment = services.create_assignment(db.session, course, body, caller.id)
    return services.assignment_json(assignment, STAFF)


@blp.route("/assignments/<assignment_id>", methods=["GET"])
@blp.response(200, AssignmentSchema)
def get_assignment(assignment_id: str) -> Any:
    """The assignment (members); staff-only settings are hidden from learners and mentors."""
    caller = current_user()
    assignment = services.get_assignment(db.session, assignment_id)
    role = require_member(assignment.course_id, caller, "That assignment")
    return services.assignment_json(assignment, role if role != MENTOR else MENTOR)


@blp.route("/assignments/<assignment_id>", methods=["PATCH"])
@blp.arguments(AssignmentUpdate)
@blp.response(200, AssignmentSchema)
@blp.refusals(422, invalid_request="The settings after the change break a rule of POST /api/courses/{course_id}/assignments.")
@blp.refusals(
    409,
    settings_locked="Reviews exist for the assignment and the change touches its rubric's keys or points, or reviews_required "
    "(details.locked names them).",
)
@blp.refusals(422, too_many_skills="More than 20 skills once blank lines are dropped.")
@blp.refusals(422, skill_too_long="A skill longer than 120 characters once trimmed.")
def update_assignment(body: dict[str, Any], assignment_id: str) -> Any:
    """Change some settings of an assignment (staff); the settings left out stay as they are."""
    caller = current_user()
    assignment, _ = services.get_assignment_for(db.session, assignment_id, caller, (STAFF,), "change the assignment")
    services.update_assignment(db.session, assignment, body, caller.id)
    db.session.commit()
    return services.assignment_json(assignment, STAFF)


@blp.route("/courses/<course_id>/audit", methods=["GET"])
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditTrailSchema)
def audit_trail(query: dict[str, Any], course_id: str) -> Any:
    """The course's audit trail, newest first, filtered and a page at a time (staff)."""
    caller = current_user()
    services.get_course(db.session, course_id)
    require_role(course_id, caller, (STAFF,), "That course", "read the audit trail")
    filters = services.AuditFilters(query["actor"], query["action"], query["subject"], query["since"], query["until"])
    rows, next_cursor = services.audit_events(db.session, course_id, filters, query["limit"], query["cursor"])
    return {"events": [services.audit_event_json(event) for event, _ in rows], "next_cursor": next_cursor}

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app

from reviews.accounts.callers import current_user
from reviews.courses.access import MENTOR, STAFF, require_role
from reviews.courses.models import Course
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.kernel.errors import not_found
from reviews.kernel.schemas import String
from reviews.moderation import actions, services
from reviews.moderation.models import CLAIMED, OPEN, RESOLVED, STAFF_REVIEW, Case
from reviews.moderation.schemas import ACTIONS, CaseListSchema, CaseSchema

blp = Blueprint("moderation", __name__, url_prefix="/api", description="The escalation queue")


class CaseQuery(ma.Schema):
    status = String(load_default=OPEN, validate=ma.validate.OneOf((OPEN, CLAIMED, STAFF_REVIEW, RESOLVED, "all")))


class Resolve(ma.Schema):
    action = String(required=True, validate=ma.validate.OneOf(ACTIONS))
    note = String(load_default="", validate=ma.validate.Length(max=20_000))
    score = ma.fields.Float(load_default=None, allow_none=True, allow_nan=False)
    review_id = String(load_default=None, allow_none=True, validate=ma.validate.Length(max=64))


@blp.route("/courses/<course_id>/escalations", methods=["GET"])
@blp.arguments(CaseQuery, location="query")
@blp.response(200, CaseListSchema)
def list_cases(query: dict[str, Any], course_id: str) -> Any:
    """The course's cases, most urgent first (mentors, staff)."""
    caller = current_user()
    if db.session.get(Course, course_id) is None:
        raise not_found("That course")
    role = require_role(course_id, caller, (MENTOR, STAFF), "That course", "see the escalation queue")
    status = None if query["status"] == "all" else query["status"]
    return {"cases": [services.case_json(db.session, c, role, caller) for c in services.list_cases(db.session, course_id, status)]}


def _visible_case(case_id: str) -> tuple[Case, str]:
    return services.visible_case(db.session, case_id, current_user())


@blp.route("/escalations/<case_id>", methods=["GET"])
@blp.response(200, CaseSchema)
def get_case(case_id: str) -> Any:
    """A case (mentors, staff); the learner who opened it sees only its progress."""
    case, role = _visible_case(case_id)
    return services.case_json(db.session, case, role, current_user())


@blp.route("/escalations/<case_id>/claim", methods=["POST"])
@blp.response(200, CaseSchema)
@blp.refusals(409, already_claimed="Another mentor has claimed the case.", conflict="The case is resolved already.")
def claim_case(case_id: str) -> Any:
    """Claim a case to work on it (mentors, staff); 409 already_claimed if another mentor has it."""
    caller = current_user()
    case, role = _visible_case(case_id)
    require_role(case.course_id, caller, (MENTOR, STAFF), "That case", "claim cases")
    services.claim_case(db.session, case, caller)
    db.session.commit()
    return services.case_json(db.session, case, role, caller)


@blp.route("/escalations/<case_id>/resolve", methods=["POST"])
@blp.arguments(Resolve)
@blp.response(200, CaseSchema)
@blp.refusals(409, conflict="The case is resolved already.")
@blp.refusals(422, invalid_request="override_score or mark_plagiarism on a case that is not about one submission.")
@blp.refusals(422, invalid_request="override_score without a score, or with one outside 0 to the assignment's maximum total.")
@blp.refusals(422, invalid_request="discount_review when neither review_id nor the case's evidence names a review of its assignment.")
def resolve_case(body: dict[str, Any], case_id: str) -> Any:
    """Act on a claimed case (its claimant): dismiss, override_score, mark_plagiarism, discount_review, request_staff_review."""
    caller = current_user()
    case, role = _visible_case(case_id)
    require_role(case.course_id, caller, (MENTOR, STAFF), "That case", "resolve cases")
    actions.resolve(db.session, case, caller, body, current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"])
    db.session.commit()
    return services.case_json(db.session, case, role, caller)

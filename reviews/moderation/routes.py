from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import Response, current_app, g, request
from sqlalchemy.orm import Session

from reviews.accounts.callers import current_user
from reviews.accounts.models import User
from reviews.courses.access import MENTOR, STAFF, require_role
from reviews.courses.services import get_course
from reviews.kernel.api import Blueprint
from reviews.kernel.db import db
from reviews.kernel.schemas import String
from reviews.moderation import actions, evidence, leases, queue, rules, services
from reviews.moderation.models import Case
from reviews.moderation.schemas import ACTIONS, BulkResultSchema, CaseListSchema, CaseRefSchema, CaseSchema

blp = Blueprint("moderation", __name__, url_prefix="/api", description="The escalation queue")
# A change sent with If-Match naming another version of the case than the current one.
STALE = leases.STALE_VERSION + " (If-Match names another version; details.case is the case now.)"


class CaseQuery(ma.Schema):
    status = String(
        load_default=None,
        validate=ma.validate.OneOf(queue.STATUSES),
        metadata={"description": "open (the default), claimed, staff_review, resolved, unresolved or all; with mine: unresolved."},
    )
    kind = String(load_default=None, validate=ma.validate.Length(max=32))
    assignment_id = String(load_default=None, validate=ma.validate.Length(max=64))
    mine = ma.fields.Boolean(load_default=False, metadata={"description": "Only the cases the caller holds."})
    breached = ma.fields.Boolean(load_default=False, metadata={"description": "Only the cases past their target time."})
    limit = ma.fields.Integer(load_default=queue.DEFAULT_LIMIT, validate=ma.validate.Range(1, queue.MAX_LIMIT))
    cursor = String(load_default=None, validate=ma.validate.Length(max=400))


class Bulk(ma.Schema):
    action = String(required=True, validate=ma.validate.OneOf(queue.BULK_ACTIONS))
    case_ids = ma.fields.List(
        String(validate=ma.validate.Length(min=1, max=64)), required=True, validate=ma.validate.Length(min=1, max=queue.MAX_BULK)
    )
    note = String(load_default="", validate=ma.validate.Length(max=20_000))


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
    get_course(db.session, course_id)
    role = require_role(course_id, caller, (MENTOR, STAFF), "That course", "see the escalation queue")
    return queue.list_json(db.session, course_id, caller, role, query, current_app.config)


@blp.route("/courses/<course_id>/escalations/bulk", methods=["POST"])
@blp.arguments(Bulk)
@blp.response(200, BulkResultSchema)
@blp.refusals(422, invalid_request="dismiss without a note, or no case chosen.")
def bulk_cases(body: dict[str, Any], course_id: str) -> Any:
    """Claim or dismiss many cases at once (mentors, staff): one audit event per case; a case the caller may not
    act on is left as it was and listed under skipped with its error code and reason."""
    caller = current_user()
    get_course(db.session, course_id)
    role = require_role(course_id, caller, (MENTOR, STAFF), "That course", "handle cases")
    result = queue.bulk_act(db.session, course_id, caller, role, body["action"], body["case_ids"], body["note"])
    db.session.commit()
    return result.json()


def _visible_case(case_id: str) -> tuple[Case, str]:
    caller = current_user()
    case, role = services.visible_case(db.session, case_id, caller)
    g.fairpeer_case = case  # its answer carries the case's ETag (_case_etag)
    if request.method != "GET":  # a change sent with If-Match is held against the case's version
        leases.require_version(case, request.headers.get("If-Match"), lambda: services.case_json(db.session, case, role, caller))
    return case, role


@blp.after_request
def _case_etag(response: Response) -> Response:
    case = g.pop("fairpeer_case", None)
    if case is not None and response.status_code == 200:  # an answer that is the case itself
        response.headers["ETag"] = leases.etag(case)
    return response


@blp.route("/escalations/<case_id>", methods=["GET"])
@blp.response(200, CaseSchema)
def get_case(case_id: str) -> Any:
    """A case (mentors, staff: with its evidence in ``details``); the learner who opened it sees only its progress."""
    case, role = _visible_case(case_id)
    answer = services.case_json(db.session, case, role, current_user())
    return answer | {"details": evidence.case_details(db.session, case, role)} if role in (MENTOR, STAFF) else answer


@blp.route("/escalations/<case_id>/claim", methods=["POST"])
@blp.response(200, CaseSchema)
@blp.refusals(409, already_claimed="Another mentor has claimed the case.", conflict="The case is resolved already.")
@blp.refusals(409, conflict=STALE)
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
@blp.refusals(409, conflict=STALE)
@blp.refusals(409, lease_expired="The caller's claim ran out: claim the case again.")
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


class CaseMessage(ma.Schema):
    message = String(required=True, validate=ma.validate.Length(max=20_000))


class Reopen(ma.Schema):
    note = String(load_default="", validate=ma.validate.Length(max=20_000))


MESSAGE_REJECTED = "The message is blank, only punctuation, filler, one word repeated or too few real words (details.reasons)."


@blp.route("/escalations/<case_id>/reopen", methods=["POST"])
@blp.arguments(Reopen)
@blp.response(200, CaseSchema)
@blp.refusals(403, forbidden="The caller is not staff of the case's course.")
@blp.refusals(409, not_decided="The case is not decided yet.", conflict=STALE)
def reopen_case(body: dict[str, Any], case_id: str) -> Any:
    """Staff reopen a decided case (audited); work it marked as plagiarism counts again and stops blocking attempts."""
    caller = current_user()
    case, role = _visible_case(case_id)
    require_role(case.course_id, caller, (STAFF,), "That case", "reopen cases")
    actions.reopen(db.session, case, caller, body["note"], current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"])
    db.session.commit()
    return services.case_json(db.session, case, role, caller)


@blp.route("/escalations/<case_id>/responses", methods=["POST"])
@blp.arguments(CaseMessage)
@blp.response(201, CaseRefSchema)
@blp.refusals(403, forbidden="The caller is not the author of the work the case is about.")
@blp.refusals(409, case_resolved="The case is decided already (contest the decision instead).", conflict=STALE)
@blp.refusals(422, message_rejected=MESSAGE_REJECTED)
def respond_to_case(body: dict[str, Any], case_id: str) -> Any:
    """The author of the work a case is about answers it; mentors and staff read the answer on the case."""
    caller = current_user()
    case, _role = _visible_case(case_id)
    rules.respond(db.session, case, caller, body["message"])
    db.session.commit()
    return {"case_id": case.id}


@blp.route("/escalations/<case_id>/contest", methods=["POST"])
@blp.arguments(CaseMessage)
@blp.response(201, CaseRefSchema)
@blp.refusals(403, forbidden="The caller is neither the learner who opened the case nor the author of the work it is about.")
@blp.refusals(
    409,
    not_decided="The case has no mentor's decision yet.",
    already_contested="The decision was contested already (details.case_id).",
    contest_window_closed="The decision is older than CONTEST_WINDOW_DAYS (details.deadline).",
    decision_final="The case settled a contest; its decision is final.",
    conflict=STALE,
)
@blp.refusals(422, message_rejected=MESSAGE_REJECTED)
def contest_case(body: dict[str, Any], case_id: str) -> Any:
    """The learner contests a mentor's decision once, within the window: opens a contested_decision case that a
    different mentor or staff decide, finally."""
    caller = current_user()
    case, _role = _visible_case(case_id)
    opened = actions.contest(db.session, case, caller, body["message"], rules.contest_window_days())
    db.session.commit()
    return {"case_id": opened.id}


def _lease_step(case_id: str, roles: tuple[str, ...], action: str, step: Callable[[Session, Case, User], object]) -> Any:
    """A renew, release or takeover: the case for a caller whose role may ``action``, then ``step``, committed."""
    caller = current_user()
    case, role = _visible_case(case_id)
    require_role(case.course_id, caller, roles, "That case", action)
    step(db.session, case, caller)
    db.session.commit()
    return services.case_json(db.session, case, role, caller)


@blp.route("/escalations/<case_id>/renew", methods=["POST"])
@blp.response(200, CaseSchema)
@blp.refusals(403, forbidden="The caller does not hold the claim on this case.")
@blp.refusals(409, lease_expired="The claim ran out already: claim the case again.", conflict="The case is resolved or waiting for staff.")
@blp.refusals(409, conflict=STALE)
def renew_claim(case_id: str) -> Any:
    """The holder extends their claim by the course's lease length (case_lease_hours) from now."""
    return _lease_step(case_id, (MENTOR, STAFF), "hold cases", leases.renew)


@blp.route("/escalations/<case_id>/release", methods=["POST"])
@blp.response(200, CaseSchema)
@blp.refusals(403, forbidden="The caller does not hold the claim on this case.")
@blp.refusals(409, conflict="The case is resolved or waiting for staff.")
@blp.refusals(409, conflict=STALE)
def release_claim(case_id: str) -> Any:
    """The holder gives the case back to the queue (status open, nobody holds it)."""
    return _lease_step(case_id, (MENTOR, STAFF), "hold cases", leases.release)


@blp.route("/escalations/<case_id>/takeover", methods=["POST"])
@blp.response(200, CaseSchema)
@blp.refusals(403, forbidden="The caller is not staff of the case's course (mentors claim open cases instead).")
@blp.refusals(409, conflict="The case is resolved already.")
@blp.refusals(409, conflict=STALE)
def take_over_case(case_id: str) -> Any:
    """Staff (and admins) take the case from whoever holds it, with a fresh claim of their own."""
    return _lease_step(case_id, (STAFF,), "take cases over", leases.take_over)

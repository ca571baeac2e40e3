"""Reviewing from the assignment page: claim an item, send its review, report it."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from reviews.accounts.callers import signed_in
from reviews.allocation import services as allocation
from reviews.courses.access import LEARNER, require_in_scope, require_role
from reviews.courses.services import get_assignment
from reviews.kernel.db import db
from reviews.kernel.ratelimit import claim_limit, limiter
from reviews.moderation import services as moderation
from reviews.moderation.schemas import REPORT_KINDS
from reviews.submissions.pages import assignment_url
from reviews.web import act, back_to, check_csrf, feature_pages

bp = feature_pages("allocation", __name__)


@bp.route("/assignments/<assignment_id>/claim", methods=["POST"])
@limiter.limit(claim_limit)
def claim(assignment_id: str) -> Any:
    check_csrf()
    user = signed_in()
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, user, (LEARNER,), "That assignment", "claim reviews")
    lease, extra = current_app.config["CLAIM_LEASE_MINUTES"], current_app.config["OVER_REVIEW_EXTRA"]
    return act(
        lambda: allocation.claim_next_review(db.session, assignment.id, user, lease, extra), assignment_url(assignment.id, anchor="claim")
    )


@bp.route("/review-claims/<claim_id>/review", methods=["POST"])
def review(claim_id: str) -> Any:
    check_csrf()
    user = signed_in()
    claim, assignment, submission = allocation.claim_for_review(db.session, claim_id, user.id)
    require_in_scope(assignment.course_id, user, "That claim")
    body: dict[str, Any] = {"scores": {}, "comments": {}, "overall_comment": request.form.get("overall_comment", "")}
    for criterion in assignment.criteria:
        raw = request.form.get(f"score_{criterion['key']}", "")
        try:
            body["scores"][criterion["key"]] = float(raw)
        except ValueError:
            return back_to(assignment_url(assignment.id), f"Give a number of points for {criterion['title']}.", "error")
        comment = request.form.get(f"comment_{criterion['key']}", "").strip()
        if comment:
            body["comments"][criterion["key"]] = comment
    debounce = current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"]
    return act(
        lambda: allocation.submit_review(db.session, claim, assignment, submission, body, debounce),
        assignment_url(assignment.id),
        "Review sent. Thank you.",
    )


@bp.route("/review-claims/<claim_id>/report", methods=["POST"])
def report_claim(claim_id: str) -> Any:
    check_csrf()
    user = signed_in()
    claim = allocation.own_claim(db.session, claim_id, user.id)
    require_in_scope(get_assignment(db.session, claim.assignment_id).course_id, user, "That claim")
    kind = request.form.get("kind", "other")
    if kind not in REPORT_KINDS:
        kind = "other"
    moderation.report_claimed_item(db.session, claim, user, kind, request.form.get("message", "")[:20_000])
    db.session.commit()
    return back_to(assignment_url(claim.assignment_id), "Thank you: a mentor will look at your report.")

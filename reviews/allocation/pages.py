"""Reviewing from the assignment page: claim an item, send its review, report it (each through the form kernel:
errors beside their fields, the typed text kept, a redirect back to the page)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from reviews.accounts.callers import signed_in
from reviews.allocation import services as allocation
from reviews.courses.access import LEARNER, require_in_scope, require_role
from reviews.courses.services import get_assignment
from reviews.kernel.db import db
from reviews.kernel.errors import DomainError
from reviews.kernel.ratelimit import claim_limit, limiter
from reviews.moderation import services as moderation
from reviews.moderation.schemas import REPORT_KINDS
from reviews.submissions.pages import assignment_url
from reviews.web import check_csrf, feature_pages
from reviews.web.forms import keep_form, submit_form

bp = feature_pages("allocation", __name__)

# The forms of the assignment page that post here (reviews/submissions/templates/submissions/assignment.html).
CLAIM_FORM, REVIEW_FORM, REPORT_FORM = "claim", "review", "report"
REVIEW_KEPT = "Your review was not sent: some comments need rewriting (see beside each). What you wrote is kept below."


@bp.route("/assignments/<assignment_id>/claim", methods=["POST"])
@limiter.limit(claim_limit)
def claim(assignment_id: str) -> Any:
    check_csrf()
    user = signed_in()
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, user, (LEARNER,), "That assignment", "claim reviews")
    lease, extra = current_app.config["CLAIM_LEASE_MINUTES"], current_app.config["OVER_REVIEW_EXTRA"]
    return submit_form(
        CLAIM_FORM,
        assignment_url(assignment.id),
        lambda: allocation.claim_next_review(db.session, assignment.id, user, lease, extra),
        after=lambda: assignment_url(assignment.id, anchor="claim"),
    )


def _review_body(criteria: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The review as the API takes it, from the form's fields (named like the API's: ``scores.<key>``,
    ``comments.<key>``, ``overall_comment``), and the sentences for points that are not a number."""
    body: dict[str, Any] = {"scores": {}, "comments": {}, "overall_comment": request.form.get("overall_comment", "")}
    problems: dict[str, list[str]] = {}
    for criterion in criteria:
        name, raw = f"scores.{criterion['key']}", request.form.get(f"scores.{criterion['key']}", "").strip()
        try:
            body["scores"][criterion["key"]] = float(raw)
        except ValueError:
            problems[name] = [f"Give {criterion['title']} a number of points from 0 to {criterion['max_points']}."]
        comment = request.form.get(f"comments.{criterion['key']}", "").strip()
        if comment:
            body["comments"][criterion["key"]] = comment
    return body, problems


@bp.route("/review-claims/<claim_id>/review", methods=["POST"])
def review(claim_id: str) -> Any:
    check_csrf()
    user = signed_in()
    claim, assignment, submission = allocation.claim_for_review(db.session, claim_id, user.id)
    require_in_scope(assignment.course_id, user, "That claim")
    back = assignment_url(assignment.id)
    body, problems = _review_body(assignment.criteria)
    if problems:
        return keep_form(REVIEW_FORM, back, problems)
    debounce = current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"]

    def work() -> None:
        try:
            allocation.submit_review(db.session, claim, assignment, submission, body, debounce)
        except allocation.ReviewRejected as exc:
            # Each reason beside its comment box; the summary says that what was typed is kept.
            raise DomainError(exc.code, REVIEW_KEPT, {"fields": exc.details["fields"]}) from exc

    return submit_form(REVIEW_FORM, back, work, "Review sent. Thank you.")


@bp.route("/review-claims/<claim_id>/report", methods=["POST"])
def report_claim(claim_id: str) -> Any:
    check_csrf()
    user = signed_in()
    claim = allocation.own_claim(db.session, claim_id, user.id)
    require_in_scope(get_assignment(db.session, claim.assignment_id).course_id, user, "That claim")
    back = assignment_url(claim.assignment_id)
    kind = request.form.get("kind", "")
    if kind not in REPORT_KINDS:
        return keep_form(REPORT_FORM, back, {"kind": ["Choose what is wrong with this work."]})
    message = request.form.get("message", "")[:20_000]
    return submit_form(
        REPORT_FORM,
        back,
        lambda: moderation.report_claimed_item(db.session, claim, user, kind, message),
        "Thank you: a mentor will look at your report.",
        refusal_field="message",
    )

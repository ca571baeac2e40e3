"""The escalation queue and a case's page for mentors and staff; the learner who opened a case follows its
progress on the same page; appeals from the assignment page."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from reviews.accounts.callers import signed_in
from reviews.allocation.models import Review
from reviews.courses.access import LEARNER, MENTOR, STAFF, require_role
from reviews.courses.models import Assignment, Course
from reviews.kernel.db import db
from reviews.kernel.errors import forbidden, not_found
from reviews.moderation import actions as case_actions
from reviews.moderation import services as moderation
from reviews.moderation.models import OPEN
from reviews.moderation.schemas import ACTIONS, KIND_WORDS
from reviews.scoring.services import review_shares, score_json
from reviews.submissions import services as submissions
from reviews.submissions.files import file_json
from reviews.submissions.models import Submission
from reviews.submissions.pages import assignment_url
from reviews.web import check_csrf, feature_pages
from reviews.web.forms import keep_form, submit_form

bp = feature_pages("moderation", __name__)


@bp.app_template_filter("case_kind")
def case_kind(kind: str) -> str:
    return KIND_WORDS.get(kind, kind.replace("_", " "))


def _case_url(case_id: str) -> str:
    return url_for("moderation_pages.case", case_id=case_id)


@bp.route("/courses/<course_id>/escalations")
def escalations(course_id: str) -> Any:
    user = signed_in()
    course = db.session.get(Course, course_id)
    if course is None:
        raise not_found("That course")
    require_role(course.id, user, (MENTOR, STAFF), "That course", "see the escalation queue")
    status = request.args.get("status", OPEN)
    cases = moderation.list_cases(db.session, course.id, None if status == "all" else status)
    return render_template("moderation/escalations.html", course=course, cases=cases)


@bp.route("/escalations/<case_id>")
def case(case_id: str) -> Any:
    user = signed_in()
    row, role = moderation.visible_case(db.session, case_id, user)
    view = moderation.case_json(db.session, row, role, user)
    if role == LEARNER:
        return render_template("moderation/case_progress.html", case=view)
    left = right = None
    left_title = right_title = ""
    ids = [i for i in row.subject_ids if isinstance(i, str)]
    if row.subject_type == "submission" and ids:
        texts = [db.session.get(Submission, i) for i in ids[:2]]
        if texts and texts[0] is not None:
            left, left_title = texts[0].text, "Submission" if len(texts) == 1 else "Earlier submission"
        if len(texts) > 1 and texts[1] is not None:
            right, right_title = texts[1].text, "Later submission"
    reviews: list[Review] = []
    files: list[dict[str, Any]] = []
    score = criteria = None
    max_total = None
    if row.submission_id:
        reviews = list(db.session.scalars(select(Review).where(Review.submission_id == row.submission_id).order_by(Review.created_at)))
        subject = db.session.get_one(Submission, row.submission_id)
        assignment = db.session.get_one(Assignment, subject.assignment_id)
        # The mentor decides with the current score and its scale in view (an override is a total on that scale).
        score = score_json(db.session, assignment, subject, for_author=False)
        criteria, max_total = assignment.criteria, assignment.max_total
        files = [file_json(f) for f in submissions.files_of(db.session, subject.id)]
    return render_template(
        "moderation/case.html",
        case=view,
        course_id=row.course_id,
        left=left,
        right=right,
        left_title=left_title,
        right_title=right_title,
        reviews=reviews,
        shares=review_shares(reviews),
        actions=ACTIONS,
        score=score,
        criteria=criteria,
        max_total=max_total,
        files=files,
    )


def _case_for_handler(case_id: str) -> tuple[Any, Any]:
    """The case for a mentor or staff member who may act on it (the API's rule: visible, and that role)."""
    user = signed_in()
    row, _role = moderation.visible_case(db.session, case_id, user)
    require_role(row.course_id, user, (MENTOR, STAFF), "That case", "handle cases")
    return row, user


@bp.route("/escalations/<case_id>/claim", methods=["POST"])
def claim_case(case_id: str) -> Any:
    check_csrf()
    row, user = _case_for_handler(case_id)
    return submit_form("claim", _case_url(row.id), lambda: moderation.claim_case(db.session, row, user), "You claimed this case.")


@bp.route("/escalations/<case_id>/resolve", methods=["POST"])
def resolve_case(case_id: str) -> Any:
    check_csrf()
    row, user = _case_for_handler(case_id)
    back = _case_url(row.id)
    body: dict[str, Any] = {"action": request.form.get("action", ""), "note": request.form.get("note", "")[:20_000]}
    if body["action"] not in ACTIONS:
        return keep_form("resolve", back, {"action": ["Choose one of the actions."]})
    if request.form.get("score"):
        try:
            body["score"] = float(request.form["score"])
        except ValueError:
            return keep_form("resolve", back, {"score": ["The score must be a number, for example 7.5."]})
    if request.form.get("review_id"):
        body["review_id"] = request.form["review_id"].strip()
    debounce = current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"]
    return submit_form("resolve", back, lambda: case_actions.resolve(db.session, row, user, body, debounce), "Case updated.")


@bp.route("/submissions/<submission_id>/appeal", methods=["POST"])
def appeal(submission_id: str) -> Response:
    """The author appeals a review they received (the API's rule for reports on a submission, by its author)."""
    check_csrf()
    user = signed_in()
    own, role = submissions.get_visible_submission(db.session, submission_id, user)
    if role != LEARNER:
        raise forbidden("Only the author of this submission may appeal its reviews.")
    message, review_id = request.form.get("message", "")[:20_000], request.form.get("review_id") or None
    return submit_form(
        "appeal",
        assignment_url(own.assignment_id),
        lambda: moderation.report_submission(db.session, own, user, LEARNER, "unfair_review", message, review_id),
        "Your appeal was sent to a mentor.",
        refusal_field="message",
    )

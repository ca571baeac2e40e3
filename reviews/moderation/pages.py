"""The escalation queue and a case's page for mentors and staff; the learner who opened a case follows its
progress on the same page; appeals from the assignment page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from reviews.accounts.callers import signed_in
from reviews.allocation.models import Review
from reviews.courses.access import LEARNER, MENTOR, STAFF, require_role
from reviews.courses.models import Assignment
from reviews.courses.services import get_course
from reviews.kernel.db import db
from reviews.kernel.errors import forbidden
from reviews.moderation import actions as case_actions
from reviews.moderation import evidence, learner_forms, leases, queue, queue_pages, rules
from reviews.moderation import services as moderation
from reviews.moderation.schemas import ACTIONS, KIND_WORDS
from reviews.scoring.services import review_shares, score_json
from reviews.submissions import services as submissions
from reviews.submissions.files import file_json
from reviews.submissions.models import Submission
from reviews.submissions.pages import assignment_url
from reviews.web import check_csrf, feature_pages
from reviews.web.forms import keep_form, safe_back, submit_form

bp = feature_pages("moderation", __name__)


@bp.app_template_filter("lease_end")
def lease_end(iso: str | None) -> str:
    return leases.lease_in_words(iso)


@bp.app_template_filter("case_kind")
def case_kind(kind: str) -> str:
    return KIND_WORDS.get(kind, kind.replace("_", " "))


def _case_url(case_id: str) -> str:
    return url_for("moderation_pages.case", case_id=case_id)


@bp.route("/courses/<course_id>/escalations")
def escalations(course_id: str) -> Any:
    user = signed_in()
    course = get_course(db.session, course_id)
    role = require_role(course.id, user, (MENTOR, STAFF), "That course", "see the escalation queue")
    return render_template(
        "moderation/escalations.html", course=course, role=role, **queue_pages.page_view(db.session, course.id, user, request.args)
    )


@bp.route("/courses/<course_id>/escalations/bulk", methods=["POST"])
def bulk_cases(course_id: str) -> Any:
    """Claim or dismiss the ticked cases (the API's bulk rule); what was skipped is said, case by case."""
    check_csrf()
    user = signed_in()
    get_course(db.session, course_id)
    role = require_role(course_id, user, (MENTOR, STAFF), "That course", "handle cases")
    back = safe_back(request.form.get("back"), url_for("moderation_pages.escalations", course_id=course_id))
    ids, action, note = (
        request.form.getlist("case_id")[: queue.MAX_BULK],
        request.form.get("action", ""),
        request.form.get("note", "")[:20_000],
    )
    done: list[queue.BulkResult] = []
    work = lambda: done.append(queue.bulk_act(db.session, course_id, user, role, action, ids, note))  # noqa: E731
    return submit_form("bulk", back, work, refusal_field="case_id", after=lambda: queue_pages.say_bulk(done[0], action))


@bp.route("/escalations/<case_id>")
def case(case_id: str) -> Any:
    user = signed_in()
    row, role = moderation.visible_case(db.session, case_id, user)
    view = moderation.case_json(db.session, row, role, user)
    if role == LEARNER:
        return render_template("moderation/case_progress.html", case=view, version=row.version)
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
        viewer_role=role,
        course_id=row.course_id,
        details=evidence.case_details(db.session, row, role),
        segments=evidence.segments,
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
    work = _if_match(row, user, lambda: moderation.claim_case(db.session, row, user))
    return submit_form("claim", _case_url(row.id), work, "You claimed this case.")


def _if_match(row: Any, user: Any, work: Callable[[], object], role: str | None = None) -> Callable[[], object]:
    """The form's hidden ``if_match`` (the version the page showed) is held against the case inside the form's
    transaction: a stale page is refused with its form kept (the API's If-Match rule)."""

    def checked() -> object:
        leases.require_version(row, request.form.get("if_match"), lambda: moderation.case_json(db.session, row, role, user))
        return work()

    return checked


LEASE_CHANGES = {
    "renew": (leases.renew, "Your claim was renewed."),
    "release": (leases.release, "You gave the case back to the queue."),
    "takeover": (leases.take_over, "You took this case over."),
}


@bp.route("/escalations/<case_id>/renew", methods=["POST"], defaults={"lease_action": "renew"})
@bp.route("/escalations/<case_id>/release", methods=["POST"], defaults={"lease_action": "release"})
@bp.route("/escalations/<case_id>/takeover", methods=["POST"], defaults={"lease_action": "takeover"})
def change_claim(case_id: str, lease_action: str) -> Any:
    """Renew or release the caller's claim, or (staff) take the case over: the API's rules (moderation.leases)."""
    check_csrf()
    row, user = _case_for_handler(case_id)
    act, done = LEASE_CHANGES[lease_action]
    return submit_form(lease_action, _case_url(row.id), _if_match(row, user, lambda: act(db.session, row, user)), done)


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
    return submit_form(
        "resolve", back, _if_match(row, user, lambda: case_actions.resolve(db.session, row, user, body, debounce)), "Case updated."
    )


@bp.route("/escalations/<case_id>/reopen", methods=["POST"])
def reopen_case(case_id: str) -> Response:
    """Staff reopen a decided case (the API's rule: actions.reopen); work it marked as plagiarism counts again."""
    check_csrf()
    user = signed_in()
    row, role = moderation.visible_case(db.session, case_id, user)
    require_role(row.course_id, user, (STAFF,), "That case", "reopen cases")
    note, debounce = request.form.get("note", "")[:20_000], current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"]
    reopen = _if_match(row, user, lambda: case_actions.reopen(db.session, row, user, note, debounce), role)
    return submit_form("reopen", _case_url(row.id), reopen, "The case is open again and back in the queue.")


@bp.route("/escalations/<case_id>/responses", methods=["POST"])
def respond(case_id: str) -> Response:
    """The author of the work a case is about answers it (the API's rule: rules.respond)."""
    check_csrf()
    user = signed_in()
    row, role = moderation.visible_case(db.session, case_id, user)
    if role != LEARNER:  # mentors and staff have no answer form: said at once, not kept for a page that shows none
        raise forbidden("Only the author of the work this case is about can answer it.")
    message = request.form.get("message", "")[:20_000]
    return submit_form(
        "respond",
        _case_url(row.id),
        _if_match(row, user, lambda: rules.respond(db.session, row, user, message), role),
        "Your answer was added to the case.",
        refusal_field="message",
    )


@bp.route("/escalations/<case_id>/contest", methods=["POST"])
def contest(case_id: str) -> Response:
    """The learner contests the decision once (the API's rule: rules.contest); the contest's page comes next."""
    check_csrf()
    user = signed_in()
    row, role = moderation.visible_case(db.session, case_id, user)
    if role != LEARNER:
        raise forbidden("Only the learner who opened this case, or the author of the work it is about, can contest its decision.")
    message = request.form.get("message", "")[:20_000]
    opened: list[str] = []

    def work() -> None:
        opened.append(case_actions.contest(db.session, row, user, message, rules.contest_window_days()).id)

    return submit_form(
        "contest",
        _case_url(row.id),
        _if_match(row, user, work, role),
        "Your contest was sent; a different mentor or staff member will decide.",
        refusal_field="message",
        after=lambda: _case_url(opened[-1]) if opened else None,
    )


STILL_OPEN = "You appealed this already: that appeal is still open, under Your reports and appeals."


@bp.route("/submissions/<submission_id>/appeal", methods=["POST"])
def appeal(submission_id: str) -> Response:
    """The author appeals a review they received (the API's rule for reports on a submission, by its author)."""
    check_csrf()
    user = signed_in()
    own, role = submissions.get_visible_submission(db.session, submission_id, user)
    if role != LEARNER:
        raise forbidden("Only the author of this submission may appeal its reviews.")
    message = request.form.get("message", "")[:20_000]
    review_id, criterion_key = learner_forms.appeal_target(request.form)
    # A second appeal of the same review or criterion is the open one: say so instead of "sent".
    already = (review_id or criterion_key) and rules.open_appeal(db.session, own, user, review_id, criterion_key) is not None
    return submit_form(
        "appeal",
        assignment_url(own.assignment_id),
        learner_forms.beside_choice(
            lambda: moderation.report_submission(db.session, own, user, LEARNER, "unfair_review", message, review_id, criterion_key)
        ),
        STILL_OPEN if already else "Your appeal was sent to a mentor.",
        refusal_field="message",
    )

"""Server-rendered pages over the same services as the API, signed in through a sign-in link."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from reviews.accounts.models import User
from reviews.accounts.services import redeem_sign_in_link
from reviews.allocation import services as allocation
from reviews.allocation.models import Review, ReviewClaim
from reviews.courses.models import Assignment, Course, Membership
from reviews.courses.services import get_assignment
from reviews.kernel.auth import LEARNER, MENTOR, STAFF, current_user_or_none, require_member, require_role, role_in
from reviews.kernel.db import db, utcnow
from reviews.kernel.errors import ApiError, not_found
from reviews.kernel.ratelimit import limiter, sign_in_limit
from reviews.moderation import actions as case_actions
from reviews.moderation import services as moderation
from reviews.moderation.models import OPEN, Case
from reviews.moderation.schemas import ACTIONS, REPORT_KINDS
from reviews.pages.render import check_csrf, csrf_token
from reviews.records.services import record_json
from reviews.scoring.models import Score
from reviews.scoring.services import is_released, score_json
from reviews.submissions import services as submissions
from reviews.submissions.models import Submission

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "user": current_user_or_none() if request else None}


def _signed_in() -> User:
    user = current_user_or_none()
    if user is None:
        raise ApiError(401, "unauthenticated", "Sign in through the sign-in link you were given.")
    return user


def _back(assignment_id: str, message: str, category: str = "ok") -> Response:
    flash(message, category)
    return redirect(url_for("pages.assignment", assignment_id=assignment_id))


@bp.route("/sign-in/<secret>")
@limiter.limit(sign_in_limit)
def sign_in(secret: str) -> Any:
    user = redeem_sign_in_link(db.session, secret)
    if user is None:
        db.session.rollback()
        return render_template("error.html", status=400, message="This sign-in link is used or expired. Ask for a new one."), 400
    db.session.commit()
    session.clear()
    session["user_id"] = user.id
    return redirect(url_for("pages.home"))


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Any:
    check_csrf()
    session.clear()
    return redirect(url_for("pages.home"))


@bp.route("/")
def home() -> Any:
    user = current_user_or_none()
    if user is None:
        return render_template("signed_out.html")
    rows = db.session.execute(
        select(Course, Membership.role)
        .join(Membership, Membership.course_id == Course.id)
        .where(Membership.user_id == user.id)
        .order_by(Course.title)
    ).all()
    courses = []
    for course, role in rows:
        entry: dict[str, Any] = {"course": course, "role": role, "assignments": []}
        for assignment in db.session.scalars(select(Assignment).where(Assignment.course_id == course.id).order_by(Assignment.created_at)):
            entry["assignments"].append({"assignment": assignment, "next_step": _next_step(assignment, user, role)})
        if role in (MENTOR, STAFF):
            entry["open_cases"] = db.session.scalar(select(func.count(Case.id)).where(Case.course_id == course.id, Case.status == OPEN))
        courses.append(entry)
    return render_template("home.html", courses=courses)


def _next_step(assignment: Assignment, user: User, role: str) -> str:
    if role != LEARNER:
        return "Manage" if role == STAFF else "Mentor"
    progress = submissions.progress_json(db.session, assignment, user.id)
    if progress["submission"] is None:
        return "Submit your work"
    if progress["reviews_owed"]:
        return f"Review {progress['reviews_owed']} more"
    return "Read your reviews" if progress["score"] and progress["score"].get("released") else "Wait for your score"


@bp.route("/assignments/<assignment_id>")
def assignment(assignment_id: str) -> Any:
    user = _signed_in()
    return _assignment_page(get_assignment(db.session, assignment_id), user)


def _assignment_page(item: Assignment, user: User, draft: str | None = None, status: int = 200) -> Any:
    """The assignment page; ``draft`` refills the answer box after a rejected submission so no work is lost."""
    role = require_member(item.course_id, user, "That assignment")
    context: dict[str, Any] = {"assignment": item, "role": role, "report_kinds": REPORT_KINDS, "draft": draft}
    if role == LEARNER:
        progress = submissions.progress_json(db.session, item, user.id)
        claim = allocation.live_claim(db.session, item.id, user.id, utcnow())
        claim_view = None
        if claim is not None:
            shown = db.session.get_one(Submission, claim.submission_id)
            claim_view = {
                "claim_id": claim.id,
                "expires_at": claim.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
                "item": {"text": shown.text, "files": [submissions.file_json(f) for f in submissions.files_of(db.session, shown.id)]},
            }
        received: dict[str, Any] = {"released": False, "reviews": []}
        own_view = None
        if progress["submission"]:
            own = db.session.get_one(Submission, progress["submission"]["id"])
            # The learner sees what they handed in, so an accepted attempt is never mistaken for a lost one.
            own_view = {
                "attempt": own.attempt,
                "status": own.status,
                "text": own.text,
                "cancelled_reason": own.cancelled_reason,
                "files": [submissions.file_json(f) for f in submissions.files_of(db.session, own.id)],
            }
            if is_released(db.session, item, own, db.session.get(Score, own.id)):
                reviews = db.session.scalars(select(Review).where(Review.submission_id == own.id).order_by(Review.created_at))
                received = {"released": True, "reviews": list(reviews)}
        attempts_left = None if item.max_attempts is None else max(0, item.max_attempts - progress["attempts"])
        context.update(progress=progress, claim=claim_view, received=received, own=own_view, attempts_left=attempts_left)
    return render_template("assignment.html", **context), status


@bp.route("/assignments/<assignment_id>/submit", methods=["POST"])
def submit(assignment_id: str) -> Any:
    check_csrf()
    user = _signed_in()
    item = get_assignment(db.session, assignment_id)
    require_role(item.course_id, user, (LEARNER,), "That assignment", "submit work")
    uploads = [submissions.Upload(f.filename or "file", f.mimetype or "", f.read()) for f in request.files.getlist("files") if f.filename]
    text = request.form.get("text", "")
    try:
        done = submissions.submit(
            db.session,
            item,
            user,
            text,
            uploads,
            max_files=current_app.config["MAX_FILES"],
            max_bytes=current_app.config["MAX_FILE_BYTES"],
            debounce_seconds=current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"],
        )
        db.session.commit()
    except ApiError as exc:
        db.session.rollback()
        for message in [r["message"] for r in exc.details.get("reasons", [])] or [exc.message]:
            flash(message, "error")
        # Answer on the spot, not with a redirect: the learner's text stays in the box to be fixed.
        return _assignment_page(item, user, draft=text, status=exc.status)
    return _back(item.id, f"Attempt {done.attempt} submitted.")


@bp.route("/assignments/<assignment_id>/claim", methods=["POST"])
@limiter.limit(lambda: str(current_app.config["RATE_LIMIT_CLAIM"]))
def claim(assignment_id: str) -> Any:
    check_csrf()
    user = _signed_in()
    item = get_assignment(db.session, assignment_id)
    require_role(item.course_id, user, (LEARNER,), "That assignment", "claim reviews")
    try:
        allocation.claim_next_review(
            db.session, item.id, user, current_app.config["CLAIM_LEASE_MINUTES"], current_app.config["OVER_REVIEW_EXTRA"]
        )
        db.session.commit()
    except ApiError as exc:
        db.session.rollback()
        return _back(item.id, exc.message, "error")
    return redirect(url_for("pages.assignment", assignment_id=item.id, _anchor="claim"))


def _own_claim(claim_id: str, user: User) -> ReviewClaim:
    claim_row = db.session.get(ReviewClaim, claim_id)
    if claim_row is None or claim_row.reviewer_id != user.id:
        raise not_found("That claim")
    return claim_row


@bp.route("/review-claims/<claim_id>/review", methods=["POST"])
def review(claim_id: str) -> Any:
    check_csrf()
    user = _signed_in()
    claim_row, item, submission = allocation.claim_for_review(db.session, claim_id, user.id)
    body: dict[str, Any] = {"scores": {}, "comments": {}, "overall_comment": request.form.get("overall_comment", "")}
    for criterion in item.criteria:
        raw = request.form.get(f"score_{criterion['key']}", "")
        try:
            body["scores"][criterion["key"]] = float(raw)
        except ValueError:
            return _back(item.id, f"Give a number of points for {criterion['title']}.", "error")
        comment = request.form.get(f"comment_{criterion['key']}", "").strip()
        if comment:
            body["comments"][criterion["key"]] = comment
    try:
        allocation.submit_review(db.session, claim_row, item, submission, body, current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"])
        db.session.commit()
    except ApiError as exc:
        db.session.rollback()
        return _back(item.id, exc.message, "error")
    return _back(item.id, "Review sent. Thank you.")


@bp.route("/review-claims/<claim_id>/report", methods=["POST"])
def report_claim(claim_id: str) -> Any:
    check_csrf()
    user = _signed_in()
    claim_row = _own_claim(claim_id, user)
    kind = request.form.get("kind", "other")
    if kind not in REPORT_KINDS:
        kind = "other"
    moderation.report_claimed_item(db.session, claim_row, user, kind, request.form.get("message", "")[:20_000])
    db.session.commit()
    return _back(claim_row.assignment_id, "Thank you: a mentor will look at your report.")


@bp.route("/submissions/<submission_id>/appeal", methods=["POST"])
def appeal(submission_id: str) -> Any:
    check_csrf()
    user = _signed_in()
    own = db.session.get(Submission, submission_id)
    if own is None or own.author_id != user.id:
        raise not_found("That submission")
    item = get_assignment(db.session, own.assignment_id)
    try:
        moderation.report_submission(
            db.session, own, user, LEARNER, "unfair_review", request.form.get("message", "")[:20_000], request.form.get("review_id") or None
        )
        db.session.commit()
    except ApiError as exc:
        db.session.rollback()
        return _back(item.id, exc.message, "error")
    return _back(item.id, "Your appeal was sent to a mentor.")


@bp.route("/courses/<course_id>/escalations")
def escalations(course_id: str) -> Any:
    user = _signed_in()
    course = db.session.get(Course, course_id)
    if course is None:
        raise not_found("That course")
    require_role(course.id, user, (MENTOR, STAFF), "That course", "see the escalation queue")
    status = request.args.get("status", OPEN)
    cases = moderation.list_cases(db.session, course.id, None if status == "all" else status)
    return render_template("escalations.html", course=course, cases=cases)


def _case_for_mentor(case_id: str, user: User) -> Case:
    row = db.session.get(Case, case_id)
    if row is None or role_in(row.course_id, user) not in (MENTOR, STAFF):
        raise not_found("That case")
    return row


@bp.route("/escalations/<case_id>")
def case(case_id: str) -> Any:
    user = _signed_in()
    row = _case_for_mentor(case_id, user)
    view = moderation.case_json(db.session, row, role_in(row.course_id, user), user)
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
        item = db.session.get_one(Assignment, subject.assignment_id)
        # The mentor decides with the current score and its scale in view (an override is a total on that scale).
        score = score_json(db.session, item, subject, for_author=False)
        criteria, max_total = item.criteria, item.max_total
        files = [submissions.file_json(f) for f in submissions.files_of(db.session, subject.id)]
    return render_template(
        "case.html",
        case=view,
        course_id=row.course_id,
        left=left,
        right=right,
        left_title=left_title,
        right_title=right_title,
        reviews=reviews,
        actions=ACTIONS,
        score=score,
        criteria=criteria,
        max_total=max_total,
        files=files,
    )


@bp.route("/escalations/<case_id>/claim", methods=["POST"])
def claim_case(case_id: str) -> Any:
    check_csrf()
    user = _signed_in()
    row = _case_for_mentor(case_id, user)
    try:
        moderation.claim_case(db.session, row, user)
        db.session.commit()
        flash("You claimed this case.", "ok")
    except ApiError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("pages.case", case_id=row.id))


@bp.route("/escalations/<case_id>/resolve", methods=["POST"])
def resolve_case(case_id: str) -> Any:
    check_csrf()
    user = _signed_in()
    row = _case_for_mentor(case_id, user)
    body: dict[str, Any] = {"action": request.form.get("action", ""), "note": request.form.get("note", "")[:20_000]}
    if body["action"] not in ACTIONS:
        flash("Choose one of the actions.", "error")
        return redirect(url_for("pages.case", case_id=row.id))
    if request.form.get("score"):
        try:
            body["score"] = float(request.form["score"])
        except ValueError:
            flash("The score must be a number.", "error")
            return redirect(url_for("pages.case", case_id=row.id))
    if request.form.get("review_id"):
        body["review_id"] = request.form["review_id"].strip()
    try:
        case_actions.resolve(db.session, row, user, body, current_app.config["RECALIBRATE_DEBOUNCE_SECONDS"])
        db.session.commit()
        flash("Case updated.", "ok")
    except ApiError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("pages.case", case_id=row.id))


@bp.route("/files/<file_id>")
def submission_file(file_id: str) -> Any:
    """A submission's file for a signed-in browser (the API's /api/files takes bearer tokens, not the page session).

    The same rule as the API: mentors and staff of the course, the author, and a learner it was shown to by a claim.
    """
    return submissions.file_download(submissions.get_visible_file(db.session, file_id, _signed_in()))


@bp.route("/records/<course_id>/<user_id>")
def record(course_id: str, user_id: str) -> Any:
    from reviews.records.routes import visible_record

    _signed_in()
    course, learner, own = visible_record(course_id, user_id)
    return render_template("record.html", record=record_json(db.session, course, learner, for_learner=own))

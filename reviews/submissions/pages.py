"""The assignment page (what the learner handed in, their score explained, the review they hold, the reviews they
received, their reports and appeals), submitting from it, and a submission's files for a signed-in browser."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, render_template, request, url_for

from reviews.accounts.callers import signed_in
from reviews.accounts.models import User
from reviews.allocation import services as allocation
from reviews.courses.access import LEARNER, require_member, require_role
from reviews.courses.models import Assignment
from reviews.courses.services import get_assignment
from reviews.kernel.db import db, utcnow
from reviews.kernel.errors import DomainError
from reviews.moderation.schemas import REPORT_KINDS
from reviews.records.progress import (
    is_released_score,
    progress_json,
    received_reviews,
    reports_made,
    reviews_counted,
)
from reviews.scoring import helpfulness
from reviews.scoring import services as scoring
from reviews.submissions import services as submissions
from reviews.submissions.files import file_download, file_json
from reviews.submissions.models import Submission
from reviews.submissions.routes import submit_attempt
from reviews.training import services as training
from reviews.web import check_csrf, feature_pages
from reviews.web.forms import keep_form, submit_form

bp = feature_pages("submissions", __name__)

SUBMIT_FORM = "submit"
# Refusals of an attempt that are about its files go beside the file field; the others beside the answer.
FILE_REASONS = frozenset({"too_many_files", "file_empty", "file_type", "file_no_text", "file_too_complex"})


def assignment_url(assignment_id: str, anchor: str | None = None) -> str:
    return url_for("submissions_pages.assignment", assignment_id=assignment_id, _anchor=anchor)


@bp.route("/assignments/<assignment_id>")
def assignment(assignment_id: str) -> Any:
    user = signed_in()
    assignment = get_assignment(db.session, assignment_id)
    role = require_member(assignment.course_id, user, "That assignment")
    context: dict[str, Any] = {"assignment": assignment, "role": role, "report_kinds": REPORT_KINDS}
    if role == LEARNER:
        context.update(_learner_view(assignment, user))
    return render_template("submissions/assignment.html", **context)


def _files(submission_id: str) -> list[dict[str, Any]]:
    return [file_json(f) for f in submissions.files_of(db.session, submission_id)]


def _learner_view(assignment: Assignment, user: User) -> dict[str, Any]:
    """What the learner's page shows: progress, their latest attempt, the score that counts explained, the reviews
    behind it labelled, what is still owed before release, and every report or appeal they made."""
    session = db.session
    progress = progress_json(session, assignment, user.id)
    claim = allocation.live_claim(session, assignment.id, user.id, utcnow())
    claim_view = None
    if claim is not None:
        shown = session.get_one(Submission, claim.submission_id)
        # A staff sample is served exactly like peer work: nothing here may tell them apart.
        claim_view = {
            "claim_id": claim.id,
            "expires_at": claim.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            "item": {"text": shown.text, "files": _files(shown.id)},
        }
    own_view = None
    received: list[dict[str, Any]] = []
    previous_reviews: list[dict[str, Any]] = []
    owed = None
    score, previous = progress["score"], progress["previous_score"]
    released = is_released_score(score)
    if progress["submission"]:
        own = session.get_one(Submission, progress["submission"]["id"])
        # The learner sees what they handed in, so an accepted attempt is never mistaken for a lost one.
        own_view = {
            "id": own.id,
            "attempt": own.attempt,
            "status": own.status,
            "text": own.text,
            "cancelled_reason": own.cancelled_reason,
            "files": _files(own.id),
        }
        if released:
            received = received_reviews(session, assignment, own)
        else:
            owed = {
                "reviews_to_give": progress["reviews_owed"],
                "reviews_received": reviews_counted(session, own.id),
                "reviews_required": assignment.reviews_required,
            }
        if previous is not None and not released:
            # Until the new attempt is released, the last released one stays in view with its reviews (read-only).
            previous_reviews = received_reviews(session, assignment, session.get_one(Submission, previous["submission_id"]))
        else:
            previous = None
    labels = {r["id"]: r["label"] for r in received}
    labels.update({r["id"]: f"{r['label']} of attempt {previous['attempt']}" for r in previous_reviews} if previous else {})
    attempts_left = None if assignment.max_attempts is None else max(0, assignment.max_attempts - progress["attempts"])
    return {
        "progress": progress,
        "claim": claim_view,
        "own": own_view,
        "released": released,
        "score": score if released else None,
        "previous": previous,
        "received": received,
        "previous_reviews": previous_reviews,
        "owed": owed,
        "reports": reports_made(session, assignment.id, user.id, labels),
        "attempts_left": attempts_left,
        # The author's own ratings of the reviews they received, and (as a reviewer) the aggregate of theirs.
        "ratings": {
            rid: {"rating": r.rating, "note": r.note} for rid, r in helpfulness.ratings_of(session, [r["id"] for r in received]).items()
        },
        "rating_words": helpfulness.RATING_WORDS,
        "helpfulness": helpfulness.own_helpfulness(session, assignment.id, user.id) if progress["reviews_given"] else None,
        # Their reviewing grade, in words, once their score is released (reviews/scoring/reviewing.py).
        "reviewing": scoring.own_reviewing(session, assignment, user.id) if progress["reviews_given"] else None,
        # Before live reviews, the training the assignment asks for (None when it asks for none).
        "training": training.training_status(session, assignment, user.id) if assignment.training_samples > 0 else None,
        "max_files": current_app.config["MAX_FILES"],
        "max_file_bytes": current_app.config["MAX_FILE_BYTES"],
    }


def _by_field(exc: DomainError) -> DomainError:
    """A refused attempt's sentences beside the field they concern: the files' beside the file field, the rest
    beside the answer; the summary says that nothing was counted."""
    if exc.code == "file_too_large":
        return DomainError(exc.code, "Your work was not sent: a file is too large.", {"fields": {"files": [exc.message]}})
    reasons = [r for r in exc.details.get("reasons", []) if isinstance(r, dict) and r.get("message")]
    if not reasons:
        return exc
    fields: dict[str, list[str]] = {}
    for reason in reasons:
        fields.setdefault("files" if reason.get("code") in FILE_REASONS else "text", []).append(str(reason["message"]))
    return DomainError(exc.code, "Your work was not accepted, and it did not use an attempt.", {"fields": fields})


@bp.route("/assignments/<assignment_id>/submit", methods=["POST"])
def submit(assignment_id: str) -> Any:
    check_csrf()
    user = signed_in()
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, user, (LEARNER,), "That assignment", "submit work")
    back = assignment_url(assignment.id)
    current = submissions.latest_submission(db.session, assignment.id, user.id)
    if current is not None and not request.form.get("confirm"):
        return keep_form(
            SUBMIT_FORM,
            back,
            {"confirm": [f"Tick the box to confirm that your new attempt replaces attempt {current.attempt}."]},
        )
    uploads = [submissions.Upload(f.filename or "file", f.mimetype or "", f.read()) for f in request.files.getlist("files") if f.filename]
    text = request.form.get("text", "")
    done: list[Submission] = []

    def work() -> None:
        try:
            done.append(submit_attempt(assignment, user, text, uploads))
        except DomainError as exc:
            raise _by_field(exc) from exc

    def said_done() -> None:
        flash(f"Attempt {done[-1].attempt} submitted.", "ok")  # the attempt's number is known only once it is stored

    return submit_form(SUBMIT_FORM, back, work, refusal_field="text", after=said_done)


@bp.route("/files/<file_id>")
def submission_file(file_id: str) -> Any:
    """A submission's file for a signed-in browser (the API's /api/files takes bearer tokens, not the page session).

    The same rule as the API: mentors and staff of the course, the author, and a learner it was shown to by a claim.
    """
    return file_download(submissions.get_visible_file(db.session, file_id, signed_in()))

"""The assignment page (what the learner handed in, the review they hold, the reviews they received), submitting
from it, and a submission's files for a signed-in browser."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request, url_for
from sqlalchemy import select

from reviews.accounts.callers import signed_in
from reviews.accounts.models import User
from reviews.allocation import services as allocation
from reviews.allocation.models import Review
from reviews.courses.access import LEARNER, require_member, require_role
from reviews.courses.models import Assignment
from reviews.courses.services import get_assignment
from reviews.kernel.db import db, utcnow
from reviews.kernel.errors import DomainError
from reviews.moderation.schemas import REPORT_KINDS
from reviews.records.progress import progress_json
from reviews.scoring.models import Score
from reviews.scoring.services import is_released
from reviews.submissions import services as submissions
from reviews.submissions.files import file_download, file_json
from reviews.submissions.models import Submission
from reviews.submissions.routes import submit_attempt
from reviews.web import back_to, check_csrf, feature_pages

bp = feature_pages("submissions", __name__)


def assignment_url(assignment_id: str, anchor: str | None = None) -> str:
    return url_for("submissions_pages.assignment", assignment_id=assignment_id, _anchor=anchor)


@bp.route("/assignments/<assignment_id>")
def assignment(assignment_id: str) -> Any:
    user = signed_in()
    return _assignment_page(get_assignment(db.session, assignment_id), user)


def _files(submission_id: str) -> list[dict[str, Any]]:
    return [file_json(f) for f in submissions.files_of(db.session, submission_id)]


def _assignment_page(assignment: Assignment, user: User, draft: str | None = None, status: int = 200) -> Any:
    """The assignment page; ``draft`` refills the answer box after a rejected submission so no work is lost."""
    role = require_member(assignment.course_id, user, "That assignment")
    context: dict[str, Any] = {"assignment": assignment, "role": role, "report_kinds": REPORT_KINDS, "draft": draft}
    if role == LEARNER:
        progress = progress_json(db.session, assignment, user.id)
        claim = allocation.live_claim(db.session, assignment.id, user.id, utcnow())
        claim_view = None
        if claim is not None:
            shown = db.session.get_one(Submission, claim.submission_id)
            claim_view = {
                "claim_id": claim.id,
                "expires_at": claim.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
                "item": {"text": shown.text, "files": _files(shown.id)},
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
                "files": _files(own.id),
            }
            if is_released(db.session, assignment, own, db.session.get(Score, own.id)):
                reviews = db.session.scalars(select(Review).where(Review.submission_id == own.id).order_by(Review.created_at))
                received = {"released": True, "reviews": list(reviews)}
        attempts_left = None if assignment.max_attempts is None else max(0, assignment.max_attempts - progress["attempts"])
        context.update(progress=progress, claim=claim_view, received=received, own=own_view, attempts_left=attempts_left)
    return render_template("submissions/assignment.html", **context), status


@bp.route("/assignments/<assignment_id>/submit", methods=["POST"])
def submit(assignment_id: str) -> Any:
    check_csrf()
    user = signed_in()
    assignment = get_assignment(db.session, assignment_id)
    require_role(assignment.course_id, user, (LEARNER,), "That assignment", "submit work")
    uploads = [submissions.Upload(f.filename or "file", f.mimetype or "", f.read()) for f in request.files.getlist("files") if f.filename]
    text = request.form.get("text", "")
    try:
        done = submit_attempt(assignment, user, text, uploads)
        db.session.commit()
    except DomainError as exc:
        for message in [r["message"] for r in exc.details.get("reasons", [])] or [exc.message]:
            flash(message, "error")
        # Answer on the spot, not with a redirect: the learner's text stays in the box to be fixed.
        return _assignment_page(assignment, user, draft=text, status=exc.status)
    return back_to(assignment_url(assignment.id), f"Attempt {done.attempt} submitted.")


@bp.route("/files/<file_id>")
def submission_file(file_id: str) -> Any:
    """A submission's file for a signed-in browser (the API's /api/files takes bearer tokens, not the page session).

    The same rule as the API: mentors and staff of the course, the author, and a learner it was shown to by a claim.
    """
    return file_download(submissions.get_visible_file(db.session, file_id, signed_in()))

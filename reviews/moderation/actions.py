"""What a mentor's decision does to scores, submissions and queues."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.allocation import services as allocation
from reviews.allocation.models import Review
from reviews.courses.models import Assignment
from reviews.kernel import audit
from reviews.kernel.errors import DomainError, invalid
from reviews.moderation import rules
from reviews.moderation.models import OPEN, STAFF_REVIEW, Case
from reviews.moderation.schemas import KIND_WORDS
from reviews.moderation.services import cases_awaiting_staff, finish, open_case, require_claimant
from reviews.notifications import moderation_hooks as tell
from reviews.scoring import services as scoring
from reviews.scoring.recalibration import request_recalibration
from reviews.submissions.models import ACTIVE, CANCELLED, Submission


def _submission_of(session: Session, case: Case) -> Submission:
    if case.submission_id is None:
        raise invalid(
            {"action": ["This case is not about one submission."]},
            "This action needs a case about a submission; use dismiss or discount_review.",
        )
    return session.get_one(Submission, case.submission_id)


def resolve(session: Session, case: Case, mentor: User, body: dict[str, Any], debounce_seconds: float = 0) -> Case:
    """Apply the mentor's action; every action is audited (finish) and reflected in scores and queues."""
    require_claimant(case, mentor)
    rules.require_may_act(session, case, mentor)
    action, note = body["action"], body.get("note") or ""
    if action == "dismiss":
        finish(session, case, mentor, action, note)
    elif action == "override_score":
        submission = _submission_of(session, case)
        assignment = session.get_one(Assignment, submission.assignment_id)
        value = body.get("score")
        if value is None:
            raise invalid({"score": ["Required for override_score."]}, "Give the new total score in 'score'.")
        if not 0 <= value <= assignment.max_total:
            raise invalid({"score": [f"Must be between 0 and {assignment.max_total:g}."]}, "The score must lie on the assignment's scale.")
        scoring.override_score(session, submission, float(value), note, mentor.id, case.course_id)
        finish(session, case, mentor, action, note, score=float(value))
    elif action == "mark_plagiarism":
        submission = _submission_of(session, case)
        submission.status = CANCELLED
        submission.cancelled_reason = "Marked as plagiarism by a mentor" + (f": {note}" if note else ".")
        allocation.withdraw_claims_on(session, submission.id)
        request_recalibration(session, submission.assignment_id, debounce_seconds, inputs_changed=True)
        finish(session, case, mentor, action, note, submission_id=submission.id)
    elif action == "discount_review":
        review_id = body.get("review_id") or case.evidence.get("review_id")
        review = session.get(Review, review_id) if review_id else None
        assignment_ids = {case.assignment_id}
        if review is None or review.assignment_id not in assignment_ids:
            raise invalid({"review_id": ["Name a review of this case's assignment."]}, "Give the review to discount in 'review_id'.")
        review.discounted = True
        review.weight = 0.0
        request_recalibration(session, review.assignment_id, debounce_seconds, inputs_changed=True)
        finish(session, case, mentor, action, note, review_id=review.id)
    elif action == "request_staff_review":
        case.status = STAFF_REVIEW
        case.outcome = None
        audit.record(session, case.course_id, mentor.id, "case.request_staff_review", f"case:{case.id}", note=note)
        tell.handed_to_staff(session, case, KIND_WORDS.get(case.kind, case.kind.replace("_", " ")).lower(), note)
    return case


def staff_grade_given(session: Session, submission: Submission, staff: User) -> None:
    """A staff grade settles every case that was waiting for one on this submission."""
    for case in cases_awaiting_staff(session, submission.id):
        case.claimed_by_id = staff.id
        finish(session, case, staff, "staff_grade", "Staff graded the submission.", submission_id=submission.id)


def reopen(session: Session, case: Case, staff: User, note: str, debounce_seconds: float = 0) -> Case:
    """Staff reopen a decided case: it goes back to the queue, and work it had marked as plagiarism counts again
    (held out of review queues while the case is open) and no longer blocks attempts."""
    rules.check_reopen(session, case, staff)
    earlier = case.outcome or {}
    evidence = dict(case.evidence or {})
    evidence["earlier_outcomes"] = [*evidence.get("earlier_outcomes", []), earlier]
    case.evidence = evidence
    if earlier.get("action") == rules.PLAGIARISM_ACTION and case.submission_id:
        submission = session.get_one(Submission, case.submission_id)
        if submission.status == CANCELLED:
            submission.status, submission.cancelled_reason = ACTIVE, None
            request_recalibration(session, submission.assignment_id, debounce_seconds, inputs_changed=True)
    case.status, case.outcome = OPEN, None
    case.claimed_by_id = case.claimed_at = case.lease_expires_at = case.resolved_at = None
    audit.record(session, case.course_id, staff.id, "case.reopened", f"case:{case.id}", note=note, earlier_action=earlier.get("action"))
    return case


def contest(session: Session, case: Case, learner: User, message: str, window_days: float) -> Case:
    """Open the one ``contested_decision`` case of a mentor's decision, for the learner it concerns (rules.check_contest);
    the unique link makes a second one at the same moment fail too."""
    rules.check_contest(session, case, learner, message, window_days)
    try:
        with session.begin_nested():
            new = open_case(
                session,
                course_id=case.course_id,
                assignment_id=case.assignment_id,
                kind=rules.CONTESTED,
                subject_type=case.subject_type,
                subject_ids=list(case.subject_ids),
                submission_id=case.submission_id,
                evidence=rules.contest_evidence(case, message),
                opened_by=learner,
                message=message,
            )
            new.contests_case_id, new.criterion_key = case.id, case.criterion_key
            session.flush()
    except IntegrityError:
        raise DomainError("already_contested", rules.ALREADY_CONTESTED) from None
    audit.record(session, case.course_id, learner.id, "case.contested", f"case:{case.id}", contest_case_id=new.id)
    return new

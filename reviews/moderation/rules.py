"""The rules of cases: who may act on one, what an appeal needs, plagiarism blocking attempts, authors' answers
and the one contest of a decision.

- One open appeal per review (or criterion) per learner: another appeal of it finds the open case instead.
- An appeal's, a response's and a contest's message passes the short-text gate (reviews/integrity/short_text.py).
- Nobody acts on a case they opened, or one about their own work or their own reviews; only staff settle a case
  waiting for staff; the decider of a case never decides the contest of it.
- Work marked as plagiarism blocks further attempts at its assignment until staff reopen the case.
- The author of the work a case is about sees a reduced view of it and may answer it.
- A learner may contest a mentor's decision once, within ``CONTEST_WINDOW_DAYS``; that contest's decision is final.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.allocation.models import Review
from reviews.courses.access import LEARNER, STAFF, role_in
from reviews.courses.models import Assignment
from reviews.integrity.short_text import check_short_text
from reviews.kernel import audit
from reviews.kernel.db import utcnow
from reviews.kernel.errors import DomainError, forbidden, invalid
from reviews.moderation.models import RESOLVED, STAFF_REVIEW, Case, CaseResponse
from reviews.submissions.models import Submission

APPEAL, CONTESTED = "unfair_review", "contested_decision"
PLAGIARISM_ACTION = "mark_plagiarism"

# What the author of the work is asked, by kind (the reduced view).
ASKED = {
    "plagiarism": "Someone reported that this work copies another's. Say in your own words how you wrote it.",
    "similarity": "Your work is very similar to another submission. Say in your own words how you wrote it.",
    "junk": "Your work was reported as not a real answer. Say what you meant to submit.",
    "abusive": "Your work was reported as abusive. Say what you meant.",
    "repeated_junk": "Several of your attempts were refused. Say what went wrong, if you want a mentor to know.",
}
ATTEMPTS_BLOCKED = (
    "Your work for this assignment was marked as plagiarism, so you cannot submit another attempt. Open the case "
    "from your assignment page and answer it; if staff reopen the case you can submit again."
)


def check_message(message: str | None, what: str = "message") -> None:
    """422 ``message_rejected`` with the gate's sentence unless the message says something in real words."""
    reasons = check_short_text(message, what)
    if reasons:
        raise DomainError(
            "message_rejected",
            reasons[0].message,
            {"fields": {"message": [r.message for r in reasons]}, "reasons": [{"code": r.code, "message": r.message} for r in reasons]},
        )


# --- appeals ------------------------------------------------------------------------------------------------


def check_appeal(session: Session, submission: Submission, review_id: str | None, criterion_key: str | None, message: str) -> None:
    """An appeal names one review of the work or one criterion of its rubric, and says why in real words."""
    if review_id is None and not criterion_key:
        raise invalid(
            {"review_id": ["Choose the review you disagree with, or the criterion."]},
            "Say which review or which criterion your appeal is about.",
        )
    if criterion_key:
        assignment = session.get_one(Assignment, submission.assignment_id)
        keys = [c["key"] for c in assignment.criteria]
        if criterion_key not in keys:
            raise invalid(
                {"criterion_key": [f"Not a criterion of this assignment; choose one of: {', '.join(keys)}."]},
                "The criterion your appeal names is not one of this assignment's.",
            )
    check_message(message)


def open_appeal(session: Session, submission: Submission, reporter: User, review_id: str | None, criterion_key: str | None) -> Case | None:
    """The reporter's open appeal of this review (or criterion) of this work, if there is one."""
    rows = session.scalars(
        select(Case).where(
            Case.submission_id == submission.id,
            Case.opened_by_id == reporter.id,
            Case.kind == APPEAL,
            Case.status != RESOLVED,
        )
    )
    for case in rows:
        if review_id is not None and case.evidence.get("review_id") == review_id:
            return case
        if review_id is None and criterion_key and case.criterion_key == criterion_key and not case.evidence.get("review_id"):
            return case
    return None


# --- who may act -------------------------------------------------------------------------------------------


def own_stake(session: Session, case: Case, user_id: str) -> str | None:
    """Why ``user_id`` may not act on the case (a sentence), or None: they opened it, it is about their own work,
    their own reviews, or themselves."""
    if case.opened_by_id == user_id:
        return "You opened this case, so another mentor or staff member must handle it."
    ids = [i for i in (case.subject_ids or []) if isinstance(i, str)]
    if case.subject_type in ("learner", "reviewer") and user_id in ids:
        return "This case is about you, so another mentor or staff member must handle it."
    work = {case.submission_id} if case.submission_id else set()
    if case.subject_type in ("submission", "cluster"):
        work.update(ids)
    if work and session.scalar(select(Submission.id).where(Submission.id.in_(work), Submission.author_id == user_id).limit(1)):
        return "This case is about your own work, so another mentor or staff member must handle it."
    review_id = case.evidence.get("review_id") if isinstance(case.evidence, dict) else None
    if review_id and session.scalar(select(Review.id).where(Review.id == review_id, Review.reviewer_id == user_id)):
        return "This case is about a review you wrote, so another mentor or staff member must handle it."
    if case.kind == CONTESTED and case.contests_case_id:
        first = session.get(Case, case.contests_case_id)
        decider = (first.outcome or {}).get("by") if first is not None else None
        if decider == user_id:
            return "You decided the case this one contests; a different mentor or staff member must decide the contest."
    return None


def require_may_act(session: Session, case: Case, actor: User) -> None:
    """403 with a sentence unless ``actor`` may claim or settle this case (the API, the pages and bulk actions)."""
    reason = own_stake(session, case, actor.id)
    if reason is not None:
        raise forbidden(reason)
    if case.status == STAFF_REVIEW and role_in(case.course_id, actor) != STAFF:
        raise forbidden("This case is waiting for staff; only a staff member can settle it.")


def decision_extra(case: Case) -> dict[str, Any]:
    """What a decision of this case says besides its action: a contest's decision is final."""
    return {"final": True} if case.kind == CONTESTED else {}


# --- plagiarism blocks attempts -------------------------------------------------------------------------------


def plagiarism_case(session: Session, assignment_id: str, author_id: str) -> Case | None:
    """The resolved case that marked this author's work in this assignment as plagiarism, if any."""
    rows = session.scalars(
        select(Case)
        .join(Submission, Submission.id == Case.submission_id)
        .where(Submission.assignment_id == assignment_id, Submission.author_id == author_id, Case.status == RESOLVED)
    )
    for case in rows:
        if (case.outcome or {}).get("action") == PLAGIARISM_ACTION:
            return case
    return None


def check_attempts_allowed(session: Session, assignment_id: str, author_id: str) -> None:
    """409 ``attempts_blocked`` while the author's work in this assignment stands marked as plagiarism."""
    case = plagiarism_case(session, assignment_id, author_id)
    if case is not None:
        raise DomainError("attempts_blocked", ATTEMPTS_BLOCKED, {"case_id": case.id})


def check_reopen(session: Session, case: Case, staff: User) -> None:
    """Only staff reopen, and only a decided case (actions.reopen does it)."""
    if role_in(case.course_id, staff) != STAFF:
        raise forbidden("Only staff can reopen a case.")
    if case.status != RESOLVED:
        raise DomainError("not_decided", "This case is not decided yet, so there is nothing to reopen.")


# --- the author's reduced view and answer --------------------------------------------------------------------


def is_author_of_subject(session: Session, case: Case, user_id: str) -> bool:
    if case.submission_id is None:
        return False
    return session.scalar(select(Submission.author_id).where(Submission.id == case.submission_id)) == user_id


def respond(session: Session, case: Case, author: User, message: str) -> CaseResponse:
    """The author of the work answers the case; mentors read it on the case."""
    if not is_author_of_subject(session, case, author.id):
        raise forbidden("Only the author of the work this case is about can answer it.")
    if case.status == RESOLVED:
        raise DomainError("case_resolved", "This case is decided already. To disagree with the outcome, contest the decision.")
    check_message(message)
    response = CaseResponse(case_id=case.id, author_id=author.id, message=message)
    session.add(response)
    session.flush()
    audit.record(session, case.course_id, author.id, "case.responded", f"case:{case.id}")
    return response


def responses_of(session: Session, case_id: str) -> list[CaseResponse]:
    return list(session.scalars(select(CaseResponse).where(CaseResponse.case_id == case_id).order_by(CaseResponse.created_at)))


# --- contest ------------------------------------------------------------------------------------------------


def contest_of(session: Session, case_id: str) -> Case | None:
    return session.scalar(select(Case).where(Case.contests_case_id == case_id))


def contest_deadline(case: Case, window_days: float) -> datetime | None:
    at = (case.outcome or {}).get("at")
    return datetime.fromisoformat(at) + timedelta(days=window_days) if at else None


ALREADY_CONTESTED = "You contested this decision already; a decision can be contested only once."


def check_contest(session: Session, case: Case, learner: User, message: str, window_days: float) -> None:
    """May this learner contest this decision now, with this message (actions.contest opens the case)?"""
    if role_in(case.course_id, learner) != LEARNER or (
        case.opened_by_id != learner.id and not is_author_of_subject(session, case, learner.id)
    ):
        raise forbidden("Only the learner who opened this case, or the author of the work it is about, can contest its decision.")
    if case.kind == CONTESTED:
        raise DomainError("decision_final", "This decision settled a contest and is final; it cannot be contested again.")
    if case.status != RESOLVED or not (case.outcome or {}).get("by"):
        raise DomainError("not_decided", "This case has no decision yet. Wait for its outcome before contesting it.")
    existing = contest_of(session, case.id)
    if existing is not None:
        raise DomainError("already_contested", ALREADY_CONTESTED, {"case_id": existing.id})
    deadline = contest_deadline(case, window_days)
    if deadline is not None and utcnow() > deadline:
        raise DomainError(
            "contest_window_closed",
            f"A decision can be contested within {window_days:g} days of it; this one was decided more than {window_days:g} days ago.",
            {"deadline": deadline.isoformat()},
        )
    check_message(message)


def contest_evidence(case: Case, message: str) -> dict[str, Any]:
    outcome = case.outcome or {}
    return {
        "contested_case_id": case.id,
        "contested_kind": case.kind,
        "contested_outcome": {k: outcome.get(k) for k in ("action", "note", "at", "by", "score", "review_id")},
        "review_id": case.evidence.get("review_id"),
        "message": message,
    }


# --- views ---------------------------------------------------------------------------------------------------


def learner_view(session: Session, case: Case, viewer: User, status: str, window_days: float) -> dict[str, Any]:
    """The reduced view: kind, status, what the viewer is asked, the outcome; never another learner's text nor
    any reviewer. The opener and the author of the work see the same shape."""
    outcome = case.outcome
    visible = None
    if outcome is not None:
        visible = {"action": outcome.get("action"), "note": outcome.get("note"), "at": outcome.get("at")}
        if outcome.get("final"):
            visible["final"] = True
    author = is_author_of_subject(session, case, viewer.id)
    contest_case = contest_of(session, case.id) if case.status == RESOLVED else None
    deadline = contest_deadline(case, window_days) if case.status == RESOLVED else None
    may_contest = (
        case.kind != CONTESTED
        and case.status == RESOLVED
        and bool((outcome or {}).get("by"))
        and contest_case is None
        and deadline is not None
        and utcnow() <= deadline
    )
    view: dict[str, Any] = {
        "id": case.id,
        "kind": case.kind,
        "status": status,
        "created_at": case.created_at.isoformat(),
        "outcome": visible,
    }
    # The rest only when it says something, so an opener's view of an open case stays the five fields above.
    if author and case.opened_by_id != viewer.id and case.status != RESOLVED and case.kind in ASKED:
        view["asked"] = ASKED[case.kind]
    own = [{"message": r.message, "at": r.created_at.isoformat()} for r in responses_of(session, case.id) if r.author_id == viewer.id]
    if own:
        view["responses"] = own
    if case.contests_case_id and case.opened_by_id == viewer.id:
        view["contests_case_id"] = case.contests_case_id
    if contest_case is not None:
        view["contest_case_id"] = contest_case.id
    if may_contest and deadline is not None:
        view["contest_until"] = deadline.isoformat()
    return view


def handler_extras(session: Session, case: Case) -> dict[str, Any]:
    """What mentors and staff read besides the case itself: the author's responses and the contest links."""
    contest_case = contest_of(session, case.id) if case.status == RESOLVED else None
    return {
        "criterion_key": case.criterion_key,
        "contests_case_id": case.contests_case_id,
        "contest_case_id": contest_case.id if contest_case is not None else None,
        "responses": [{"message": r.message, "at": r.created_at.isoformat(), "by": r.author_id} for r in responses_of(session, case.id)],
    }


def contest_window_days() -> float:
    """The contest window (setting CONTEST_WINDOW_DAYS; 7 days outside an application)."""
    from flask import current_app, has_app_context  # noqa: PLC0415 - the rules work outside an application too

    return float(current_app.config.get("CONTEST_WINDOW_DAYS", 7)) if has_app_context() else 7.0

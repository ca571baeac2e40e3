"""What the escalation queue tells people, in words: reports and appeals received, outcomes, changed scores,
cases handed on. No notification names a reviewer or says whether an item was a staff sample: the texts for a
report on a sample and on a peer's work are the same, and none carries a reviewer's name, id or review. Neither does
one carry the learner's text: mentors and staff open the case for it."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviews.allocation.models import Review
from reviews.courses.models import Assignment, Membership
from reviews.notifications.services import notify, notify_many
from reviews.submissions.models import LEARNER_WORK, Submission

STAFF = "staff"

# What a settled case's outcome means, as its reporter reads it (never a score: the reporter may not be the author).
OUTCOME_WORDS = {
    "dismiss": "A mentor looked into it and made no change.",
    "override_score": "A mentor changed the score of the work.",
    "mark_plagiarism": "A mentor marked the work as copied; it no longer counts.",
    "discount_review": "A mentor set the review aside; it no longer counts towards the score.",
    "staff_grade": "Staff graded the work themselves.",
}


class CaseLike(Protocol):
    id: str
    course_id: str
    assignment_id: str | None
    kind: str
    opened_by_id: str | None
    submission_id: str | None


def _case_link(case: CaseLike) -> str:
    return f"/escalations/{case.id}"


def _title(session: Session, assignment_id: str | None) -> str:
    assignment = session.get(Assignment, assignment_id) if assignment_id else None
    return f"“{assignment.title}”" if assignment is not None else "your course"


def _noted(note: str) -> str:
    return f"\n\nThe mentor's note: {note}" if note.strip() else ""


def case_received(session: Session, case: CaseLike, reporter_id: str, appeal: bool) -> None:
    """The learner who reported an item or appealed a review hears that it arrived."""
    what = "appeal" if appeal else "report"
    notify(
        session,
        reporter_id,
        "case_received",
        f"Your {what} was received",
        f"Your {what} about {_title(session, case.assignment_id)} reached the mentors. You will hear here what they decide.",
        _case_link(case),
    )


def case_settled(session: Session, case: CaseLike, actor_id: str, action: str, note: str, extra: dict[str, Any]) -> None:
    """The reporter hears the outcome with the mentor's note; the author of the work hears what changed for them."""
    title = _title(session, case.assignment_id)
    opener = case.opened_by_id
    if opener is not None and opener != actor_id:
        what = "appeal" if case.kind == "unfair_review" else "report"
        words = OUTCOME_WORDS.get(action, "A mentor settled it.")
        notify(session, opener, "case_outcome", f"The outcome of your {what}", f"About {title}: {words}{_noted(note)}", _case_link(case))
    submission_id = case.submission_id
    review = session.get(Review, extra["review_id"]) if action == "discount_review" and extra.get("review_id") else None
    if review is not None:
        submission_id = review.submission_id
    submission = session.get(Submission, submission_id) if submission_id else None
    if submission is None or submission.kind != LEARNER_WORK or submission.author_id in (actor_id, opener):
        return
    assignment = session.get_one(Assignment, submission.assignment_id)
    link = f"/assignments/{assignment.id}"
    if action == "mark_plagiarism":
        notify(
            session,
            submission.author_id,
            "work_marked_copied",
            "Your work was marked as copied",
            f"A mentor found that your work for {title} copies someone else's, so it no longer counts.{_noted(note)}\n\n"
            "If you think this is wrong, answer on the assignment's page or write to your course's staff.",
            link,
        )
    elif action in ("override_score", "discount_review", "staff_grade") and assignment.released_at is not None:
        why = {
            "override_score": "A mentor changed your released score after looking at the reviews.",
            "discount_review": "A mentor set one of the reviews of your work aside, so your score is worked out again without it.",
            "staff_grade": "Staff graded your work themselves.",
        }[action]
        notify(session, submission.author_id, "score_changed", "Your score changed", f"About {title}: {why}{_noted(note)}", link)


def case_needs_answer(session: Session, case: CaseLike, author_id: str, question: str) -> None:
    """The author of the work a case is about is asked to answer."""
    notify(
        session,
        author_id,
        "case_needs_answer",
        "A mentor needs your answer",
        f"About your work for {_title(session, case.assignment_id)}: {question}",
        _case_link(case),
    )


def handed_to_staff(session: Session, case: CaseLike, what: str, note: str, why: str | None = None) -> None:
    """A mentor asked staff to decide, or the case waited so long it went to staff by itself (``why``): every staff
    member of the course hears of it."""
    staff = list(session.scalars(select(Membership.user_id).where(Membership.course_id == case.course_id, Membership.role == STAFF)))
    title = _title(session, case.assignment_id)
    said = f"A case went to staff {why}: {what}, in {title}." if why else f"A mentor handed a case to staff: {what}, in {title}."
    notify_many(session, staff, "case_for_staff", "A case needs staff", f"{said}{_noted(note)}", _case_link(case))


def taken_over(session: Session, case: CaseLike, what: str, previous_holder_id: str | None, staff_id: str) -> None:
    """Staff took over a case someone else held: the one who held it hears that it is no longer theirs (what kind
    of case and where, never the learner's text)."""
    if previous_holder_id is None or previous_holder_id == staff_id:
        return
    notify(
        session,
        previous_holder_id,
        "case_taken_over",
        "Staff took over a case you held",
        f"A staff member took over a case you held: {what}, in {_title(session, case.assignment_id)}. "
        "It is theirs to settle now; you need do nothing more with it.",
        _case_link(case),
    )

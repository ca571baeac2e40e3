"""The escalation queue: cases opened by people and by the service, claimed and resolved by mentors."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.allocation.models import Review, ReviewClaim
from reviews.courses.access import LEARNER, MENTOR, STAFF, role_in
from reviews.courses.models import Assignment
from reviews.kernel import audit, metrics
from reviews.kernel.db import utcnow
from reviews.kernel.errors import DomainError, forbidden, invalid, not_found
from reviews.moderation import leases, ranking, rules
from reviews.moderation.models import OPEN, RESOLVED, STAFF_REVIEW, Case
from reviews.moderation.schemas import PRIORITY
from reviews.notifications import moderation_hooks as tell
from reviews.submissions.models import Submission


def holds(submission_id_column: Any) -> Any:
    """SQL condition: an open plagiarism or similarity case holds this submission out of every review queue."""
    return exists().where(
        Case.submission_id == submission_id_column,
        Case.kind.in_(("plagiarism", "similarity")),
        Case.status != RESOLVED,
    )


def existing_dedupe_keys(session: Session, dedupe_keys: Iterable[str]) -> set[str]:
    """Which of these dedupe keys already have a case, in one query."""
    wanted = list(dedupe_keys)
    if not wanted:
        return set()
    return set(session.scalars(select(Case.dedupe_key).where(Case.dedupe_key.in_(wanted))))


def open_case(
    session: Session,
    *,
    course_id: str,
    assignment_id: str | None,
    kind: str,
    subject_type: str,
    subject_ids: list[str],
    submission_id: str | None,
    evidence: dict[str, Any],
    opened_by: User | None = None,
    message: str = "",
    dedupe_key: str | None = None,
) -> Case:
    """Open a case; one the service opens itself carries ``dedupe_key`` and is opened at most once."""
    if dedupe_key is not None:
        existing = session.scalar(select(Case).where(Case.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    case = Case(
        course_id=course_id,
        assignment_id=assignment_id,
        kind=kind,
        priority=PRIORITY.get(kind, 30),
        status=OPEN,
        subject_type=subject_type,
        subject_ids=subject_ids,
        submission_id=submission_id,
        opened_by_id=opened_by.id if opened_by else None,
        evidence=evidence,
        outcome=None,
        dedupe_key=dedupe_key,
        message=message,
    )
    if dedupe_key is None:
        session.add(case)
        session.flush()
        metrics.case_opened(session, kind)
        return case
    # Two workers may find the same thing at once: the unique key lets exactly one case exist.
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError:
        return session.scalars(select(Case).where(Case.dedupe_key == dedupe_key)).one()
    metrics.case_opened(session, kind)
    return case


def unresolved_cases(session: Session) -> list[tuple[str, str, int, datetime]]:
    """(kind, status, how many, the oldest one's opening time) of the cases not yet resolved, for the metrics."""
    rows = session.execute(
        select(Case.kind, Case.status, func.count(Case.id), func.min(Case.created_at))
        .where(Case.status != RESOLVED)
        .group_by(Case.kind, Case.status)
    ).all()
    return [(kind, status, int(count), oldest) for kind, status, count, oldest in rows]


def report_claimed_item(session: Session, claim: ReviewClaim, reporter: User, kind: str, message: str) -> Case:
    assignment = session.get_one(Assignment, claim.assignment_id)
    case = open_case(
        session,
        course_id=assignment.course_id,
        assignment_id=assignment.id,
        kind=kind,
        subject_type="submission",
        subject_ids=[claim.submission_id],
        submission_id=claim.submission_id,
        evidence={"reported_by": reporter.id, "claim_id": claim.id, "message": message},
        opened_by=reporter,
        message=message,
    )
    ranking.weigh_by_reporter(session, case, reporter.id)
    audit.record(session, assignment.course_id, reporter.id, "case.reported", f"case:{case.id}", kind=kind)
    tell.case_received(session, case, reporter.id, appeal=False)
    return case


def report_submission(
    session: Session,
    submission: Submission,
    reporter: User,
    role: str,
    kind: str,
    message: str,
    review_id: str | None,
    criterion_key: str | None = None,
) -> Case:
    """An author's appeal, or a mentor's or staff member's report, about a submission or one of its reviews; a
    second appeal of the same review or criterion is the open one (rules.open_appeal)."""
    assignment = session.get_one(Assignment, submission.assignment_id)
    if kind == rules.APPEAL and role == LEARNER:
        rules.check_appeal(session, submission, review_id, criterion_key, message)
        if (already := rules.open_appeal(session, submission, reporter, review_id, criterion_key)) is not None:
            return already
    evidence: dict[str, Any] = {"reported_by": reporter.id, "message": message, "role": role}
    subject_type, subject_ids = "submission", [submission.id]
    if review_id is not None:
        review = session.get(Review, review_id)
        if review is None or review.submission_id != submission.id:
            raise invalid(
                {"review_id": ["Not a review of this submission."]}, "review_id must name one of the reviews this submission received."
            )
        evidence["review_id"] = review.id
        evidence["review"] = {"scores": review.scores, "comments": review.comments, "overall_comment": review.overall_comment}
    case = open_case(
        session,
        course_id=assignment.course_id,
        assignment_id=assignment.id,
        kind=kind,
        subject_type=subject_type,
        subject_ids=subject_ids,
        submission_id=submission.id,
        evidence=evidence,
        opened_by=reporter,
        message=message,
    )
    case.criterion_key = criterion_key
    ranking.weigh_by_reporter(session, case, reporter.id)
    audit.record(session, assignment.course_id, reporter.id, "case.reported", f"case:{case.id}", kind=kind, review_id=review_id)
    if role == LEARNER:
        tell.case_received(session, case, reporter.id, appeal=kind == "unfair_review")
    return case


def visible_case(session: Session, case_id: str, caller: User) -> tuple[Case, str]:
    """The case and the caller's role: mentors and staff of its course, and the learner who opened it (who sees
    only its progress). Anyone else: 404. The API and the pages both ask this."""
    case = session.get(Case, case_id)
    if case is None:
        raise not_found("That case")
    role = role_in(case.course_id, caller)
    if role in (MENTOR, STAFF):
        return case, role
    if role == LEARNER and (case.opened_by_id == caller.id or rules.is_author_of_subject(session, case, caller.id)):
        return case, LEARNER
    raise not_found("That case")


def claim_case(session: Session, case: Case, mentor: User) -> Case:
    if case.status == RESOLVED:
        raise DomainError("conflict", "This case is resolved already; there is nothing left to claim.")
    rules.require_may_act(session, case, mentor)
    if not leases.claimable_by(case, mentor):
        raise DomainError("already_claimed", "Another mentor claimed this case already. Pick another case from the queue.")
    if case.claimed_by_id == mentor.id and not leases.lease_expired(case):
        return case
    leases.take_lease(session, case, mentor)
    audit.record(session, case.course_id, mentor.id, "case.claimed", f"case:{case.id}", lease_expires_at=leases.lease_end(case))
    return case


def case_json(session: Session, case: Case, viewer_role: str | None, viewer: User) -> dict[str, Any]:
    if viewer_role == LEARNER or (viewer_role is None and case.opened_by_id == viewer.id):
        # The learner who opened it, or whose work it is about, follows its progress, never the evidence or who handles it.
        return rules.learner_view(session, case, viewer, leases.effective_status(case), rules.contest_window_days())
    return {**handler_fields(case), **rules.handler_extras(session, case)}


def handler_fields(case: Case) -> dict[str, Any]:
    """The case as mentors and staff see it, from its own row (the queue's rows and the case's answer)."""
    return {
        "id": case.id,
        "kind": case.kind,
        "priority": case.priority,
        "status": leases.effective_status(case),
        "subject": {"type": case.subject_type, "ids": list(case.subject_ids)},
        "submission_id": case.submission_id,
        "assignment_id": case.assignment_id,
        "created_at": case.created_at.isoformat(),
        "claimed_by": leases.effective_holder(case),
        "lease_expires_at": leases.lease_end(case),
        "version": case.version,
        "opened_by": case.opened_by_id,
        "message": case.message,
        "evidence": case.evidence,
        "outcome": case.outcome,
    }


def list_cases(session: Session, course_id: str, status: str | None) -> list[Case]:
    query = select(Case).where(Case.course_id == course_id)
    if status:
        query = query.where(leases.status_is(status))
    return list(session.scalars(query.order_by(Case.priority.desc(), Case.created_at, Case.id)))


def require_claimant(case: Case, mentor: User) -> None:
    if case.status == RESOLVED:
        raise DomainError("conflict", "This case is resolved already.")
    if case.claimed_by_id != mentor.id:
        raise forbidden("Claim this case before acting on it; only the mentor who claimed it may resolve it.")
    leases.require_live_lease(case, mentor)


def finish(session: Session, case: Case, actor: User, action: str, note: str, **extra: Any) -> None:
    case.status = RESOLVED
    extra = {**rules.decision_extra(case), **extra}
    case.outcome = {"action": action, "note": note, "at": utcnow().isoformat(), "by": actor.id, **extra}
    audit.record(session, case.course_id, actor.id, f"case.{action}", f"case:{case.id}", note=note, **extra)
    tell.case_settled(session, case, actor.id, action, note, extra)


def cases_awaiting_staff(session: Session, submission_id: str) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.submission_id == submission_id, Case.status == STAFF_REVIEW)))

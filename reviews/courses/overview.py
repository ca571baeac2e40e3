"""What staff see of a course at a glance: its members, and per assignment its phase and the numbers that matter.

Every number comes from one aggregate query per kind (GROUP BY assignment), so the course page makes as many
queries for 500 learners as for 10.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.allocation.models import Review
from reviews.courses.models import Assignment, Membership
from reviews.kernel.db import utcnow
from reviews.moderation.models import RESOLVED, Case
from reviews.moderation.queue import CaseNumbers, console_numbers, targets
from reviews.scoring.models import Score
from reviews.submissions.models import CANCELLED, LEARNER_WORK, SUPERSEDED, StaffGrade, Submission

OPEN_PHASE, REVIEWING, RELEASED = "open", "reviewing", "released"
PHASE_WORDS = {OPEN_PHASE: "Open for submissions", REVIEWING: "Reviewing", RELEASED: "Released"}


@dataclass(frozen=True)
class AssignmentNumbers:
    submissions: int = 0
    reviews_done: int = 0
    reviews_needed: int = 0
    open_cases: int = 0
    scores_released: int = 0


@dataclass(frozen=True)
class AssignmentOverview:
    assignment: Assignment
    phase: str
    numbers: AssignmentNumbers

    @property
    def phase_words(self) -> str:
        return PHASE_WORDS[self.phase]


def phase(assignment: Assignment, now: datetime | None = None) -> str:
    """Open until the submission deadline (always, without one), then reviewing until staff release the scores."""
    now = now or utcnow()
    if assignment.released_at is not None:
        return RELEASED
    if assignment.due_at is not None and now >= assignment.due_at:
        return REVIEWING
    return OPEN_PHASE


def members(session: Session, course_id: str) -> list[tuple[Membership, User]]:
    """The course's members with their accounts, staff first, then mentors, then learners, each by name."""
    order = case((Membership.role == "staff", 0), (Membership.role == "mentor", 1), else_=2)
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.course_id == course_id)
        .order_by(order, User.name, User.email)
    )
    return [(m, u) for m, u in rows.tuples()]


def assignments_overview(session: Session, course_id: str, now: datetime | None = None) -> list[AssignmentOverview]:
    """The course's assignments, oldest first, each with its phase and numbers, in three queries."""
    now = now or utcnow()
    assignments = list(
        session.scalars(select(Assignment).where(Assignment.course_id == course_id).order_by(Assignment.created_at, Assignment.id))
    )
    numbers = _submission_numbers(session, course_id, now)
    cases = dict(
        session.execute(
            select(Case.assignment_id, func.count(Case.id))
            .where(Case.course_id == course_id, Case.assignment_id.is_not(None), Case.status != RESOLVED)
            .group_by(Case.assignment_id)
        )
        .tuples()
        .all()
    )
    out = []
    for assignment in assignments:
        found = numbers.get(assignment.id, AssignmentNumbers())
        out.append(
            AssignmentOverview(
                assignment,
                phase(assignment, now),
                AssignmentNumbers(
                    found.submissions, found.reviews_done, found.reviews_needed, int(cases.get(assignment.id, 0)), found.scores_released
                ),
            )
        )
    return out


def _submission_numbers(session: Session, course_id: str, now: datetime) -> dict[str, AssignmentNumbers]:
    """Per assignment: learners' current submissions, their peer reviews done and needed, and the scores released.

    "Released" is the release rule of ``reviews.scoring.services`` (``_score_json`` and ``release_due``) written
    as SQL: a cancelled submission, a staff grade or a person's override counts as released; a computed score is
    released once staff released the assignment or its review deadline passed, or when it has its reviews and its
    author gave the reviews they owe.
    """
    given = (
        select(Review.assignment_id, Review.reviewer_id, func.count(Review.id).label("given"))
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(Assignment.course_id == course_id)
        .group_by(Review.assignment_id, Review.reviewer_id)
        .subquery()
    )
    graded = (
        select(StaffGrade.submission_id)
        .join(Submission, Submission.id == StaffGrade.submission_id)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(Assignment.course_id == course_id)
        .distinct()
        .subquery()
    )
    target = func.coalesce(Submission.reviews_target, Assignment.reviews_required)
    released = case(
        (Submission.status == CANCELLED, 1),
        (graded.c.submission_id.is_not(None), 1),
        (Score.override_value.is_not(None), 1),
        (Score.value.is_(None), 0),
        (Assignment.released_at.is_not(None), 1),
        (and_(Assignment.review_due_at.is_not(None), Assignment.review_due_at < now), 1),
        (
            and_(Score.reviews >= Assignment.reviews_required, func.coalesce(given.c.given, 0) >= Assignment.reviews_to_give),
            1,
        ),
        else_=0,
    )
    active = Submission.status != CANCELLED
    rows = session.execute(
        select(
            Submission.assignment_id,
            func.count(Submission.id),
            func.sum(case((active, case((Submission.reviews_done < target, Submission.reviews_done), else_=target)), else_=0)),
            func.sum(case((active, target), else_=0)),
            func.sum(released),
        )
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .outerjoin(Score, Score.submission_id == Submission.id)
        .outerjoin(graded, graded.c.submission_id == Submission.id)
        .outerjoin(given, and_(given.c.assignment_id == Submission.assignment_id, given.c.reviewer_id == Submission.author_id))
        .where(
            Assignment.course_id == course_id,
            Submission.kind == LEARNER_WORK,
            Submission.status != SUPERSEDED,
        )
        .group_by(Submission.assignment_id)
    ).all()
    return {
        assignment_id: AssignmentNumbers(int(count), int(done or 0), int(needed or 0), 0, int(released_count or 0))
        for assignment_id, count, done, needed, released_count in rows
    }


def case_numbers(session: Session, course_id: str, config: Mapping[str, Any]) -> CaseNumbers:
    """The escalation queue at a glance (reviews/moderation/queue.py): open cases by kind, median time to
    resolution, breaches, appeals per assignment; a constant number of queries."""
    return console_numbers(session, course_id, targets(config))

"""Staff-graded calibration samples as staff see them: the list, how reviewers scored each one, and correcting a
sample's staff scores while no reviewer has been served it yet.

Adding a sample is ``submissions.services.add_calibration_sample`` (a sample is stored as a submission, so that
reviewers are served it exactly like peer work); the API and the page both call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.allocation.models import Exposure, Review, ReviewClaim
from reviews.courses.models import Assignment
from reviews.courses.rubric import validate_scores
from reviews.kernel import audit
from reviews.kernel.errors import DomainError, not_found
from reviews.scoring.services import latest_staff_grades
from reviews.submissions.models import STAFF_SAMPLE, StaffGrade, StoredFile, Submission

SAMPLE_SERVED = (
    "This sample has already been shown to a reviewer, so its staff scores can no longer change: reviewers were "
    "judged against them. Add a new sample with the right scores instead."
)


@dataclass
class SampleReview:
    reviewer_id: str
    reviewer_name: str
    scores: dict[str, float]
    discounted: bool
    created_at: Any


@dataclass
class SampleView:
    sample: Submission
    staff_scores: dict[str, float]
    staff_total: float
    served: bool
    files: list[StoredFile] = field(default_factory=list)
    reviews: list[SampleReview] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.sample.id


def _served_condition(submission_id_column: Any) -> Any:
    """SQL: some reviewer was served this item (a claim of any outcome, or an exposure)."""
    return or_(
        exists().where(ReviewClaim.submission_id == submission_id_column),
        exists().where(Exposure.submission_id == submission_id_column),
    )


def list_samples(session: Session, assignment: Assignment) -> list[SampleView]:
    """Every sample of the assignment, oldest first, with its staff scores, files and the reviews it received.

    Five queries however many samples and reviews there are.
    """
    rows = session.execute(
        select(Submission, _served_condition(Submission.id).label("served"))
        .where(Submission.assignment_id == assignment.id, Submission.kind == STAFF_SAMPLE)
        .order_by(Submission.created_at, Submission.id)
    ).all()
    if not rows:
        return []
    ids = [sample.id for sample, _ in rows]
    grades = latest_staff_grades(session, ids)
    files: dict[str, list[StoredFile]] = {}
    for stored in session.scalars(
        select(StoredFile).where(StoredFile.submission_id.in_(ids)).order_by(StoredFile.created_at, StoredFile.id)
    ):
        files.setdefault(stored.submission_id, []).append(stored)
    reviews: dict[str, list[SampleReview]] = {}
    for review, name in session.execute(
        select(Review, User.name)
        .join(User, User.id == Review.reviewer_id)
        .where(Review.submission_id.in_(ids))
        .order_by(Review.created_at, Review.id)
    ):
        reviews.setdefault(review.submission_id, []).append(
            SampleReview(review.reviewer_id, name, {k: float(v) for k, v in review.scores.items()}, review.discounted, review.created_at)
        )
    out = []
    for sample, served in rows:
        grade = grades.get(sample.id)
        scores = {k: float(v) for k, v in (grade.scores if grade else {}).items()}
        out.append(
            SampleView(
                sample=sample,
                staff_scores=scores,
                staff_total=float(sum(scores.values())),
                served=bool(served),
                files=files.get(sample.id, []),
                reviews=reviews.get(sample.id, []),
            )
        )
    return out


def get_sample(session: Session, sample_id: str, *, for_update: bool = False) -> Submission:
    """A calibration sample by id; anything else (a learner's work, nothing) is 404."""
    query = select(Submission).where(Submission.id == sample_id, Submission.kind == STAFF_SAMPLE)
    if for_update:
        query = query.with_for_update()
    sample = session.scalar(query)
    if sample is None:
        raise not_found("That calibration sample")
    return sample


def sample_served(session: Session, sample_id: str) -> bool:
    return bool(session.scalar(select(_served_condition(sample_id))))


def correct_sample_scores(session: Session, assignment: Assignment, sample_id: str, scores: Any, actor: User) -> StaffGrade:
    """Replace a sample's staff scores, only while no reviewer has been served it (409 ``sample_served`` after).

    The sample's row is locked first: a claim takes its item by updating that row, so a claim and a correction of
    the same sample happen one after the other, and the check below sees a claim that committed meanwhile.
    A sample that no one reviewed weighs nothing in a calibration, so no recalibration is needed.
    """
    sample = get_sample(session, sample_id, for_update=True)
    if sample.assignment_id != assignment.id:
        raise not_found("That calibration sample")
    checked = validate_scores(assignment, scores)
    if sample_served(session, sample.id):
        raise DomainError("sample_served", SAMPLE_SERVED, {"sample_id": sample.id})
    previous = latest_staff_grades(session, [sample.id]).get(sample.id)
    grade = StaffGrade(submission_id=sample.id, grader_id=actor.id, scores=checked, note="calibration sample (corrected)")
    session.add(grade)
    session.flush()
    audit.record(
        session,
        assignment.course_id,
        actor.id,
        "calibration_sample.corrected",
        f"submission:{sample.id}",
        scores=checked,
        previous=previous.scores if previous else None,
    )
    return grade

"""Rating a review one received: the author's action (the rules are in reviews/scoring/helpfulness.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reviews.accounts.models import User
from reviews.allocation.models import Review
from reviews.courses.models import Assignment
from reviews.kernel import audit
from reviews.kernel.db import utcnow
from reviews.kernel.errors import DomainError, forbidden, not_found
from reviews.scoring.helpfulness import RatingInput
from reviews.scoring.models import HelpfulnessRating, Score
from reviews.scoring.services import is_released
from reviews.submissions.models import LEARNER_WORK, Submission


def rateable_review(session: Session, submission: Submission, review_id: str) -> Review:
    """The review of ``submission`` that its author may rate: one it received, once its score is released.
    Anything else, a staff sample's review included, does not exist for rating (404)."""
    review = session.get(Review, review_id)
    if review is None or review.submission_id != submission.id or submission.kind != LEARNER_WORK:
        raise not_found("That review")
    return review


def rate_review(session: Session, submission: Submission, review_id: str, rater: User, given: RatingInput) -> HelpfulnessRating:
    """Store the author's rating of one review their submission received (a new one replaces the last).

    Only the submission's author rates, and only learner work: a staff sample has no author to read its reviews.
    Before the score is released the author has not read the reviews: 409 ``not_released``."""
    if submission.kind != LEARNER_WORK or submission.author_id != rater.id:
        raise forbidden("Only the author of this work rates the reviews it received.")
    review = rateable_review(session, submission, review_id)
    assignment = session.get_one(Assignment, submission.assignment_id)
    if not is_released(session, assignment, submission, session.get(Score, submission.id)):
        raise DomainError(
            "not_released", "Your score is not released yet: rate the reviews once you can read them on your assignment page."
        )
    now = utcnow()
    rating = _current_rating(session, review.id)
    if rating is None:
        rating = HelpfulnessRating(
            review_id=review.id,
            assignment_id=review.assignment_id,
            submission_id=submission.id,
            reviewer_id=review.reviewer_id,
            rater_id=rater.id,
            rating=given.rating,
            note=given.note,
            updated_at=now,
        )
        try:
            with session.begin_nested():  # two first ratings at once: the second updates the first's row
                session.add(rating)
        except IntegrityError:
            rating = _current_rating(session, review.id)
            if rating is None:
                raise
    rating.rating, rating.note, rating.updated_at = given.rating, given.note, now
    session.flush()
    audit.record(
        session, assignment.course_id, rater.id, "review.rated", f"review:{review.id}", rating=given.rating, noted=bool(given.note)
    )
    return rating


def _current_rating(session: Session, review_id: str) -> HelpfulnessRating | None:
    return session.scalars(
        select(HelpfulnessRating).where(HelpfulnessRating.review_id == review_id).execution_options(populate_existing=True)
    ).one_or_none()

"""A learner's progress on one assignment: their latest attempt, reviews given and owed, their score, and the last
released score of an earlier attempt (kept in view until the newer attempt's score is released)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reviews.allocation.models import Review
from reviews.allocation.services import reviews_given
from reviews.courses.models import Assignment
from reviews.moderation.models import Case
from reviews.scoring.services import review_shares, score_json, scores_json
from reviews.submissions.models import LEARNER_WORK, Submission
from reviews.submissions.services import attempts_used, latest_submission


def copy_check_words(checked_against: int, *, upheld: bool) -> str:
    """What a record and a credential say of a project's copy check: ``checked_against`` is the number of other
    learners' submissions of the assignment it was compared with (the indexed ones)."""
    if upheld:
        return f"Checked for copying against {_submissions(checked_against)}: a case of copying was upheld."
    if checked_against == 0:
        return "No other submission to compare it with yet: no case of copying."
    return f"Checked for copying against {_submissions(checked_against)}: no case upheld."


def _submissions(n: int) -> str:
    return f"{n} submission{'s' if n != 1 else ''}"


def is_released_score(score: dict[str, Any] | None) -> bool:
    """A Score object that its author may read (released, with a value)."""
    return bool(score and score.get("released") and score.get("value") is not None)


def released_attempt(attempts: list[Submission], scores: dict[str, dict[str, Any] | None]) -> Submission | None:
    """The attempt a record and its credential show: the latest of ``attempts`` (one learner's, of one assignment)
    whose score in ``scores`` (score_json by submission id) is released; an attempt marked as copied counts (its
    score is a released 0). None when no attempt's score is released: a resubmission does not hide the released
    work until its own score is released."""
    released = [s for s in attempts if is_released_score(scores[s.id])]
    return max(released, key=lambda s: s.attempt) if released else None


def previous_score_json(
    session: Session, assignment: Assignment, author_id: str, before_attempt: int, *, for_author: bool
) -> dict[str, Any] | None:
    """The last released score of an attempt earlier than ``before_attempt``, with that attempt's number and id;
    None when no earlier attempt has a released score. Four queries at most, however many attempts there were."""
    if before_attempt <= 1:
        return None
    earlier = list(
        session.scalars(
            select(Submission)
            .where(
                Submission.assignment_id == assignment.id,
                Submission.author_id == author_id,
                Submission.kind == LEARNER_WORK,
                Submission.attempt < before_attempt,
            )
            .order_by(Submission.attempt.desc())
        )
    )
    if not earlier:
        return None
    scores = scores_json(session, assignment, earlier, for_author=for_author)
    for attempt in earlier:
        score = scores[attempt.id]
        if score is not None and is_released_score(score):
            return {**score, "attempt": attempt.attempt, "submission_id": attempt.id}
    return None


def progress_json(session: Session, assignment: Assignment, learner_id: str) -> dict[str, Any]:
    latest = latest_submission(session, assignment.id, learner_id)
    given = reviews_given(session, assignment.id, learner_id)
    return {
        "submission": None
        if latest is None
        else {"id": latest.id, "attempt": latest.attempt, "status": latest.status, "created_at": latest.created_at.isoformat()},
        "attempts": attempts_used(session, assignment.id, learner_id),
        "max_attempts": assignment.max_attempts,
        "reviews_given": given,
        "reviews_owed": max(0, assignment.reviews_to_give - given),
        "score": None if latest is None else score_json(session, assignment, latest, for_author=True),
        "previous_score": None if latest is None else previous_score_json(session, assignment, learner_id, latest.attempt, for_author=True),
    }


def received_reviews(session: Session, assignment: Assignment, submission: Submission) -> list[dict[str, Any]]:
    """The reviews a submission received, as its author reads them: numbered in the order they arrived (Review 1,
    2, ...: the labels the appeal form uses), anonymous, each criterion under the rubric's title, and each
    review's share of the score among the reviews that count (None while no calibration has weighed them)."""
    rows = list(session.scalars(select(Review).where(Review.submission_id == submission.id).order_by(Review.created_at, Review.id)))
    counting = [r for r in rows if not r.discounted]
    shares = review_shares(rows)
    out = []
    for number, review in enumerate(rows, start=1):
        out.append(
            {
                "id": review.id,
                "number": number,
                "label": f"Review {number}",
                "criteria": [
                    {
                        "key": c["key"],
                        "title": c["title"],
                        "max_points": c["max_points"],
                        "points": review.scores.get(c["key"]),
                        "comment": review.comments.get(c["key"], ""),
                    }
                    for c in assignment.criteria
                ],
                "overall_comment": review.overall_comment,
                "discounted": review.discounted,
                "share": shares[review.id],
                "equal_share": 1 / len(counting) if counting else None,
            }
        )
    return out


def reviews_counted(session: Session, submission_id: str) -> int:
    """Completed reviews of a submission that count towards its release (a discounted one does not)."""
    return int(
        session.scalar(select(func.count(Review.id)).where(Review.submission_id == submission_id, Review.discounted.is_(False))) or 0
    )


def reports_made(session: Session, assignment_id: str, learner_id: str, review_labels: dict[str, str]) -> list[dict[str, Any]]:
    """Every report and appeal the learner opened in this assignment, oldest first, as they may follow it: its kind,
    when, its status and outcome, and for an appeal the label of the review it is about (``review_labels``). Nothing
    about the work a report was about (it may have been a staff sample, which a learner never learns)."""
    cases = list(
        session.scalars(
            select(Case).where(Case.assignment_id == assignment_id, Case.opened_by_id == learner_id).order_by(Case.created_at, Case.id)
        )
    )
    if not cases:
        return []
    own_attempts: dict[str, int] = dict(
        session.execute(
            select(Submission.id, Submission.attempt).where(
                Submission.assignment_id == assignment_id, Submission.author_id == learner_id, Submission.kind == LEARNER_WORK
            )
        )
        .tuples()
        .all()
    )
    out = []
    for case in cases:
        outcome = None if case.outcome is None else {"action": case.outcome.get("action"), "note": case.outcome.get("note") or ""}
        review_id = case.evidence.get("review_id") if isinstance(case.evidence, dict) else None
        out.append(
            {
                "id": case.id,
                "kind": case.kind,
                "created_at": case.created_at,
                "status": case.status,
                "outcome": outcome,
                "review_label": review_labels.get(review_id) if isinstance(review_id, str) else None,
                # An appeal (or a report) about one of the learner's own attempts, and which attempt it was.
                "attempt": own_attempts.get(case.submission_id) if case.submission_id else None,
            }
        )
    return out

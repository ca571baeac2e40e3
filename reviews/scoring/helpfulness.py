"""Helpfulness ratings: after release, the author of a submission rates each review it received, 1 to 5, with an
optional note; the ratings count in the reviewer's reviewing grade (reviews/scoring/reviewing.py).

Anonymous both ways. The author rates a review by its id, as the received reviews list it, and never learns who
wrote it. A reviewer sees only the mean over all the ratings of their reviews in the assignment, and only once
there are ``MIN_RATINGS_SHOWN`` of them, never one review's rating nor who gave it: staff samples are never
rated (nobody reads their reviews as an author), so a rating per review would show which reviews were samples.
Staff read every rating with its note (the reviewers page). A rating can be changed at any time: the last wins.

This module only reads ratings, and imports no service, so that the reviewing grade and the pages can use it
from anywhere; giving a rating, which needs the release rule, is reviews/scoring/rating.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reviews.kernel.errors import invalid
from reviews.scoring.models import HelpfulnessRating

LOWEST, HIGHEST = 1, 5
NOTE_MAX_CHARS = 500
# A reviewer sees the mean of the ratings of their reviews only from this many on, so that no single author's
# rating can be read off it.
MIN_RATINGS_SHOWN = 3
# The words beside each rating on the pages.
RATING_WORDS = {1: "Not helpful", 2: "A little helpful", 3: "Helpful", 4: "Very helpful", 5: "Extremely helpful"}


def helpfulness_summary(session: Session, assignment_id: str) -> dict[str, tuple[float, int]]:
    """Each reviewer's helpfulness in the assignment: ``{reviewer_id: (mean rating, number of ratings)}``, for
    reviewers with at least one rating. For staff and the reviewing grade; a reviewer reads ``own_helpfulness``."""
    rows = session.execute(
        select(HelpfulnessRating.reviewer_id, func.avg(HelpfulnessRating.rating), func.count(HelpfulnessRating.id))
        .where(HelpfulnessRating.assignment_id == assignment_id)
        .group_by(HelpfulnessRating.reviewer_id)
    ).all()
    return {reviewer_id: (float(mean), int(count)) for reviewer_id, mean, count in rows}


def own_helpfulness(session: Session, assignment_id: str, reviewer_id: str) -> dict[str, Any]:
    """What a reviewer may know of the ratings of their reviews: how many there are, and their mean (one decimal)
    once there are ``MIN_RATINGS_SHOWN``; nothing per review, nothing about who rated."""
    mean, count = helpfulness_summary_of(session, assignment_id, reviewer_id)
    shown = count >= MIN_RATINGS_SHOWN and mean is not None
    return {"ratings": count, "mean": round(mean, 1) if shown and mean is not None else None, "shown_from": MIN_RATINGS_SHOWN}


def helpfulness_summary_of(session: Session, assignment_id: str, reviewer_id: str) -> tuple[float | None, int]:
    mean, count = session.execute(
        select(func.avg(HelpfulnessRating.rating), func.count(HelpfulnessRating.id)).where(
            HelpfulnessRating.assignment_id == assignment_id, HelpfulnessRating.reviewer_id == reviewer_id
        )
    ).one()
    return (None if mean is None else float(mean)), int(count)


@dataclass(frozen=True)
class RatingInput:
    rating: int
    note: str


def rating_input(rating: Any, note: Any) -> RatingInput:
    """A rating as a person gives it: a whole number from 1 to 5 and a note of at most 500 characters, trimmed
    (the note is optional, so it is not held to the short-text gate)."""
    problems: dict[str, list[str]] = {}
    if isinstance(rating, bool) or not isinstance(rating, int) or not LOWEST <= rating <= HIGHEST:
        problems["rating"] = [f"Choose how helpful the review was, from {LOWEST} (not helpful) to {HIGHEST} (extremely helpful)."]
    text = (note or "").strip() if isinstance(note, str) or note is None else None
    if text is None:
        problems["note"] = ["The note must be text."]
    elif len(text) > NOTE_MAX_CHARS:
        problems["note"] = [f"Keep the note to {NOTE_MAX_CHARS} characters; it has {len(text)}."]
    if problems:
        raise invalid(problems, "The rating was not saved: give a rating from 1 to 5 and, if you like, a short note.")
    assert isinstance(rating, int) and text is not None
    return RatingInput(rating, text)


def ratings_of(session: Session, review_ids: list[str]) -> dict[str, HelpfulnessRating]:
    """The ratings of these reviews, by review id (in one query)."""
    if not review_ids:
        return {}
    rows = session.scalars(select(HelpfulnessRating).where(HelpfulnessRating.review_id.in_(review_ids)))
    return {r.review_id: r for r in rows}


def assignment_ratings(session: Session, assignment_id: str) -> list[HelpfulnessRating]:
    """Every rating in the assignment, newest first (staff)."""
    return list(
        session.scalars(
            select(HelpfulnessRating)
            .where(HelpfulnessRating.assignment_id == assignment_id)
            .order_by(HelpfulnessRating.updated_at.desc(), HelpfulnessRating.id)
        )
    )


def rating_json(rating: HelpfulnessRating, *, for_staff: bool = False) -> dict[str, Any]:
    """A rating as its author reads it; staff also see the reviewer and the submission."""
    out: dict[str, Any] = {
        "review_id": rating.review_id,
        "rating": rating.rating,
        "note": rating.note,
        "updated_at": _iso(rating.updated_at),
    }
    if for_staff:
        out.update(submission_id=rating.submission_id, reviewer_id=rating.reviewer_id)
    return out


def _iso(moment: datetime) -> str:
    return moment.isoformat()

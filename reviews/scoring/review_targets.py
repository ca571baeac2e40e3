"""Adaptive review count: a score too uncertain asks for one more review, up to a cap."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviews.courses.models import Assignment
from reviews.submissions.models import Submission


def adapt_review_targets(
    session: Session, assignment: Assignment, widths: dict[str, tuple[float, int]], *, width_share: float, max_extra: int
) -> list[str]:
    """Adaptive review count: ask for one more review of each submission whose score is too uncertain.

    ``widths`` maps submission id to (width of its 95% interval, completed reviews). A submission gets one more
    review at a time, up to reviews_required + max_extra; returns the ids still too uncertain at that cap.
    """
    limit = width_share * assignment.max_total
    cap = assignment.reviews_required + max_extra
    at_cap: list[str] = []
    wide = {sid: n for sid, (width, n) in widths.items() if width > limit}
    if not wide:
        return at_cap
    for submission in session.scalars(
        select(Submission).where(Submission.id.in_(list(wide))).order_by(Submission.created_at, Submission.id)
    ):
        target = submission.reviews_target or assignment.reviews_required
        if wide[submission.id] < target:
            continue  # still waiting for the reviews already asked for
        if target < cap:
            submission.reviews_target = target + 1
        else:
            at_cap.append(submission.id)
    return at_cap

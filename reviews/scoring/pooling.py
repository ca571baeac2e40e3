"""Borrowed strength across a course's assignments: reviewers' earlier estimates as this run's priors.

The stored reviewer stats of the course's earlier assignments (calibrated, hence anchored by the staff samples
graded there) become each reviewer's prior in the next fit; calibration.pooling says how they are pooled and
inflated. Only a small assignment's fit uses them (calibration.small_data): on a large one, the assignment's
own grades tell more.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from calibration.pooling import carry_over
from calibration.types import ReviewerPrior
from reviews.courses.models import Assignment
from reviews.scoring.models import ReviewerStat


def earlier_reviewer_priors(session: Session, assignment: Assignment, reviewer_index: dict[str, int]) -> dict[str, ReviewerPrior | None]:
    """Per criterion key of ``assignment``: the priors of its reviewers (``reviewer_index``: id -> index in the
    fit) from their stats in the course's assignments created before this one, in one query. A criterion takes
    the rows of the same key where a reviewer has them, else all their rows (bias and reliability are put on
    the unit scale, so criteria of other ranges compare). None for a criterion when nobody has a history."""
    keys = [c["key"] for c in assignment.criteria]
    if not reviewer_index or not keys:
        return dict.fromkeys(keys)
    rows = session.execute(
        select(ReviewerStat, Assignment.rubric)
        .join(Assignment, Assignment.id == ReviewerStat.assignment_id)
        .where(
            Assignment.course_id == assignment.course_id,
            Assignment.id != assignment.id,
            Assignment.created_at <= assignment.created_at,
            ReviewerStat.reviewer_id.in_(list(reviewer_index)),
            ReviewerStat.grades > 0,
            ReviewerStat.bias.is_not(None),
            ReviewerStat.reliability.is_not(None),
        )
    ).all()
    if not rows:
        return dict.fromkeys(keys)
    points = {c["key"]: float(c["max_points"]) for c in assignment.criteria}
    rev, crit, share, unit, grades = [], [], [], [], []
    for stat, rubric in rows:
        span = next((float(c["max_points"]) for c in rubric.get("criteria", []) if c.get("key") == stat.criterion), None)
        if not span or span <= 0:
            continue
        rev.append(reviewer_index[stat.reviewer_id])
        crit.append(stat.criterion)
        share.append(float(stat.bias or 0.0) / span)
        unit.append(float(stat.reliability or 0.0) * span**2)
        grades.append(float(stat.grades))
    rev_a, share_a, unit_a, grades_a = np.array(rev, dtype=np.int64), np.array(share), np.array(unit), np.array(grades)
    crit_a = np.array(crit, dtype=object)
    out: dict[str, ReviewerPrior | None] = {}
    for key in keys:
        same = crit_a == key
        # A reviewer with rows of this criterion uses only those; the others use all of theirs.
        has_same = np.zeros(len(reviewer_index), dtype=bool)
        has_same[rev_a[same]] = True
        use = same | ~has_same[rev_a]
        out[key] = carry_over(rev_a[use], share_a[use], unit_a[use], grades_a[use], len(reviewer_index), points[key])
    return out

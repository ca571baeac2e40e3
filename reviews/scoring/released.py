"""Released scores stay released: a score that was released keeps being shown when a discounted review or a
recalibration leaves its work with fewer counting reviews than required. It keeps the wider interval of what is
left, with a note, and the work is served first for the extra review it now needs."""

from __future__ import annotations

import math
from datetime import datetime

from reviews.courses.models import Assignment
from reviews.scoring.models import Score
from reviews.submissions.models import Submission

SHORT_NOTE = (
    "A review of this work no longer counts after a mentor's decision, so the score rests on fewer reviews than "
    "required: it stays released with a wider range until an extra review comes in."
)


def keep_released(
    assignment: Assignment,
    submission: Submission,
    score: Score,
    before: tuple[float | None, float | None, float | None, int],
    now: datetime,
) -> None:
    """After a run recomputed ``score`` of work that was released (``before``: its value, low, high and reviews
    then): mark it released for good; when it lost reviews, keep it shown with a wider interval, say why, and ask
    for the missing reviews at top priority.

    The interval widens as a mean's does with fewer observations: its half-width at least the earlier one times
    sqrt(earlier reviews / reviews left), whatever the new fit says (identical reviews fit a very narrow one)."""
    score.released_at = score.released_at or now
    required = assignment.reviews_required
    if score.reviews >= required:
        score.release_note = None
        submission.serve_rank = 1
        return
    value, low, high, reviews = before
    if score.value is None:  # no counting review left: the last value stands, on the whole scale
        score.value, score.low, score.high = value, 0.0, float(assignment.max_total)
    elif low is not None and high is not None and score.low is not None and score.high is not None and reviews > score.reviews:
        half = max((score.high - score.low) / 2, (high - low) / 2 * math.sqrt(reviews / score.reviews))
        score.low, score.high = max(0.0, score.value - half), min(float(assignment.max_total), score.value + half)
    score.release_note = SHORT_NOTE
    # review_load counts the discounted reviews too: the target rises past them by the reviews still missing.
    missing = required - score.reviews
    submission.reviews_target = max(submission.reviews_target or required, submission.reviews_done + missing)
    submission.serve_rank = 0

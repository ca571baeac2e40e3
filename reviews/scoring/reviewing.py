"""The reviewing grade: how close and how steady a reviewer's grades were, plus how helpful their reviews were.

The scale is 0 to 100, whatever the rubric's. The accuracy part is computed with each calibration run:

* Every grade a reviewer gave (every criterion, counting reviews only) is compared with the truth about the work:
  the staff score where staff graded it (a calibration sample, or learner work with a staff grade), else the
  calibrated score with this one grade taken out (its share ``grade_weight`` in the score removed, so a reviewer
  is not measured against themselves) and the calibrated score's variance grown by the same share.
* Distances are shares of the criterion's points. The expected squared distance of a grade, given what the
  calibration knows, is ``e^2 + v`` (``e`` the distance to the estimate, ``v`` the estimate's variance); a
  reviewer's mean of it, with staff-scored grades weighing ``STAFF_WEIGHT`` times as much (their truth is
  known), is their mean squared error ``Q``. A reviewer with few grades is pulled towards the assignment's typical
  reviewer by ``PRIOR_GRADES`` grades' worth, as the calibration's priors pull its reliabilities.
* Steadiness: the spread ``S`` of their distances around their own mean distance (their lean), plus the truth's
  variance. Calibration corrects a steady lean (a reviewer's bias) but not a spread, so this is what makes a
  review useful: someone who gives full marks to everything is steady but far; someone who grades at random is
  neither.
* ``Q``'s uncertainty comes from the calibrated scores' own (``Var(e'^2) = 2v^2 + 4e^2v`` per grade); ``S``'s
  also from the sampling of a variance over their grades (their own fourth moment, n - 1 degrees of freedom);
  with the pull, from how much reviewers differ. Each is taken as Gamma distributed with those moments (never
  negative) for its 95% interval.
* Points of a mean squared distance ``x``: ``100 * (1 - sqrt(x) / HALF_SCALE)`` within 0..100 (100: on the truth;
  0: half the scale or more away). Accuracy = ``CLOSENESS_SHARE`` x closeness points + the rest x steadiness
  points, its interval combined end to end. On a realistic synthetic assignment (5 criteria, 6 reviews and 2
  samples each) a careful reviewer lands near 85, one who gives full marks to everything near 45 and one who
  grades at random near 20 (tests/unit/scoring/test_reviewing_grade.py).

Helpfulness ratings (1 to 5, from the authors after release) count with the assignment's ``helpfulness_weight``,
shrunk while there are few ratings; they are added when the grade is read, so that a new rating counts at once.
The assignment's ``reviewing_weight`` combines the reviewing grade with the project score into ``grade``; the
score itself stays the calibrated project score.

Nothing here is per review for a learner: they see only their aggregate, in words, once their score is released,
so that nothing tells which of their reviews were of staff samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import calibration
from reviews.accounts.models import User
from reviews.courses.models import Assignment
from reviews.scoring.helpfulness import MIN_RATINGS_SHOWN, helpfulness_summary
from reviews.scoring.models import ReviewingCloseness

CLOSENESS_SHARE = 1 / 3  # accuracy = 1/3 closeness + 2/3 steadiness: calibration corrects a steady lean, not a spread
STAFF_WEIGHT = 2.0  # a grade of staff-scored work counts twice: its truth is known, not estimated
HALF_SCALE = 0.5  # a root mean squared distance of half the scale (or more) gives 0
PRIOR_GRADES = 1.0  # a reviewer's closeness is pulled towards the typical reviewer's by this many grades
MAX_GRADE_SHARE = 0.9  # the share of one grade in its work's score taken out at most (the rest is the truth)
RATING_SD = 1.0  # the spread assumed for one helpfulness rating, in points of the 1 to 5 scale
RATINGS_PRIOR = 2.0  # helpfulness counts fully only once a reviewer has many more ratings than this


@dataclass(frozen=True)
class Closeness:
    """Per reviewer (arrays of ``n_reviewers``): the accuracy 0..100 (the mean of closeness and steadiness) with
    its 95% interval, both parts, the root mean squared distance, the mean signed distance (lean) and the spread
    around the lean (shares of the criterion's points), and how many grades counted."""

    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    closeness: np.ndarray
    steadiness: np.ndarray
    error_share: np.ndarray
    lean_share: np.ndarray
    spread_share: np.ndarray
    grades: np.ndarray


def closeness(criteria: Sequence[tuple[calibration.Grades, calibration.Fit]], n_reviewers: int) -> Closeness:
    """Each reviewer's accuracy over every criterion of one assignment (see the module's docstring)."""
    parts_r, parts_e, parts_v, parts_w = [], [], [], []
    for grades, fit in criteria:
        if grades.score.size == 0:
            continue
        lo = 0.0 if grades.lo is None else float(grades.lo)
        hi = float(np.max(grades.score)) if grades.hi is None else float(grades.hi)
        scale = max(hi - lo, 1e-9)
        g = grades.score.astype(np.float64)
        known = np.full(grades.n_submissions, np.nan)
        known[grades.staff_submission] = grades.staff_score
        staff = np.isfinite(known[grades.submission])
        share = np.clip(np.nan_to_num(fit.grade_weight, nan=0.0), 0.0, MAX_GRADE_SHARE)
        mean, sd = fit.mean[grades.submission], fit.sd[grades.submission]
        truth = np.where(staff, known[grades.submission], (mean - share * g) / (1.0 - share))
        truth = np.clip(truth, lo, hi)
        # An estimate without a finite sd tells nothing: such grades are left out (as ones of ungraded work).
        finite_sd = np.where(np.isfinite(sd) & (np.abs(sd) < 1e150), sd, np.nan)
        var = np.where(staff, 0.0, finite_sd**2 / (1.0 - share))
        ok = np.isfinite(truth) & np.isfinite(var)
        parts_r.append(grades.reviewer[ok])
        parts_e.append(((g - truth) / scale)[ok])
        parts_v.append((var / scale**2)[ok])
        parts_w.append(np.where(staff, STAFF_WEIGHT, 1.0)[ok])
    if not parts_r:
        zero, none = np.zeros(n_reviewers), np.full(n_reviewers, np.nan)
        return Closeness(zero, zero, zero, zero, zero, none, zero, none, np.zeros(n_reviewers, np.int64))
    r = np.concatenate(parts_r).astype(np.int64)
    e, v, w = np.concatenate(parts_e), np.concatenate(parts_v), np.concatenate(parts_w)
    counts = np.bincount(r, minlength=n_reviewers)
    weight = np.bincount(r, weights=w, minlength=n_reviewers)
    has = weight > 0
    safe = np.where(has, weight, 1.0)
    mean_v = np.bincount(r, weights=w * v, minlength=n_reviewers) / safe
    # Closeness: the expected mean squared distance from the truth, and its variance from the truth's uncertainty.
    q_own = np.bincount(r, weights=w * e**2, minlength=n_reviewers) / safe + mean_v
    var_q = np.bincount(r, weights=w**2 * (2 * v**2 + 4 * e**2 * v), minlength=n_reviewers) / safe**2
    # Steadiness: the spread of their distances around their own lean (what calibration cannot correct), with the
    # sampling uncertainty of a variance over their grades (n - 1 degrees of freedom).
    lean = np.bincount(r, weights=w * e, minlength=n_reviewers) / safe
    dof = np.maximum(counts - 1, 1).astype(np.float64)
    around = (e - lean[r]) ** 2
    m2 = np.bincount(r, weights=w * around, minlength=n_reviewers) / safe
    m4 = np.bincount(r, weights=w * around**2, minlength=n_reviewers) / safe
    s_own = m2 * counts / dof + mean_v
    # The variance of a variance estimate, (m4 - m2^2) / n, from their own fourth moment (grades at random spread
    # flatter than a normal's, constant ones about as a normal), and never below half of the normal's 2 m2^2 / n.
    var_s = np.maximum(m4 - m2**2, m2**2) / dof + var_q
    q, var_q = _pulled(q_own, var_q, weight, has)
    # A spread needs two grades: one grade tells nothing of it, so steadiness weighs n - 1 of n grades' worth.
    s, var_s = _pulled(s_own, var_s, weight * (counts - 1) / np.maximum(counts, 1), has & (counts > 1))
    q_low, q_high = _gamma_interval(q, var_q)
    s_low, s_high = _gamma_interval(s, var_s)
    close, steady = _points(q), _points(s)
    value = CLOSENESS_SHARE * close + (1 - CLOSENESS_SHARE) * steady
    low = CLOSENESS_SHARE * _points(q_high) + (1 - CLOSENESS_SHARE) * _points(s_high)
    high = CLOSENESS_SHARE * _points(q_low) + (1 - CLOSENESS_SHARE) * _points(s_low)
    return Closeness(
        value=np.where(has, value, 0.0),
        low=np.where(has, low, 0.0),
        high=np.where(has, high, 0.0),
        closeness=np.where(has, close, 0.0),
        steadiness=np.where(has, steady, 0.0),
        error_share=np.where(has, np.sqrt(q), np.nan),
        lean_share=np.where(has, lean, 0.0),
        spread_share=np.where(has, np.sqrt(s), np.nan),
        grades=counts,
    )


def _pulled(own: np.ndarray, var: np.ndarray, weight: np.ndarray, has: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A reviewer's figure pulled towards the typical reviewer's (the median) by ``PRIOR_GRADES`` grades, and its
    variance, which takes in how much reviewers differ in proportion to the pull."""
    typical = float(np.median(own[has])) if has.any() else 0.0
    spread = float(np.var(own[has])) if has.sum() > 1 else typical**2
    # Reviewers without any data take the typical reviewer's figure with how much reviewers differ.
    pulled = (PRIOR_GRADES * typical + weight * own) / (PRIOR_GRADES + weight)
    variance = (weight**2 * var + PRIOR_GRADES**2 * spread) / (PRIOR_GRADES + weight) ** 2
    return pulled, variance


def _points(q: np.ndarray) -> np.ndarray:
    points: np.ndarray = 100.0 * np.clip(1.0 - np.sqrt(np.maximum(q, 0.0)) / HALF_SCALE, 0.0, 1.0)
    return points


def _gamma_interval(mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 2.5% and 97.5% quantiles of the Gamma distribution with this mean and variance (the mean itself where
    the variance is 0)."""
    positive = (var > 0) & (mean > 0)
    shape = np.where(positive, mean**2 / np.where(positive, var, 1.0), 1.0)
    scale = np.where(positive, var / np.where(positive, mean, 1.0), 1.0)
    low = np.where(positive, stats.gamma.ppf(0.025, shape, scale=scale), mean)
    high = np.where(positive, stats.gamma.ppf(0.975, shape, scale=scale), mean)
    return low, high


def write_closeness(
    session: Session,
    assignment: Assignment,
    criteria: Sequence[tuple[calibration.Grades, calibration.Fit]],
    reviewer_index: dict[str, int],
    version: int,
) -> None:
    """Keep this calibration run's closeness of every reviewer of the assignment (replacing the last run's)."""
    session.execute(delete(ReviewingCloseness).where(ReviewingCloseness.assignment_id == assignment.id))
    if not reviewer_index:
        return
    out = closeness(criteria, len(reviewer_index))
    for reviewer_id, j in reviewer_index.items():
        if out.grades[j] == 0:
            continue
        session.add(
            ReviewingCloseness(
                assignment_id=assignment.id,
                reviewer_id=reviewer_id,
                value=round(float(out.value[j]), 6),
                low=round(float(out.low[j]), 6),
                high=round(float(out.high[j]), 6),
                error_share=round(float(out.error_share[j]), 6),
                lean_share=round(float(out.lean_share[j]), 6),
                grades=int(out.grades[j]),
                version=version,
            )
        )


# ---- Reading it: the reviewing grade, and the combined grade ------------------------------------------------


@dataclass(frozen=True)
class ReviewingGrade:
    """A reviewer's reviewing grade in one assignment (0 to 100) and what it is made of."""

    value: float
    low: float
    high: float
    closeness: float
    closeness_low: float
    closeness_high: float
    error_share: float | None  # root mean squared distance from the truth, as a share of the criterion's points
    lean_share: float  # mean signed distance: above 0, they graded high
    grades: int
    helpfulness_mean: float | None  # 1 to 5
    helpfulness_count: int
    helpfulness_weight: float  # the share helpfulness had in ``value``

    def as_json(self, *, for_reviewer: bool) -> dict[str, Any]:
        """The API's ReviewingGrade; the reviewer's own omits how many ratings there were (a staff sample's review
        is never rated, so the count would tell how many of their reviews were samples)."""
        helpfulness: dict[str, Any] = {
            "mean": None if self.helpfulness_mean is None else round(self.helpfulness_mean, 2),
            "weight": round(self.helpfulness_weight, 4),
        }
        if not for_reviewer:
            helpfulness["ratings"] = self.helpfulness_count
        return {
            "value": round(self.value, 1),
            "interval": [round(self.low, 1), round(self.high, 1)],
            "max": 100.0,
            "closeness": {
                "value": round(self.closeness, 1),
                "interval": [round(self.closeness_low, 1), round(self.closeness_high, 1)],
            },
            "helpfulness": helpfulness,
            "words": feedback_words(self),
        }


NO_REVIEWS = ReviewingGrade(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, None, 0.0, 0, None, 0, 0.0)


def combine(row: ReviewingCloseness | None, helpfulness: tuple[float, int] | None, helpfulness_weight: float) -> ReviewingGrade:
    """The reviewing grade from the stored closeness and the reviewer's helpfulness ratings ``(mean, count)``.

    Helpfulness counts with ``helpfulness_weight * n / (n + RATINGS_PRIOR)`` for ``n`` ratings, from
    ``MIN_RATINGS_SHOWN`` ratings on (as a reviewer sees their mean), so a few ratings cannot move the grade much;
    its interval assumes a rating's spread of ``RATING_SD``. The two parts' intervals are combined end to end
    (conservative). No reviews: 0, as a reviewer who gave none.
    """
    if row is None:
        return NO_REVIEWS
    # Below MIN_RATINGS_SHOWN ratings they do not count yet: the grade would let a reviewer read one author's rating.
    mean, count = helpfulness if helpfulness is not None and helpfulness[1] >= MIN_RATINGS_SHOWN else (None, 0)
    share = 0.0 if mean is None else max(0.0, min(1.0, helpfulness_weight)) * count / (count + RATINGS_PRIOR)
    value, low, high = row.value, row.low, row.high
    if mean is not None and share > 0:
        points = 25.0 * (mean - 1.0)  # 1..5 onto 0..100
        half = 1.96 * 25.0 * RATING_SD / math.sqrt(count)
        value = (1 - share) * row.value + share * points
        low = (1 - share) * row.low + share * max(0.0, points - half)
        high = (1 - share) * row.high + share * min(100.0, points + half)
    return ReviewingGrade(
        value=value,
        low=min(low, value),
        high=max(high, value),
        closeness=row.value,
        closeness_low=row.low,
        closeness_high=row.high,
        error_share=row.error_share,
        lean_share=row.lean_share,
        grades=row.grades,
        helpfulness_mean=mean,
        helpfulness_count=count,
        helpfulness_weight=share,
    )


def reviewing_grades(session: Session, assignment: Assignment, reviewer_ids: Sequence[str] | None = None) -> dict[str, ReviewingGrade]:
    """The reviewing grade of these reviewers (every reviewer with a grade when None) in the assignment."""
    query = select(ReviewingCloseness).where(ReviewingCloseness.assignment_id == assignment.id)
    if reviewer_ids is not None:
        if not reviewer_ids:
            return {}
        query = query.where(ReviewingCloseness.reviewer_id.in_(list(reviewer_ids)))
    rows = {row.reviewer_id: row for row in session.scalars(query)}
    helpful = helpfulness_summary(session, assignment.id) if assignment.helpfulness_weight > 0 else {}
    ids = list(rows) if reviewer_ids is None else list(reviewer_ids)
    return {rid: combine(rows.get(rid), helpful.get(rid), assignment.helpfulness_weight) for rid in ids}


def combined_grade(score: dict[str, Any], reviewing: ReviewingGrade | None, reviewing_weight: float) -> dict[str, Any]:
    """``grade``: the project score and the reviewing grade combined, on the project's scale.

    ``(1 - w) * score + w * reviewing / 100 * max``; its interval combines both intervals end to end. With ``w``
    0 it is the score. A cancelled attempt's grade is 0, as its score.
    """
    maximum = float(score.get("max") or 0.0)
    w = 0.0 if score.get("method") == "cancelled" else max(0.0, min(1.0, reviewing_weight))
    if score.get("value") is None:
        return {"value": None, "interval": [None, None], "max": maximum, "reviewing_weight": w}
    value = float(score["value"])
    interval = score.get("interval") or [value, value]
    low = value if interval[0] is None else float(interval[0])
    high = value if interval[1] is None else float(interval[1])
    r = reviewing or NO_REVIEWS

    def mix(project: float, reviewing_points: float) -> float:
        return round((1 - w) * float(project) + w * reviewing_points / 100.0 * maximum, 4)

    return {
        "value": mix(value, r.value),
        "interval": [mix(low, r.low), mix(high, r.high)],
        "max": maximum,
        "reviewing_weight": w,
        **({"reviewing": round(r.value, 1)} if w > 0 else {}),
    }


# ---- In words, for the reviewer ---------------------------------------------------------------------------------

BANDS = ((85, "very close to"), (70, "close to"), (50, "fairly close to"), (30, "often far from"), (0, "far from"))


def band(value: float) -> str:
    return next(words for floor, words in BANDS if value >= floor)


def feedback_words(grade: ReviewingGrade) -> list[str]:
    """The reviewer's feedback: sentences about all of their reviews together, never about one of them."""
    if grade.grades == 0:
        return ["None of your reviews has been compared with the work's scores yet."]
    words = [
        (
            f"Across all your reviews, your points came {band(grade.closeness)} the scores the work deserved: "
            f"a reviewing grade of {grade.value:.0f} out of 100 (likely between {grade.low:.0f} and {grade.high:.0f})."
        )
    ]
    if grade.error_share is not None:
        words.append(f"On average your points were about {100 * grade.error_share:.0f}% of a criterion's range away from them.")
    if grade.lean_share >= 0.05:
        words.append("You tended to grade higher than the work deserved: look for what is missing before giving full points.")
    elif grade.lean_share <= -0.05:
        words.append("You tended to grade lower than the work deserved: give credit where a criterion is met.")
    else:
        words.append("You graded neither high nor low overall.")
    if grade.helpfulness_count >= MIN_RATINGS_SHOWN:  # as reviews/scoring/helpfulness.py shows the mean
        mean = grade.helpfulness_mean or 0.0
        words.append(f"Authors rated your reviews {mean:.1f} out of 5 for helpfulness on average.")
    return words


@dataclass(frozen=True)
class ReviewerRow:
    reviewer_id: str
    name: str
    email: str
    grade: ReviewingGrade


def reviewer_rows(session: Session, assignment: Assignment) -> list[ReviewerRow]:
    """Every reviewer with a reviewing grade in the assignment, by name (staff): two queries, three with ratings."""
    grades = reviewing_grades(session, assignment)
    people = session.execute(select(User.id, User.name, User.email).where(User.id.in_(list(grades)))).all() if grades else []
    rows = [ReviewerRow(uid, name, email, grades[uid]) for uid, name, email in people]
    return sorted(rows, key=lambda r: (r.name.casefold(), r.email.casefold(), r.reviewer_id))

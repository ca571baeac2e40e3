"""Baselines: the plain statistics a calibrated model must beat, and the fallback when it does not."""

from __future__ import annotations

import numpy as np
from scipy import stats

from calibration.layout import _stable_order
from calibration.types import Diagnostics, Fit, Grades

# Ratio of the sampling sd of a median to that of a mean, for normal data.
_MEDIAN_EFFICIENCY = np.sqrt(np.pi / 2.0)


def _group_median(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` per group, vectorised by sorting on (group, value)."""
    out = np.full(n_groups, np.nan)
    if values.size == 0:
        return out
    counts = np.bincount(groups, minlength=n_groups)
    sizes = counts[counts > 0]
    if sizes.min() == sizes.max() and np.all(groups[1:] >= groups[:-1]):
        # Contiguous groups of one size (the leave-one-out panels): sort each row, no global sort.
        m = int(sizes[0])
        rows = np.sort(values.reshape(-1, m), axis=1)
        out[counts > 0] = 0.5 * (rows[:, (m - 1) // 2] + rows[:, m // 2])
        return out
    order = stable_group_order(values, groups, n_groups)
    v = values[order]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    lo_idx = starts[has] + (counts[has] - 1) // 2
    hi_idx = starts[has] + counts[has] // 2
    out[has] = 0.5 * (v[lo_idx] + v[hi_idx])
    return out


def stable_group_order(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """``np.lexsort((values, groups))``: by group, then value, then position; a stable sort on the values
    followed by a radix sort on the (small, non-negative integer) groups, which is cheaper for large inputs."""
    first = np.argsort(values, kind="stable")
    n_keys = max(n_groups, int(groups.max()) + 1) if groups.size else 1
    return first[_stable_order(groups[first], n_keys)]


def _group_mean(values: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` per group (NaN for empty groups) and the group sizes."""
    counts = np.bincount(groups, minlength=n_groups)
    sums = np.bincount(groups, weights=values, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means, counts


def _staff_seen(grades: Grades) -> np.ndarray:
    is_staff = np.zeros(grades.n_submissions, dtype=bool)
    is_staff[np.asarray(grades.staff_submission, dtype=np.int64)] = True
    return np.bincount(grades.reviewer[is_staff[grades.submission]], minlength=grades.n_reviewers)


def _pooled_within_sd(score: np.ndarray, sub: np.ndarray, means: np.ndarray) -> tuple[float, int]:
    """Within-submission sd pooled over the assignment (df = sum of n_i - 1); NaN with no replicated grade."""
    counts = np.bincount(sub, minlength=means.size)
    df = int(np.sum(np.maximum(counts - 1, 0)))
    if df == 0:
        return float("nan"), 0
    resid = score - means[sub]
    return float(np.sqrt(np.sum(resid**2) / df)), df


def _finish(
    grades: Grades, method: str, centre: np.ndarray, sd: np.ndarray, half: np.ndarray, counts: np.ndarray, diagnostics: Diagnostics
) -> Fit:
    """Shared tail of the baselines: bounds, staff scores, NaN for ungraded work, reviewer arrays."""
    low, high = centre - half, centre + half
    if grades.lo is not None:
        centre, low, high = np.maximum(centre, grades.lo), np.maximum(low, grades.lo), np.maximum(high, grades.lo)
    if grades.hi is not None:
        centre, low, high = np.minimum(centre, grades.hi), np.minimum(low, grades.hi), np.minimum(high, grades.hi)
    none = counts == 0
    centre, sd = np.where(none, np.nan, centre), np.where(none, np.nan, sd)
    low, high = np.where(none, np.nan, low), np.where(none, np.nan, high)
    staff = np.asarray(grades.staff_submission, dtype=np.int64)
    if staff.size:
        centre[staff] = grades.staff_score
        sd[staff] = 0.0
        low[staff] = grades.staff_score
        high[staff] = grades.staff_score
    sub = np.asarray(grades.submission, dtype=np.int64)
    grade_weight = 1.0 / counts[sub] if sub.size else np.zeros(0)
    if staff.size and sub.size:
        # A staff score replaces the peer grades entirely: they carry no weight there.
        is_staff = np.zeros(grades.n_submissions, dtype=bool)
        is_staff[staff] = True
        grade_weight = np.where(is_staff[sub], 0.0, grade_weight)
    return Fit(
        method=method,
        mean=centre,
        sd=sd,
        low=low,
        high=high,
        reviewer_bias=np.zeros(grades.n_reviewers),
        reviewer_reliability=np.full(grades.n_reviewers, np.nan),
        reviewer_weight=np.ones(grades.n_reviewers),
        reviewer_staff_seen=_staff_seen(grades),
        grade_weight=grade_weight,
        diagnostics=diagnostics,
        reviewer_low_effort=np.zeros(grades.n_reviewers),
    )


def fit_median(grades: Grades) -> Fit:
    """Per-submission median of its peer grades.

    Interval: median +/- t(df) * sqrt(pi/2) * s / sqrt(n), where s is the within-submission spread pooled over
    the whole assignment (df = sum of n_i - 1). Pooling keeps the interval honest with one or two reviews; with
    no replicated grades at all nothing is known about the spread and the interval is the whole scale (or
    infinite on an unbounded scale). Staff-scored submissions take their staff score with zero width.
    """
    n_sub = grades.n_submissions
    sub, score = np.asarray(grades.submission, dtype=np.int64), np.asarray(grades.score, dtype=np.float64)
    median = _group_median(score, sub, n_sub)
    means, counts = _group_mean(score, sub, n_sub)
    pooled_sd, df = _pooled_within_sd(score, sub, np.nan_to_num(means))
    if df > 0:
        sd = _MEDIAN_EFFICIENCY * pooled_sd / np.sqrt(np.maximum(counts, 1))
        half = stats.t.ppf(0.975, df) * sd
    else:
        sd = np.full(n_sub, np.inf)
        half = np.full(n_sub, np.inf)
    return _finish(grades, "median", median, sd, half, counts, {"pooled_df": df})


def fit_mean(grades: Grades) -> Fit:
    """Per-submission mean of its peer grades (every grade weight 1/n).

    Model: grade = true score + noise with one spread for everyone, no reviewer bias. Interval: mean +/-
    t(df) * s / sqrt(n) with s the within-submission sd pooled over the assignment (see ``fit_median``).
    Staff-scored submissions take their staff score with zero width.
    """
    n_sub = grades.n_submissions
    sub, score = np.asarray(grades.submission, dtype=np.int64), np.asarray(grades.score, dtype=np.float64)
    means, counts = _group_mean(score, sub, n_sub)
    pooled_sd, df = _pooled_within_sd(score, sub, np.nan_to_num(means))
    if df > 0:
        sd = pooled_sd / np.sqrt(np.maximum(counts, 1))
        half = stats.t.ppf(0.975, df) * sd
    else:
        sd = np.full(n_sub, np.inf)
        half = np.full(n_sub, np.inf)
    return _finish(grades, "mean", means, sd, half, counts, {"pooled_df": df})


def staff_offset(grades: Grades) -> tuple[float, float, int]:
    """The global offset (staff score minus peer grade) averaged over every peer grade of a staff-scored item.

    Returns (offset, its standard error, number of grades it rests on); (0, 0, 0) without such grades, so that
    mean_offset is then the plain mean.
    """
    sub = np.asarray(grades.submission, dtype=np.int64)
    truth = np.full(grades.n_submissions, np.nan)
    truth[np.asarray(grades.staff_submission, dtype=np.int64)] = grades.staff_score
    on_staff = ~np.isnan(truth[sub]) if sub.size else np.zeros(0, dtype=bool)
    n = int(np.sum(on_staff))
    if n == 0:
        return 0.0, 0.0, 0
    diff = truth[sub[on_staff]] - np.asarray(grades.score, dtype=np.float64)[on_staff]
    offset = float(np.mean(diff))
    se = float(np.std(diff, ddof=1) / np.sqrt(n)) if n > 1 else float(np.std(grades.score) if sub.size > 1 else 0.0)
    return offset, se, n


def fit_mean_offset(grades: Grades) -> Fit:
    """Per-submission mean of its peer grades plus one global offset learned from the staff samples.

    Model: grade = true score - offset + noise (every reviewer shares the same bias). The offset is the mean of
    (staff score - peer grade) over every peer grade of a staff-scored submission; its standard error is added
    to the interval: mean + offset +/- z * sqrt(s^2 / n + se^2), s pooled as in ``fit_mean``. Without peer
    grades on staff samples the offset is 0 (the plain mean).
    """
    n_sub = grades.n_submissions
    sub, score = np.asarray(grades.submission, dtype=np.int64), np.asarray(grades.score, dtype=np.float64)
    means, counts = _group_mean(score, sub, n_sub)
    pooled_sd, df = _pooled_within_sd(score, sub, np.nan_to_num(means))
    offset, se, n_off = staff_offset(grades)
    if df > 0:
        sd = np.sqrt(pooled_sd**2 / np.maximum(counts, 1) + se**2)
        half = stats.t.ppf(0.975, df) * sd
    else:
        sd = np.full(n_sub, np.inf)
        half = np.full(n_sub, np.inf)
    return _finish(
        grades,
        "mean_offset",
        means + offset,
        sd,
        half,
        counts,
        {"pooled_df": df, "offset": offset, "offset_se": se, "offset_grades": n_off},
    )

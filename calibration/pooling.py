"""Borrowed strength: what earlier assignments of a course taught about each reviewer, as the next fit's prior.

A reviewer's habits carry over between assignments, but not exactly (another rubric, another topic, a reviewer
who learned): partial pooling. Each earlier estimate is put on the unit scale (bias as a share of its
criterion's range R, reliability as a precision in units of R^-2), the estimates of one reviewer are pooled,
weighted by how many grades they rest on, and the result is inflated before it becomes a prior on the new
scale:

    bias ~ N(mean share x R, (INFLATE x posterior variance + DRIFT^2) x R^2)
    reliability ~ Gamma(shape / INFLATE, rate / INFLATE) (same mean, INFLATE x the variance), shape <= MAX_SHAPE

where the posterior variance of the pooled bias share is 1 / (n x reliability + 1 / BIAS_SD^2) for n grades,
and the reliability's shape is PRIOR_SHAPE + n / 2 (what n grades tell about a precision).
"""

from __future__ import annotations

import numpy as np

from calibration.numerics import _weighted_bincount
from calibration.small_data import BIAS_SD
from calibration.types import FloatArray, IntArray, ReviewerPrior

INFLATE = 2.0
DRIFT = 0.02
PRIOR_SHAPE = 2.0
MAX_SHAPE = 12.0


def carry_over(
    reviewer: IntArray,
    bias_share: FloatArray,
    reliability_unit: FloatArray,
    grades: FloatArray,
    n_reviewers: int,
    scale: float,
) -> ReviewerPrior:
    """Priors for ``n_reviewers`` reviewers on a scale of range ``scale`` from earlier estimates (one row per
    reviewer, criterion and earlier assignment): ``reviewer`` (index in the new fit), ``bias_share`` (bias /
    that criterion's range), ``reliability_unit`` (precision x that range squared) and ``grades`` (how many
    grades the estimate rests on). Rows with a non-finite estimate or no grades are ignored; a reviewer without
    rows gets NaN (the population's prior). See the module docstring for the model."""
    reviewer = np.asarray(reviewer, dtype=np.int64)
    bias_share = np.asarray(bias_share, dtype=np.float64)
    reliability_unit = np.asarray(reliability_unit, dtype=np.float64)
    n = np.asarray(grades, dtype=np.float64)
    ok = np.isfinite(bias_share) & np.isfinite(reliability_unit) & (reliability_unit > 0) & (n > 0)
    ok &= (reviewer >= 0) & (reviewer < n_reviewers)
    r, w = reviewer[ok], n[ok]
    total = _weighted_bincount(r, w, n_reviewers)
    known = total > 0
    safe = np.where(known, total, 1.0)
    bias = _weighted_bincount(r, w * bias_share[ok], n_reviewers) / safe
    # Pool the noise variances, not the precisions: one careless assignment should count as such.
    noise_var = _weighted_bincount(r, w / reliability_unit[ok], n_reviewers) / safe
    tau = 1.0 / np.where(known, noise_var, 1.0)
    bias_var = 1.0 / (total * tau + 1.0 / BIAS_SD**2)
    shape = np.minimum(PRIOR_SHAPE + 0.5 * total, MAX_SHAPE) / INFLATE
    nan = np.full(n_reviewers, np.nan)
    return ReviewerPrior(
        bias_mean=np.where(known, bias * scale, nan),
        bias_sd=np.where(known, np.sqrt(INFLATE * bias_var + DRIFT**2) * scale, nan),
        reliability_shape=np.where(known, shape, nan),
        reliability_rate=np.where(known, shape / tau * scale**2, nan),
    )

"""Arrays in, arrays out: the input and output of every calibration method."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypedDict

import numpy as np
from numpy.typing import NDArray

FloatArray: TypeAlias = NDArray[np.float64]
# Indices and counts: int64 where we convert the input, intp where numpy makes them (argsort, flatnonzero).
IntArray: TypeAlias = NDArray[np.integer[Any]]
BoolArray: TypeAlias = NDArray[np.bool_]


class Selection(TypedDict, total=False):
    """``Fit.diagnostics["selection"]`` of the ``auto`` method (see calibration.selection.fit_auto)."""

    chosen: str
    loo_rmse: dict[str, float]  # leave-one-out RMSE per candidate method; empty without graded staff samples
    n_staff_scored: int
    panel_size: int
    panels: int
    reason: str  # why there was nothing to compare on


class Diagnostics(TypedDict, total=False):
    """``Fit.diagnostics``: what a method reports about its own fit; each method fills its own keys."""

    # The calibrated model (calibration.model).
    iterations: int
    converged: bool
    mu: float
    sd_true_score: float
    mean_bias: float
    sd_bias: float
    reliability_shape: float
    reliability_rate: float
    low_effort_share: float
    biases_relative: bool
    # Small assignments (calibration.small_data): hyper-parameters integrated by Gibbs sampling.
    small_data: bool
    sampler_rhat_max: float
    reviewer_priors: int  # reviewers whose prior came from earlier assignments
    # The baselines (calibration.baselines).
    pooled_df: int
    offset: float
    offset_se: float
    offset_grades: int
    # The ``auto`` method.
    selection: Selection


@dataclass(frozen=True)
class ReviewerPrior:
    """What earlier assignments taught about each reviewer, as this fit's prior (partial pooling).

    Per reviewer (arrays of ``n_reviewers``): the bias ~ N(bias_mean, bias_sd^2) and the reliability (precision)
    ~ Gamma(reliability_shape, reliability_rate). NaN where nothing is known: that reviewer takes the
    population's prior like anyone new. A caller inflates its earlier posteriors before passing them (see
    ``calibration.small_data.carry_over``), since a reviewer's habits drift between assignments.
    """

    bias_mean: FloatArray
    bias_sd: FloatArray
    reliability_shape: FloatArray
    reliability_rate: FloatArray


@dataclass(frozen=True)
class Grades:
    """Peer grades of one criterion (or one total) of one assignment.

    ``submission[i]`` and ``reviewer[i]`` index the submission graded and the reviewer who gave ``score[i]``.
    ``staff_submission``/``staff_score`` are the known true scores (staff-graded samples); a staff-graded
    submission may also have peer grades. ``lo``/``hi`` bound the scale when known; ``step`` is the rubric's
    grain (grades are multiples of it) when grades are discrete. ``reviewer_prior``, when given, replaces the
    population's prior for the reviewers it knows (see ``ReviewerPrior``).
    """

    submission: IntArray
    reviewer: IntArray
    score: FloatArray
    n_submissions: int
    n_reviewers: int
    staff_submission: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    staff_score: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    reviewer_prior: ReviewerPrior | None = None


@dataclass(frozen=True)
class Fit:
    """What a method concluded.

    Per submission: posterior ``mean``, ``sd`` and the 95% interval ``low``..``high`` (NaN where a submission
    has no grade and no staff score). Per reviewer: ``reviewer_bias``, ``reviewer_reliability`` (precision),
    ``reviewer_weight`` (effective weight of one of their grades) and ``reviewer_staff_seen`` (how many
    staff-scored submissions they graded). Per grade: ``grade_weight``, the share that grade had in its
    submission's score. ``reviewer_low_effort`` is the probability that a reviewer put in no effort (their
    grades do not follow the work); methods without such a component report zeros.
    """

    method: str
    mean: FloatArray
    sd: FloatArray
    low: FloatArray
    high: FloatArray
    reviewer_bias: FloatArray
    reviewer_reliability: FloatArray
    reviewer_weight: FloatArray
    reviewer_staff_seen: IntArray
    grade_weight: FloatArray
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    reviewer_low_effort: FloatArray | None = None
    # The calibrated model's posterior per reviewer beyond its mean: the bias's sd and a Gamma (shape, rate) for
    # the reliability; what a later assignment's ``ReviewerPrior`` is made of. None for the baselines.
    reviewer_bias_sd: FloatArray | None = None
    reviewer_reliability_shape: FloatArray | None = None
    reviewer_reliability_rate: FloatArray | None = None

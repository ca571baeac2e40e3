"""Arrays in, arrays out: the input and output of every calibration method."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Grades:
    """Peer grades of one criterion (or one total) of one assignment.

    ``submission[i]`` and ``reviewer[i]`` index the submission graded and the reviewer who gave ``score[i]``.
    ``staff_submission``/``staff_score`` are the known true scores (staff-graded samples); a staff-graded
    submission may also have peer grades. ``lo``/``hi`` bound the scale when known; ``step`` is the rubric's
    grain (grades are multiples of it) when grades are discrete.
    """

    submission: np.ndarray
    reviewer: np.ndarray
    score: np.ndarray
    n_submissions: int
    n_reviewers: int
    staff_submission: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    staff_score: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    lo: float | None = None
    hi: float | None = None
    step: float | None = None


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
    mean: np.ndarray
    sd: np.ndarray
    low: np.ndarray
    high: np.ndarray
    reviewer_bias: np.ndarray
    reviewer_reliability: np.ndarray
    reviewer_weight: np.ndarray
    reviewer_staff_seen: np.ndarray
    grade_weight: np.ndarray
    diagnostics: dict = field(default_factory=dict)
    reviewer_low_effort: np.ndarray | None = None

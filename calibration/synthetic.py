"""Synthetic assignments drawn from the PG1 generating model, with optional careless and adversarial reviewers.

The benchmark protocol of issue 5: true score ~ N(70, 10^2), reviewer bias ~ N(0, 5^2), reliability ~
Gamma(shape 3, rate 147); every learner reviews k peers and 2 of the staff-graded samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calibration.types import Grades

TRUE_MEAN, TRUE_SD = 70.0, 10.0
BIAS_SD = 5.0
REL_SHAPE, REL_RATE = 3.0, 147.0

NORMAL, CARELESS, ADVERSARIAL = 0, 1, 2


@dataclass(frozen=True)
class Synthetic:
    """A generated assignment and the truth behind it (submissions 0..n_learners-1 are the learners' own)."""

    grades: Grades
    true_score: np.ndarray
    bias: np.ndarray
    reliability: np.ndarray
    kind: np.ndarray  # NORMAL, CARELESS or ADVERSARIAL per reviewer
    n_learners: int
    rounding: float


def simulate(
    n_learners: int = 1000,
    k: int = 4,
    n_staff: int = 20,
    staff_per_reviewer: int = 2,
    careless: float = 0.0,
    adversarial: float = 0.0,
    rounding: float = 0.0,
    seed: int = 0,
) -> Synthetic:
    """Draw one assignment: every learner reviews the next ``k`` learners in a random cycle (so every
    submission gets exactly ``k`` reviews, never its author's) and ``staff_per_reviewer`` distinct staff
    samples (spread evenly). Careless reviewers give 100 to everything, adversarial ones uniform grades in
    [0, 100]. With ``rounding`` R > 0 grades are rounded to multiples of R and clipped to [0, 100]; otherwise
    they are neither rounded nor clipped."""
    if k >= n_learners:
        raise ValueError("k must be smaller than the number of learners")
    n_staff = max(n_staff, staff_per_reviewer)
    rng = np.random.default_rng(seed)
    n_items = n_learners + n_staff
    true = rng.normal(TRUE_MEAN, TRUE_SD, n_items)
    bias = rng.normal(0.0, BIAS_SD, n_learners)
    rel = rng.gamma(REL_SHAPE, 1.0 / REL_RATE, n_learners)
    kind = np.full(n_learners, NORMAL, dtype=np.int8)
    order = rng.permutation(n_learners)
    n_care = round(careless * n_learners)
    n_adv = round(adversarial * n_learners)
    kind[order[:n_care]] = CARELESS
    kind[order[n_care : n_care + n_adv]] = ADVERSARIAL
    perm = rng.permutation(n_learners)  # position -> learner
    pos = np.arange(n_learners)
    peer_rev = np.repeat(perm, k)
    peer_sub = perm[(pos[:, None] + np.arange(1, k + 1)[None, :]) % n_learners].ravel()
    staff_rev = np.repeat(perm, staff_per_reviewer)
    staff_sub = n_learners + (pos[:, None] * staff_per_reviewer + np.arange(staff_per_reviewer)[None, :]).ravel() % n_staff
    rev = np.concatenate([peer_rev, staff_rev]).astype(np.int64)
    sub = np.concatenate([peer_sub, staff_sub]).astype(np.int64)
    noise = rng.standard_normal(rev.size) / np.sqrt(rel[rev])
    z = true[sub] + bias[rev] + noise
    z = np.where(kind[rev] == CARELESS, 100.0, z)
    uniform = rng.uniform(0.0, 100.0, rev.size)
    z = np.where(kind[rev] == ADVERSARIAL, uniform, z)
    if rounding > 0:
        z = np.clip(np.round(z / rounding) * rounding, 0.0, 100.0)
    staff_items = np.arange(n_learners, n_items)
    grades = Grades(
        submission=sub,
        reviewer=rev,
        score=z,
        n_submissions=n_items,
        n_reviewers=n_learners,
        staff_submission=staff_items,
        staff_score=true[staff_items],
        lo=0.0 if rounding > 0 else None,
        hi=100.0 if rounding > 0 else None,
        step=float(rounding) if rounding > 0 else None,
    )
    return Synthetic(grades, true, bias, rel, kind, n_learners, float(rounding))

"""Entry point: choose a method by name and fit it."""

from __future__ import annotations

from calibration.baselines import fit_median
from calibration.types import Fit, Grades

METHODS = {"median": fit_median}


def fit(grades: Grades, method: str = "median", seed: int = 0) -> Fit:
    """Fit ``grades`` with ``method``; deterministic for a given input and ``seed``."""
    try:
        chosen = METHODS[method]
    except KeyError:
        raise ValueError(f"unknown calibration method {method!r}; known: {sorted(METHODS)}") from None
    return chosen(grades)

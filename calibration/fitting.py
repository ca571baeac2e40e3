"""Entry point: choose a method by name and fit it."""

from __future__ import annotations

from collections.abc import Callable

from calibration.baselines import fit_mean, fit_mean_offset, fit_median
from calibration.model import fit_model
from calibration.selection import fit_auto
from calibration.types import Fit, Grades

METHODS: dict[str, Callable[[Grades, int], Fit]] = {
    "median": lambda grades, seed: fit_median(grades),
    "mean": lambda grades, seed: fit_mean(grades),
    "mean_offset": lambda grades, seed: fit_mean_offset(grades),
    "model": lambda grades, seed: fit_model(grades),
    "auto": fit_auto,
}


def fit(grades: Grades, method: str = "median", seed: int = 0) -> Fit:
    """Fit ``grades`` with ``method``; deterministic for a given input and ``seed``.

    Methods: ``median``, ``mean``, ``mean_offset`` (baselines), ``model`` (PG1 with staff anchors, censoring
    and a low-effort component; see ``calibration.model``) and ``auto`` (whichever of those predicts held-out
    staff scores best; ``seed`` only orders the leave-one-out panels). ``Fit.method`` names the method used.
    """
    try:
        chosen = METHODS[method]
    except KeyError:
        raise ValueError(f"unknown calibration method {method!r}; known: {sorted(METHODS)}") from None
    return chosen(grades, seed)

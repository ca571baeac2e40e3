"""Model selection per assignment: which method best predicts the staff scores it was not given.

Each staff-scored submission is held out in turn: its staff score is hidden, and each method predicts it from
the peer grades alone (with every other staff score still anchoring). Staff samples are usually graded by many
more reviewers than an ordinary submission, which would flatter every method alike; so the held-out item's
peer grades are cut, in a seeded random order, into panels of the typical number of reviews an ordinary
submission gets, and each panel predicts the staff score on its own. The score of a method is the root mean
squared error over items (each item the mean over its panels).

Leave-one-out is exact for mean, median and mean_offset (closed forms). For the model it is the standard
cavity approximation: the messages the held-out item's grades would send if its score were unknown, with each
reviewer's bias estimated without that grade (belief propagation gives this directly) and their reliability
re-estimated without it; the rest of the fit (other reviewers, hyper-parameters) is not refitted.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from calibration.baselines import _group_median, fit_mean, fit_mean_offset, fit_median, stable_group_order
from calibration.model import ModelResult, fit_model_full
from calibration.types import Diagnostics, Fit, Grades, Selection

CANDIDATES = ("model", "mean_offset", "mean", "median")


def _sorted_unique(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(a, return_inverse=True)`` for an already sorted array, without sorting it again."""
    if a.size == 0:
        return a.copy(), np.zeros(0, dtype=np.intp)
    new = np.empty(a.size, dtype=bool)
    new[0] = True
    np.not_equal(a[1:], a[:-1], out=new[1:])
    return a[new], np.cumsum(new) - 1


def _panels(grades: Grades, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Edges used for leave-one-out, the panel of each, the staff item of each panel, and the panel size."""
    sub = np.asarray(grades.submission, dtype=np.int64)
    staff = np.asarray(grades.staff_submission, dtype=np.int64)
    is_staff = np.zeros(grades.n_submissions, dtype=bool)
    is_staff[staff] = True
    counts = np.bincount(sub, minlength=grades.n_submissions)
    ordinary = counts[(counts > 0) & ~is_staff]
    size = int(np.median(ordinary)) if ordinary.size else int(max(counts.max(initial=1), 1))
    size = max(size, 1)
    edges = np.flatnonzero(is_staff[sub])
    if edges.size == 0:
        return edges, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), size
    keys = np.random.default_rng(seed).random(edges.size)
    order = stable_group_order(keys, sub[edges], grades.n_submissions)
    edges = edges[order]
    item = sub[edges]
    n_item = np.bincount(item, minlength=grades.n_submissions)
    start = np.concatenate(([0], np.cumsum(n_item)[:-1]))
    rank = np.arange(edges.size) - start[item]
    full = n_item[item] // size
    # Whole panels only; an item with fewer grades than a panel is one (smaller) panel.
    keep = (rank < full * size) | (full == 0)
    edges, item, rank, full = edges[keep], item[keep], rank[keep], full[keep]
    local = np.where(full == 0, 0, rank // size)
    panel_key = item * (edges.size + 1) + local
    uniq, panel = _sorted_unique(panel_key)
    panel_item = uniq // (edges.size + 1)
    return edges, panel, panel_item, size


def loo_errors(grades: Grades, *, seed: int = 0, model_result: ModelResult | None = None) -> tuple[dict[str, float], Selection]:
    """Leave-one-out RMSE of every candidate on the staff samples (see the module docstring).

    Returns ({method: rmse}, details); empty when no staff-scored submission has peer grades.
    """
    edges, panel, panel_item, size = _panels(grades, seed)
    if edges.size == 0:
        return {}, {"n_staff_scored": 0, "panel_size": size}
    z = np.asarray(grades.score, dtype=np.float64)
    sub = np.asarray(grades.submission, dtype=np.int64)
    truth = np.full(grades.n_submissions, np.nan)
    truth[np.asarray(grades.staff_submission, dtype=np.int64)] = grades.staff_score
    n_panel = panel_item.size
    zp = z[edges]
    cnt = np.bincount(panel, minlength=n_panel)
    panel_mean = np.bincount(panel, weights=zp, minlength=n_panel) / cnt
    preds = {"mean": panel_mean, "median": _group_median(zp, panel, n_panel)}
    # mean_offset without the held-out item: remove its grades from the offset's sums (all its grades).
    on_staff = ~np.isnan(truth[sub])
    diff = np.where(on_staff, truth[sub] - z, 0.0)
    item_sum = np.bincount(sub, weights=diff, minlength=grades.n_submissions)
    item_n = np.bincount(sub, weights=on_staff.astype(np.float64), minlength=grades.n_submissions)
    rest_n = item_n.sum() - item_n[panel_item]
    with np.errstate(invalid="ignore", divide="ignore"):
        offset = np.where(rest_n > 0, (item_sum.sum() - item_sum[panel_item]) / np.maximum(rest_n, 1), 0.0)
    preds["mean_offset"] = panel_mean + offset
    if model_result is None:
        model_result = fit_model_full(grades)
    prec = model_result.gamma + np.bincount(panel, weights=model_result.loo_prec[edges], minlength=n_panel)
    h = model_result.gamma * model_result.mu + np.bincount(panel, weights=model_result.loo_h[edges], minlength=n_panel)
    preds["model"] = h / prec
    target = truth[panel_item]
    items, item_of_panel = _sorted_unique(panel_item)
    out: dict[str, float] = {}
    for name, pred in preds.items():
        if grades.lo is not None:
            pred = np.maximum(pred, grades.lo)
        if grades.hi is not None:
            pred = np.minimum(pred, grades.hi)
        sq = (pred - target) ** 2
        per_item = np.bincount(item_of_panel, weights=sq, minlength=items.size) / np.bincount(item_of_panel, minlength=items.size)
        out[name] = float(np.sqrt(np.mean(per_item)))
    return out, {"n_staff_scored": int(items.size), "panel_size": size, "panels": int(n_panel)}


def fit_auto(grades: Grades, seed: int = 0, *, model_result: ModelResult | None = None) -> Fit:
    """Fit the model and the baselines, and keep the one with the lowest leave-one-out RMSE on the staff
    samples (ties go to the earlier of model, mean_offset, mean, median).

    A small assignment (``calibration.small_data.is_small``) always uses the model. With no staff-scored
    submission graded by peers there is nothing to compare on: the model is used (its
    biases are then relative to the average reviewer, which is what the peer mean assumes too, and it still
    weighs reviewers by reliability and effort). ``diagnostics["selection"]`` records each candidate's LOO
    RMSE, the chosen method, the number of staff items and the panel size. ``model_result`` lets a caller
    that already fitted the model reuse it.
    """
    result = model_result if model_result is not None else fit_model_full(grades)
    errors, details = loo_errors(grades, seed=seed, model_result=result)
    small = bool(result.fit.diagnostics.get("small_data"))
    # On a small assignment a handful of held-out staff scores cannot tell the methods apart, and only the
    # model's intervals carry the uncertainty of its hyper-parameters.
    chosen = "model" if small or not errors else min(CANDIDATES, key=lambda m: (errors[m], CANDIDATES.index(m)))
    fits = {
        "model": lambda: result.fit,
        "mean": lambda: fit_mean(grades),
        "median": lambda: fit_median(grades),
        "mean_offset": lambda: fit_mean_offset(grades),
    }
    fit = fits[chosen]()
    selection: Selection = {"chosen": chosen, "loo_rmse": errors, **details}
    if small:
        selection["reason"] = "small assignment: the model with hyper-priors is used (too few staff scores to choose on)"
    elif not errors:
        selection["reason"] = "no staff-scored submission has peer grades; the model is used (relative biases)"
    diagnostics: Diagnostics = {**fit.diagnostics, "selection": selection}
    return replace(fit, diagnostics=diagnostics)

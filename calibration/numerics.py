"""Numeric kernels of the calibrated model (see calibration.model): plain functions of arrays that know nothing
of how grades, reviewers and submissions are laid out.
"""

from __future__ import annotations

from typing import TypeAlias, cast

import numpy as np
from scipy import special

from calibration.types import BoolArray, FloatArray, IntArray

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
# One group of a reviewer's residuals for _log_lik_nodes: count, sum, sum of squares, extra variance.
_Group: TypeAlias = tuple[FloatArray, FloatArray, FloatArray, FloatArray | float]


def _weighted_bincount(x: IntArray, weights: FloatArray | BoolArray, minlength: int) -> FloatArray:
    """``np.bincount(x, weights=weights, minlength=minlength)``: the sum of the weights per value of ``x``, as
    float64 (numpy's stubs type every bincount as an integer array, weights or not)."""
    return cast(FloatArray, np.bincount(x, weights=weights, minlength=minlength))


def truncnorm_moments(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and variance of a standard normal truncated to [a, b] (a < b, infinite ends allowed).

    Computed in log space after reflecting the interval into the lower tail, so that far-tail intervals (a grade
    many standard deviations from what the rest of the data expect) neither underflow nor lose all precision.
    """
    flip = a > 0
    lo = np.where(flip, -b, a)
    hi = np.where(flip, -a, b)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_lo, log_hi = special.log_ndtr(lo), special.log_ndtr(hi)
        log_z = log_hi + np.log(-np.expm1(log_lo - log_hi))
        p_lo = np.exp(-0.5 * lo * lo - _LOG_SQRT_2PI - log_z)
        p_hi = np.exp(-0.5 * hi * hi - _LOG_SQRT_2PI - log_z)
        lo_p = np.where(np.isfinite(lo), lo * p_lo, 0.0)
        hi_p = np.where(np.isfinite(hi), hi * p_hi, 0.0)
        mean = p_lo - p_hi
        var = 1.0 + lo_p - hi_p - mean * mean
    bad = ~(np.isfinite(mean) & np.isfinite(var))
    if np.any(bad):
        # Only when the interval is numerically empty: fall back to its midpoint (or its finite end).
        mid = np.where(np.isfinite(lo) & np.isfinite(hi), 0.5 * (lo + hi), np.where(np.isfinite(hi), hi, lo))
        mean = np.where(bad, mid, mean)
        var = np.where(bad, 0.0, var)
    mean = np.where(flip, -mean, mean)
    return mean, np.clip(var, 0.0, 1.0)


def _gamma_shape(mean_tau: float, mean_log_tau: float) -> float:
    """Maximum-likelihood Gamma shape from E[tau] and E[log tau] (Minka's Newton iteration on the shape)."""
    c = np.log(mean_tau) - mean_log_tau
    if not np.isfinite(c) or c <= 1e-8:
        return 1e4
    a = (3.0 - c + np.sqrt((c - 3.0) ** 2 + 24.0 * c)) / (12.0 * c)
    for _ in range(6):
        num = np.log(a) - special.digamma(a) - c
        den = 1.0 / a - special.polygamma(1, a)
        a = max(a - num / den, 1e-3)
    return float(np.clip(a, 0.3, 1e4))


def _log_lik_nodes(
    groups: list[_Group],
    centre: float | FloatArray,
    centre_prec: float,
    node_prec: FloatArray,
    node_var: FloatArray | None = None,
) -> FloatArray:
    """log p(residuals of one reviewer | noise precision) with the location integrated out, per reviewer and node.

    Each group is (count, sum, sum of squares, extra variance) per reviewer: residuals that share an extra
    variance (the uncertainty of what they are compared with; a column, or a scalar for the whole group).
    Location ~ N(centre, 1/centre_prec) is integrated exactly. ``node_prec`` is reviewers x nodes (or 1 x
    nodes); the result is reviewers x nodes. ``node_var``, when the caller has it, is ``1 / node_prec``.
    """
    if node_var is None:
        node_var = 1.0 / node_prec
    # Sums over the groups, from 0-d zeros (which broadcast and add exactly like the scalar 0.0).
    big_w: FloatArray = np.zeros(())
    lin: FloatArray = np.zeros(())
    quad: FloatArray = np.zeros(())
    log_det: FloatArray = np.zeros(())
    total: FloatArray = np.zeros(())
    for n, s1, s2, extra in groups:
        w = 1.0 / (node_var + extra)
        nw = n * w
        big_w = big_w + nw
        lin = lin + w * s1
        quad = quad + w * s2
        log_det = log_det + n * np.log(w)
        total = total + n
    lin = lin + centre_prec * centre
    quad = quad + centre_prec * centre * centre
    post = centre_prec + big_w
    out: FloatArray = 0.5 * (log_det + np.log(centre_prec / post) - quad + lin * lin / post) - total * _LOG_SQRT_2PI
    return out


def _row_max(x: FloatArray) -> FloatArray:
    """``np.max(x, axis=1)`` of a reviewers x nodes matrix, column by column: numpy's reduction along a short
    contiguous axis is several times slower than a few element-wise maxima over the columns."""
    top: FloatArray = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        np.maximum(top, x[:, j], out=top)
    return top


def _logsumexp_rows(x: FloatArray) -> FloatArray:
    top: FloatArray = _row_max(x)
    out: FloatArray = top + np.log(np.exp(x - top[:, None]) @ np.ones(x.shape[1]))
    return out

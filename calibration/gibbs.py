"""A Gibbs sampler of the exact generating model of ``calibration.synthetic``, with its true hyper-parameters.

It is the benchmark's yardstick (close to the best any method can do), not something the service runs.
Model: s_j ~ N(mu, sd_s^2) (staff samples known), b_i ~ N(0, sd_b^2), tau_i ~ Gamma(shape, rate); reviewer
kind ~ Categorical(normal, careless, adversarial) with the generating shares; a normal reviewer's latent grade
y_ij ~ N(s_j + b_i, 1/tau_i), observed as is or, with rounding R, as round(y/R)*R clipped to [0, 100]; a
careless reviewer gives 100; an adversarial one rounds a Uniform(0, 100) draw. Rounding is handled by data
augmentation (latent y drawn from its truncated normal). Several chains run side by side as one array, and
the split R-hat of every submission's score is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from calibration.numerics import _weighted_bincount
from calibration.synthetic import BIAS_SD, NORMAL, REL_RATE, REL_SHAPE, TRUE_MEAN, TRUE_SD
from calibration.types import FloatArray, Grades


@dataclass(frozen=True)
class GibbsResult:
    """Posterior mean, sd and equal-tailed 95% interval per submission, and the split R-hat diagnostics."""

    mean: np.ndarray
    sd: np.ndarray
    low: np.ndarray
    high: np.ndarray
    rhat_max: float
    rhat_median: float


def _sample_truncnorm(rng: np.random.Generator, mean: FloatArray, sd: FloatArray, lower: FloatArray, upper: FloatArray) -> FloatArray:
    """Draw N(mean, sd^2) restricted to [lower, upper] by the inverse CDF, reflected into the lower tail."""
    a = (lower - mean) / sd
    b = (upper - mean) / sd
    flip = a > 0
    lo = np.where(flip, -b, a)
    hi = np.where(flip, -a, b)
    p_lo, p_hi = special.ndtr(lo), special.ndtr(hi)
    u = rng.random(mean.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = special.ndtri(p_lo + u * (p_hi - p_lo))
    # Numerically empty far-tail intervals: take the end nearest the mass.
    x = np.where(np.isfinite(x), x, np.where(np.isfinite(hi), hi, lo))
    x = np.clip(x, lo, hi)
    x = np.where(flip, -x, x)
    draw: FloatArray = mean + sd * x
    return draw


def run_gibbs(
    grades: Grades,
    *,
    careless: float = 0.0,
    adversarial: float = 0.0,
    rounding: float = 0.0,
    sweeps: int = 2000,
    burn_in: int = 300,
    chains: int = 4,
    seed: int = 0,
) -> GibbsResult:
    """Sample the posterior of the true scores under the generating model (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n_sub, n_rev = grades.n_submissions, grades.n_reviewers
    sub = np.asarray(grades.submission, dtype=np.int64)
    rev = np.asarray(grades.reviewer, dtype=np.int64)
    z = np.asarray(grades.score, dtype=np.float64)
    known = np.zeros(n_sub, dtype=bool)
    known[grades.staff_submission] = True
    truth = np.zeros(n_sub)
    truth[grades.staff_submission] = grades.staff_score
    gamma, eta = 1.0 / TRUE_SD**2, 1.0 / BIAS_SD**2
    c = chains
    # Chain c's copy of an index: offset into one flat array so one bincount serves all chains.
    sub_c = (sub[None, :] + n_sub * np.arange(c)[:, None]).ravel()
    rev_c = (rev[None, :] + n_rev * np.arange(c)[:, None]).ravel()
    if rounding > 0:
        lower = np.where(z <= 0.0, -np.inf, z - rounding / 2)
        upper = np.where(z >= 100.0, np.inf, z + rounding / 2)
    # Over-dispersed starts, so that R-hat can see chains that have not mixed.
    s = np.where(known[None, :], truth[None, :], TRUE_MEAN + 2 * TRUE_SD * rng.standard_normal((c, n_sub)))
    b = 2 * BIAS_SD * rng.standard_normal((c, n_rev))
    tau = rng.gamma(REL_SHAPE, 1.0 / REL_RATE, (c, n_rev))
    kind = np.full((c, n_rev), NORMAL, dtype=np.int8)
    shares = np.array([1.0 - careless - adversarial, careless, adversarial])
    mixture = careless > 0 or adversarial > 0
    if mixture:
        # Type log-likelihood pieces that do not change between sweeps.
        all_100 = np.bincount(rev, weights=(z != 100.0), minlength=n_rev) == 0
        n_per = np.bincount(rev, minlength=n_rev)
        if rounding > 0:
            cell = np.where((z <= 0.0) | (z >= 100.0), rounding / 200.0, rounding / 100.0)
            ll_adv = np.bincount(rev, weights=np.log(cell), minlength=n_rev)
        else:
            ll_adv = -np.log(100.0) * n_per
        ll_care = np.where(all_100, 0.0, -np.inf)
    kept = sweeps
    samples = np.empty((kept, c, n_sub), dtype=np.float32)
    for it in range(burn_in + sweeps):
        is_normal = (kind == NORMAL)[:, rev].ravel()
        s_e, b_e, tau_e = s[:, sub].ravel(), b[:, rev].ravel(), tau[:, rev].ravel()
        if rounding > 0:
            m = s_e + b_e
            y = _sample_truncnorm(rng, m, 1.0 / np.sqrt(tau_e), np.tile(lower, c), np.tile(upper, c))
        else:
            y = np.tile(z, c)
        w = np.where(is_normal, tau_e, 0.0)
        prec = gamma + _weighted_bincount(sub_c, w, c * n_sub)
        h = gamma * TRUE_MEAN + _weighted_bincount(sub_c, w * (y - b_e), c * n_sub)
        draw = h / prec + rng.standard_normal(c * n_sub) / np.sqrt(prec)
        s = np.where(known[None, :], truth[None, :], draw.reshape(c, n_sub))
        s_e = s[:, sub].ravel()
        prec = eta + _weighted_bincount(rev_c, w, c * n_rev)
        h = _weighted_bincount(rev_c, w * (y - s_e), c * n_rev)
        b = (h / prec + rng.standard_normal(c * n_rev) / np.sqrt(prec)).reshape(c, n_rev)
        b_e = b[:, rev].ravel()
        resid2 = np.where(is_normal, (y - s_e - b_e) ** 2, 0.0)
        cnt = np.bincount(rev_c, weights=is_normal.astype(np.float64), minlength=c * n_rev)
        ss = np.bincount(rev_c, weights=resid2, minlength=c * n_rev)
        tau = rng.gamma(REL_SHAPE + 0.5 * cnt, 1.0 / (REL_RATE + 0.5 * ss)).reshape(c, n_rev)
        if mixture:
            tau_e = tau[:, rev].ravel()
            m = s_e + b_e
            if rounding > 0:
                sd = 1.0 / np.sqrt(tau_e)
                lo_c = np.tile(lower, c)
                hi_c = np.tile(upper, c)
                a_ = (lo_c - m) / sd
                b_ = (hi_c - m) / sd
                flip = a_ > 0
                l2, h2 = np.where(flip, -b_, a_), np.where(flip, -a_, b_)
                with np.errstate(divide="ignore"):
                    la, lb = special.log_ndtr(l2), special.log_ndtr(h2)
                    ll = lb + np.log(-np.expm1(np.minimum(la - lb, -1e-300)))
            else:
                ll = 0.5 * np.log(tau_e) - 0.5 * np.log(2 * np.pi) - 0.5 * tau_e * (np.tile(z, c) - m) ** 2
            ll_norm = np.bincount(rev_c, weights=ll, minlength=c * n_rev).reshape(c, n_rev)
            if rounding <= 0:
                # A normal reviewer gives exactly 100 every time with probability 0.
                ll_norm = np.where(all_100[None, :], -np.inf, ll_norm)
                adv = np.broadcast_to(np.where(all_100, -np.inf, ll_adv)[None, :], (c, n_rev))
            else:
                adv = np.broadcast_to(ll_adv[None, :], (c, n_rev))
            with np.errstate(divide="ignore"):
                logp = np.stack([ll_norm, np.broadcast_to(ll_care[None, :], (c, n_rev)), adv], axis=-1) + np.log(shares)[None, None, :]
            logp -= special.logsumexp(logp, axis=-1, keepdims=True)
            cum = np.cumsum(np.exp(logp), axis=-1)
            u = rng.random((c, n_rev, 1))
            kind = np.minimum(np.sum(u > cum, axis=-1), 2).astype(np.int8)
            kind = np.where(n_per[None, :] == 0, NORMAL, kind)
        if it >= burn_in:
            samples[it - burn_in] = s
    flat = samples.reshape(kept * c, n_sub).astype(np.float64)
    mean = flat.mean(axis=0)
    sd = flat.std(axis=0)
    low, high = np.quantile(flat, [0.025, 0.975], axis=0)
    # Split R-hat (Gelman et al.): every chain cut in two halves, between/within variance of the 2c pieces.
    half = kept // 2
    pieces = np.concatenate([samples[:half], samples[half : 2 * half]], axis=1).astype(np.float64)  # half x 2c x n
    piece_mean = pieces.mean(axis=0)
    within = pieces.var(axis=0, ddof=1).mean(axis=0)
    between = half * piece_mean.var(axis=0, ddof=1)
    free = ~known & (np.bincount(sub, minlength=n_sub) > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rhat = np.sqrt(((half - 1) / half * within + between / half) / within)
    rhat = rhat[free]
    return GibbsResult(mean, sd, low, high, float(np.max(rhat)) if rhat.size else 1.0, float(np.median(rhat)) if rhat.size else 1.0)

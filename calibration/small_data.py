"""Small assignments: the calibrated model with weakly informative hyper-priors, integrated by Gibbs sampling.

On a handful of grades, empirical Bayes (calibration.model) is not honest: maximising over the spread of the
true scores, of the biases and of the noise lets a few grades shrink a prior variance to nothing, and plugging
the maximised values in hides their uncertainty. Here the hyper-parameters get priors scaled to the rubric's
range R and are integrated out with the true scores, biases and reliabilities::

    true score        s_j ~ N(mu, 1/gamma)          mu ~ N(centre of the scale, (R/2)^2)
                                                    1/gamma ~ InvGamma(A_SCORE, (A_SCORE + 1) (SCORE_SD R)^2)
    reviewer bias     b_i ~ N(mu_b, 1/eta)          mu_b = 0 without staff samples (biases relative), else
                                                    mu_b ~ N(0, (MEAN_BIAS_SD R)^2)
                                                    1/eta ~ InvGamma(A_BIAS, (A_BIAS + 1) (BIAS_SD R)^2)
    reliability       tau_i ~ Gamma(alpha, beta)    alpha uniform on SHAPES;
                                                    beta | alpha ~ Gamma(A_NOISE, A_NOISE / (alpha (NOISE_SD R)^2))
    latent grade      y_ij ~ N(s_j + b_i, 1/tau_i), observed as is, or as its rounding cell / censored tail.

The inverse-gamma priors are zero at zero variance (the mode sits at the stated fraction of R), so no prior
spread can collapse; beta's prior keeps the typical noise variance beta/alpha near (NOISE_SD R)^2 a priori.
A reviewer with a prior of their own (``Grades.reviewer_prior``: what earlier assignments of the course taught
about them) takes b_i ~ N(bias_mean_i, bias_sd_i^2) and tau_i ~ Gamma(shape_i, rate_i) instead, and does not
inform the population's hyper-parameters.

Gibbs sampling, several chains side by side as one array (vectorised over every grade: no loop per review):
s | rest and b | rest are Gaussian, tau | rest Gamma, the hyper-parameters conjugate (alpha on its grid), and a
censored or rounded grade is replaced by a latent draw from its truncated normal. The random numbers come from
a fixed seed, so a fit is deterministic for a given input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from calibration.gibbs import _sample_truncnorm
from calibration.layout import _intervals
from calibration.numerics import _weighted_bincount
from calibration.types import FloatArray, Grades, IntArray

# Prior scales, as fractions of the scale's range R (see the module docstring): modes of a spread of true
# scores of 15% of the range, reviewer biases of 5% and reviewer noise of 7% (what rubric-graded peer review
# typically shows, and the PG1 protocol of calibration.synthetic); the shapes are small, so the data move them
# freely once there are more than a handful of grades. (Chosen with `python -m calibration.bench small`.)
SCORE_SD, BIAS_SD, NOISE_SD, MEAN_BIAS_SD = 0.15, 0.05, 0.07, 0.1
A_SCORE, A_BIAS, A_NOISE = 1.5, 1.5, 3.0
SHAPES = np.array([1.5, 2.0, 3.0, 5.0, 8.0, 13.0])
# Above this many graded submissions the empirical-Bayes fit is used (the hyper-parameters are then well
# determined and the sampler's cost would grow with the assignment).
SMALL_SUBMISSIONS = 200

# Four chains of 350 sweeps: the recalibration after every review runs this for each criterion, and on
# assignments this small the intervals' Monte Carlo error is well below their width (the bench checks coverage).
CHAINS, BURN_IN, DRAWS = 4, 100, 250


@dataclass(frozen=True)
class SmallFit:
    """Posterior summaries of the sampler: per submission and per reviewer, plus the split R-hat."""

    mean: FloatArray
    sd: FloatArray
    low: FloatArray
    high: FloatArray
    reviewer_bias: FloatArray
    reviewer_bias_sd: FloatArray
    reviewer_reliability: FloatArray
    reviewer_reliability_shape: FloatArray
    reviewer_reliability_rate: FloatArray
    reviewer_weight: FloatArray
    grade_weight: FloatArray
    mu: float
    sd_true_score: float
    mean_bias: float
    sd_bias: float
    reliability_shape: float
    reliability_rate: float
    rhat_max: float


def is_small(grades: Grades) -> bool:
    """Whether ``grades`` is a small assignment (at most SMALL_SUBMISSIONS graded submissions without a staff
    score), which the sampler fits instead of empirical Bayes."""
    sub = np.asarray(grades.submission, dtype=np.int64)
    if sub.size == 0:
        return False
    graded = np.zeros(grades.n_submissions, dtype=bool)
    graded[sub] = True
    graded[np.asarray(grades.staff_submission, dtype=np.int64)] = False
    return int(np.sum(graded)) <= SMALL_SUBMISSIONS


def scale_range(grades: Grades) -> tuple[float, float]:
    """The scale's centre and range R that the priors are scaled to: the rubric's bounds when known, else the
    spread of the grades and staff scores (at least a tenth of their magnitude, and 1)."""
    if grades.lo is not None and grades.hi is not None and grades.hi > grades.lo:
        return 0.5 * (grades.lo + grades.hi), float(grades.hi - grades.lo)
    values = np.concatenate([np.asarray(grades.score, dtype=np.float64), np.asarray(grades.staff_score, dtype=np.float64)])
    if values.size == 0:
        return 0.0, 1.0
    spread = max(float(np.ptp(values)), 4.0 * float(np.std(values)), 0.1 * float(np.max(np.abs(values))), 1.0)
    return float(np.mean(values)), spread


def _split_rhat(samples: FloatArray) -> FloatArray:
    """Split R-hat (Gelman et al.) per column of draws x chains x n."""
    half = samples.shape[0] // 2
    pieces = np.concatenate([samples[:half], samples[half : 2 * half]], axis=1)
    within = pieces.var(axis=0, ddof=1).mean(axis=0)
    between = half * pieces.mean(axis=0).var(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rhat: FloatArray = np.sqrt(((half - 1) / half * within + between / half) / within)
    return rhat


def fit_small(grades: Grades, *, seed: int = 0, chains: int = CHAINS, burn_in: int = BURN_IN, draws: int = DRAWS) -> SmallFit:
    """Sample the posterior of the model in the module docstring and summarise it.

    Per submission: posterior mean, sd and the equal-tailed 95% interval of the true score (on the scale: the
    draws are clipped to ``lo``/``hi``); per reviewer: posterior mean and sd of the bias, mean of the
    reliability and a Gamma with its two moments, and the effective weight of one grade; per grade its share
    of its submission's precision. Staff-scored submissions keep their staff score; ungraded ones are NaN.
    """
    rng = np.random.default_rng(seed)
    n_sub, n_rev, c = int(grades.n_submissions), int(grades.n_reviewers), chains
    sub: IntArray = np.asarray(grades.submission, dtype=np.int64)
    rev: IntArray = np.asarray(grades.reviewer, dtype=np.int64)
    z = np.asarray(grades.score, dtype=np.float64)
    staff = np.asarray(grades.staff_submission, dtype=np.int64)
    known = np.zeros(n_sub, dtype=bool)
    known[staff] = True
    truth = np.zeros(n_sub)
    truth[staff] = np.asarray(grades.staff_score, dtype=np.float64)
    has_staff = bool(staff.size)
    centre, r = scale_range(grades)
    lower, upper, censored = _intervals(grades, z)
    any_censored = bool(np.any(censored))
    e = z.size
    # Chain c's copy of an index: offset into one flat array, so one bincount serves every chain.
    sub_c = (sub[None, :] + n_sub * np.arange(c)[:, None]).ravel()
    rev_c = (rev[None, :] + n_rev * np.arange(c)[:, None]).ravel()
    n_per_rev = np.bincount(rev, minlength=n_rev).astype(np.float64)
    # Reviewers with a prior of their own (earlier assignments) and the population ones.
    prior = grades.reviewer_prior
    own_bias = np.zeros(n_rev, dtype=bool)
    own_rel = np.zeros(n_rev, dtype=bool)
    pb_mean, pb_prec, pr_shape, pr_rate = np.zeros(n_rev), np.ones(n_rev), np.ones(n_rev), np.ones(n_rev)
    if prior is not None:
        own_bias = np.isfinite(prior.bias_mean) & np.isfinite(prior.bias_sd) & (prior.bias_sd > 0)
        own_rel = np.isfinite(prior.reliability_shape) & np.isfinite(prior.reliability_rate)
        own_rel &= (prior.reliability_shape > 0) & (prior.reliability_rate > 0)
        pb_mean = np.where(own_bias, prior.bias_mean, 0.0)
        pb_prec = np.where(own_bias, 1.0 / np.where(own_bias, prior.bias_sd, 1.0) ** 2, 1.0)
        pr_shape = np.where(own_rel, prior.reliability_shape, 1.0)
        pr_rate = np.where(own_rel, prior.reliability_rate, 1.0)
    pop_bias = ~own_bias
    pop_rel = ~own_rel
    any_own_bias, any_own_rel = bool(np.any(own_bias)), bool(np.any(own_rel))
    half_n = 0.5 * n_per_rev[None, :]
    n_pop_bias, n_pop_rel = float(np.sum(pop_bias)), float(np.sum(pop_rel))
    # Hyper-prior constants.
    mu_prec0 = 1.0 / (0.5 * r) ** 2
    b_score = (A_SCORE + 1.0) * (SCORE_SD * r) ** 2
    b_bias = (A_BIAS + 1.0) * (BIAS_SD * r) ** 2
    mb_prec0 = 1.0 / (MEAN_BIAS_SD * r) ** 2
    noise_var = (NOISE_SD * r) ** 2
    # Starting points: spread out (a chain per corner of the prior), so that R-hat can see chains that disagree.
    mu = centre + 0.1 * r * rng.standard_normal(c)
    gamma = 1.0 / (SCORE_SD * r * np.exp(0.5 * rng.standard_normal(c))) ** 2
    eta = 1.0 / (BIAS_SD * r * np.exp(0.5 * rng.standard_normal(c))) ** 2
    mu_b = np.zeros(c)
    alpha = rng.choice(SHAPES, c)
    beta = alpha * noise_var * np.exp(0.5 * rng.standard_normal(c))
    tau = rng.gamma(alpha[:, None], 1.0 / beta[:, None], (c, n_rev))
    tau = np.where(own_rel[None, :], pr_shape / pr_rate, tau)
    b = np.where(own_bias[None, :], pb_mean, 0.0) + 0.5 * BIAS_SD * r * rng.standard_normal((c, n_rev))
    s = np.where(known[None, :], truth[None, :], mu[:, None] + rng.standard_normal((c, n_sub)) / np.sqrt(gamma)[:, None])
    lower_c, upper_c, cens_c = np.tile(lower, c), np.tile(upper, c), np.tile(censored, c)
    z_c = np.tile(z, c)
    free = ~known
    log_shapes = special.gammaln(SHAPES)
    keep_s = np.empty((draws, c, n_sub))
    keep_b = np.empty((draws, c, n_rev))
    keep_tau = np.empty((draws, c, n_rev))
    keep_inv_tau = np.empty((draws, c, n_rev))
    keep_hyper = np.empty((draws, c, 6))
    for it in range(burn_in + draws):
        s_e, b_e, tau_e = s.ravel()[sub_c], b.ravel()[rev_c], tau.ravel()[rev_c]
        if any_censored:
            y = _sample_truncnorm(rng, s_e + b_e, 1.0 / np.sqrt(tau_e), lower_c, upper_c)
            y = np.where(cens_c, y, z_c)
        else:
            y = z_c
        # True scores.
        prec = np.repeat(gamma, n_sub) + _weighted_bincount(sub_c, tau_e, c * n_sub)
        h = np.repeat(gamma * mu, n_sub) + _weighted_bincount(sub_c, tau_e * (y - b_e), c * n_sub)
        draw = (h / prec + rng.standard_normal(c * n_sub) / np.sqrt(prec)).reshape(c, n_sub)
        s = np.where(known[None, :], truth[None, :], draw) if has_staff else draw
        s_e = s.ravel()[sub_c]
        # Biases.
        if any_own_bias:
            prior_prec = np.where(own_bias[None, :], pb_prec[None, :], eta[:, None]).ravel()
            prior_h = np.where(own_bias[None, :], (pb_prec * pb_mean)[None, :], (eta * mu_b)[:, None]).ravel()
        else:
            prior_prec, prior_h = np.repeat(eta, n_rev), np.repeat(eta * mu_b, n_rev)
        prec = prior_prec + _weighted_bincount(rev_c, tau_e, c * n_rev)
        h = prior_h + _weighted_bincount(rev_c, tau_e * (y - s_e), c * n_rev)
        b = (h / prec + rng.standard_normal(c * n_rev) / np.sqrt(prec)).reshape(c, n_rev)
        b_e = b.ravel()[rev_c]
        # Reliabilities.
        ss = _weighted_bincount(rev_c, (y - s_e - b_e) ** 2, c * n_rev).reshape(c, n_rev)
        if any_own_rel:
            shape = np.where(own_rel[None, :], pr_shape[None, :], alpha[:, None]) + half_n
            rate = np.where(own_rel[None, :], pr_rate[None, :], beta[:, None]) + 0.5 * ss
        else:
            shape, rate = alpha[:, None] + half_n, beta[:, None] + 0.5 * ss
        # standard_gamma / rate: numpy's gamma(shape, scale) costs several times more on arrays this small.
        tau = rng.standard_gamma(shape) / rate
        # Population of true scores (the staff-scored ones belong to it too).
        n_s = float(n_sub)
        s_sum = s.sum(axis=1)
        m_prec = mu_prec0 + gamma * n_s
        mu = (mu_prec0 * centre + gamma * s_sum) / m_prec + rng.standard_normal(c) / np.sqrt(m_prec)
        ss_s = np.sum((s - mu[:, None]) ** 2, axis=1)
        gamma = rng.standard_gamma(A_SCORE + 0.5 * n_s, c) / (b_score + 0.5 * ss_s)
        # Population of biases.
        if has_staff and n_pop_bias > 0:
            mb_p = mb_prec0 + eta * n_pop_bias
            mu_b = eta * np.sum(np.where(pop_bias[None, :], b, 0.0), axis=1) / mb_p + rng.standard_normal(c) / np.sqrt(mb_p)
        dev_b = (b - mu_b[:, None]) ** 2
        ss_b = np.sum(np.where(pop_bias[None, :], dev_b, 0.0) if any_own_bias else dev_b, axis=1)
        eta = rng.standard_gamma(A_BIAS + 0.5 * n_pop_bias, c) / (b_bias + 0.5 * ss_b)
        # Population of reliabilities: beta | alpha conjugate, then alpha on its grid given beta.
        if any_own_rel:
            tau_sum = np.sum(np.where(pop_rel[None, :], tau, 0.0), axis=1)
            log_tau_sum = np.sum(np.where(pop_rel[None, :], np.log(tau), 0.0), axis=1)
        else:
            tau_sum, log_tau_sum = tau.sum(axis=1), np.log(tau).sum(axis=1)
        beta = rng.standard_gamma(A_NOISE + n_pop_rel * alpha) / (A_NOISE / (alpha * noise_var) + tau_sum)
        a = SHAPES[None, :]
        rate0 = A_NOISE / (a * noise_var)
        log_p = n_pop_rel * (a * np.log(beta)[:, None] - log_shapes[None, :]) + (a - 1.0) * log_tau_sum[:, None]
        log_p += A_NOISE * np.log(rate0) - rate0 * beta[:, None]
        # Normalised by hand: scipy's logsumexp costs more than the rest of this step on arrays this small.
        p_alpha = np.exp(log_p - log_p.max(axis=1, keepdims=True))
        p_alpha /= p_alpha.sum(axis=1, keepdims=True)
        pick = np.sum(rng.random((c, 1)) > np.cumsum(p_alpha, axis=1), axis=1)
        alpha = SHAPES[np.minimum(pick, SHAPES.size - 1)]
        if it >= burn_in:
            k = it - burn_in
            keep_s[k], keep_b[k], keep_tau[k], keep_inv_tau[k] = s, b, tau, 1.0 / tau
            keep_hyper[k] = np.stack([mu, 1.0 / np.sqrt(gamma), mu_b, 1.0 / np.sqrt(eta), alpha, beta], axis=1)
    flat = keep_s.reshape(draws * c, n_sub)
    if grades.lo is not None:
        flat = np.maximum(flat, grades.lo)
    if grades.hi is not None:
        flat = np.minimum(flat, grades.hi)
    mean = flat.mean(axis=0)
    sd = flat.std(axis=0)
    low, high = np.quantile(flat, [0.025, 0.975], axis=0)
    graded = np.bincount(sub, minlength=n_sub) > 0
    hyper = keep_hyper.reshape(draws * c, 6).mean(axis=0)
    if not has_staff and not np.any(own_bias) and e:
        # Biases are only relative here (nothing anchors them): a handful of other grades of the same reviewers
        # cannot honestly place a score beyond every grade it got, except towards the population's centre.
        g_lo = np.full(n_sub, np.inf)
        g_hi = np.full(n_sub, -np.inf)
        np.minimum.at(g_lo, sub, z)
        np.maximum.at(g_hi, sub, z)
        mean = np.where(graded, np.clip(mean, np.minimum(g_lo, hyper[0]), np.maximum(g_hi, hyper[0])), mean)
    # A posterior piled against a bound can put its mean on the interval's edge: the median is inside.
    median = np.median(flat, axis=0)
    mean = np.where((mean <= low) | (mean >= high), median, mean)
    rhat = _split_rhat(keep_s[:, :, graded & free]) if np.any(graded & free) else np.ones(0)
    ungraded = ~graded & free
    for arr in (mean, sd, low, high):
        arr[ungraded] = np.nan
        arr[known] = truth[known]
    sd[known] = 0.0
    b_flat = keep_b.reshape(draws * c, n_rev)
    tau_flat = keep_tau.reshape(draws * c, n_rev)
    e_tau = tau_flat.mean(axis=0)
    var_tau = np.maximum(tau_flat.var(axis=0), 1e-12 * e_tau**2)
    b_var = b_flat.var(axis=0)
    per_grade = 1.0 / (keep_inv_tau.reshape(draws * c, n_rev).mean(axis=0) + b_var)
    has_rev = n_per_rev > 0
    ref = float(np.mean(per_grade[has_rev])) if np.any(has_rev) else 1.0
    grade_weight = np.zeros(e)
    if e:
        s_prec = 1.0 / (hyper[1] ** 2) + _weighted_bincount(sub, e_tau[rev], n_sub)
        grade_weight = np.where(known[sub], 0.0, e_tau[rev] / s_prec[sub])
    return SmallFit(
        mean=mean,
        sd=sd,
        low=low,
        high=high,
        reviewer_bias=b_flat.mean(axis=0),
        reviewer_bias_sd=np.sqrt(b_var),
        reviewer_reliability=e_tau,
        reviewer_reliability_shape=e_tau**2 / var_tau,
        reviewer_reliability_rate=e_tau / var_tau,
        reviewer_weight=per_grade / ref if ref > 0 else per_grade,
        grade_weight=grade_weight,
        mu=float(hyper[0]),
        sd_true_score=float(hyper[1]),
        mean_bias=float(hyper[2]),
        sd_bias=float(hyper[3]),
        reliability_shape=float(hyper[4]),
        reliability_rate=float(hyper[5]),
        rhat_max=float(np.nanmax(rhat)) if rhat.size else 1.0,
    )

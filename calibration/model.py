"""The calibrated model: PG1 with staff anchors, honest rounding and bounds, and a low-effort component.

Model (per criterion of one assignment)::

    true score        s_j ~ N(mu, 1/gamma)                (staff-scored submissions: s_j known)
    reviewer bias     b_i ~ N(mu_b, 1/eta)                (mu_b = 0 without staff samples: biases relative)
    reliability       tau_i ~ Gamma(alpha, beta)          (precision of the reviewer's noise)
    effort            e_i ~ Bernoulli(1 - pi)
    latent grade      y_ij ~ N(s_j + b_i, 1/tau_i)        if the reviewer made an effort,
                      z_ij ~ N(m_i, sigma_i^2) iid         otherwise (grades unrelated to the work,
                                                           m_i ~ N(grade mean, grade variance),
                                                           sigma_i log-uniform: constant grades and random
                                                           grades alike)
    observed grade    z_ij = y_ij, or only the rounding cell / the censored tail that contains y_ij when the
                      scale is discrete (``step``) or bounded (``lo``/``hi``).

PG1 is Piech et al. (2013); the low-effort component follows Zarkoob et al. (AAAI 2023). Inference is
approximate and deterministic, vectorised over every grade at once (no loop per review):

* Given the reliabilities, (s, b) form a Gaussian model on the bipartite reviewer-submission graph; Gaussian
  belief propagation gives its marginals, and the "cavity" belief of each edge (everything except that one
  grade), which is exact on trees and close to exact on the sparse random graphs of peer review.
* Rounded and censored grades enter through expectation propagation: each one is replaced by the Gaussian
  pseudo-observation that matches the moments of the truncated-normal tilted distribution.
* Reliabilities get their variational Gamma posterior from the expected squared residuals.
* Each reviewer's low-effort probability compares the marginal likelihood of their grades under both
  components (1-D quadrature over the noise scale, bias and centre integrated analytically); a reviewer's
  grades count in the submissions' scores with weight (1 - that probability).
* Hyper-parameters (mu, gamma, mu_b, eta, alpha, beta, pi) are empirical Bayes: maximised in the same loop
  (EM on the current beliefs), with weak, scale-free guards so that tiny assignments stay finite.
* Small assignments take their scores and reviewer estimates from calibration.small_data instead: the same
  model with weakly informative hyper-priors scaled to the rubric's range, integrated by seeded Gibbs sampling
  (and reviewers' priors from their earlier assignments), so that a handful of grades cannot claim a
  certainty they lack.

Large assignments are memory-bound, so the layout matters as much as the arithmetic: reviewers and
submissions are relabelled in breadth-first order of the review graph and grades sorted by reviewer (pure
relabelling; outputs come back in the caller's labels and order), and the belief-propagation pass runs fused
over cache-sized runs of whole reviewers with preallocated buffers (see calibration.propagation._bp_pass), so that an iteration
costs about the same per grade at a million grades as at a hundred thousand.

This module is the public fit (fit_model, fit_model_full and its ModelResult; the loop and its result). The
rest lives beside it: calibration.layout (the indexed input and the state), calibration.propagation (belief
propagation and EP sites), calibration.updates (reliabilities, effort, hyper-parameters) and
calibration.numerics (the numeric kernels).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from calibration.layout import _N_LOW_NODES, _Problem, _State
from calibration.numerics import _weighted_bincount, truncnorm_moments
from calibration.propagation import (
    _bias_beliefs,
    _bias_cavity,
    _bp_pass,
    _messages_to_submission,
    _residual_sums,
    _submission_beliefs,
    _submission_cavity,
    _update_sites,
)
from calibration.small_data import SmallFit, fit_small, is_small
from calibration.types import Diagnostics, Fit, FloatArray, Grades
from calibration.updates import LOW_PSEUDO, _update_hyper, _update_reviewers

__all__ = ["LOW_PSEUDO", "ModelResult", "fit_model", "fit_model_full", "truncnorm_moments"]

_Z95 = float(stats.norm.ppf(0.975))


@dataclass
class ModelResult:
    """A fitted model plus what leave-one-out needs: per edge, the message the grade would send to its
    submission if the submission's own staff score were not known (reliability re-estimated without it)."""

    fit: Fit
    loo_prec: FloatArray
    loo_h: FloatArray
    mu: float
    gamma: float


def _initial_state(p: _Problem) -> _State:
    """The state the fit starts from: moment estimates of the hyper-parameters, unit sites, no messages yet."""
    counts = np.maximum(p.sub_count, 1)
    sums = _weighted_bincount(p.sub, p.z, p.n_sub)
    means = sums / counts
    resid = p.z - means[p.sub]
    df = float(np.sum(np.maximum(p.sub_count - 1, 0)))
    within = float(np.sum(resid**2) / df) if df > 0 else p.scale**2 / 2.0
    within = max(within, (1e-3 * p.scale) ** 2)
    graded = p.sub_count > 0
    between = float(np.var(means[graded])) if np.sum(graded) > 1 else p.scale**2
    centres = np.concatenate([means[graded & ~p.known], p.truth[p.known]])
    mu = float(np.mean(centres)) if centres.size else p.z_mean
    var_s = max(between - within / max(float(np.mean(counts[graded])) if np.any(graded) else 1.0, 1.0), 0.1 * within)
    alpha = 2.0
    tau0 = 1.0 / within
    e = p.z.size
    return _State(
        mu=mu,
        gamma=1.0 / var_s,
        mu_b=0.0,
        eta=1.0 / max(0.25 * within, (1e-3 * p.scale) ** 2),
        alpha=alpha,
        beta=alpha / tau0,
        pi=0.05,
        tau=np.full(p.n_rev, tau0),
        tau_h=np.full(p.n_rev, tau0),
        tau_a=np.full(p.n_rev, alpha),
        tau_b=np.full(p.n_rev, alpha / tau0),
        low_effort=np.zeros(p.n_rev),
        low_logw=np.full(_N_LOW_NODES, -np.log(_N_LOW_NODES)),
        site_prec=np.ones(e),
        site_obs=p.z.copy(),
        msg_s_prec=np.zeros(e),
        msg_s_h=np.zeros(e),
        msg_b_prec=np.zeros(e),
        msg_b_h=np.zeros(e),
        ee2=np.full(e, within),
    )


def fit_model_full(
    grades: Grades, *, max_iter: int = 300, tol: float = 2e-4, low_effort: bool = True, small_data: bool | None = None
) -> ModelResult:
    """Fit the calibrated model (see the module docstring) and keep the leave-one-out messages.

    Iterates belief propagation, EP sites, reliabilities/effort and hyper-parameters until the submissions'
    means move by less than ``tol`` x the spread of the grades (root mean square) between two passes.

    On a small assignment (``small_data``; by default ``calibration.small_data.is_small``) the scores, their
    intervals and the reviewers' biases and reliabilities come from ``calibration.small_data.fit_small``
    (weakly informative hyper-priors, integrated by Gibbs sampling, and ``grades.reviewer_prior`` when given)
    instead: empirical Bayes is not honest on a handful of grades. The low-effort probabilities and the
    leave-one-out messages still come from the loop above. A large assignment's own grades tell more about
    its reviewers than their earlier assignments do: the loop ignores ``reviewer_prior``.
    """
    result = _fit_em(grades, max_iter=max_iter, tol=tol, low_effort=low_effort)
    if small_data is None:
        small_data = is_small(grades)
    if not small_data or grades.score.size == 0:
        return result
    return _with_small(result, fit_small(grades))


def _with_small(result: ModelResult, small: SmallFit) -> ModelResult:
    """The empirical-Bayes result with the sampler's posterior summaries in place of its own."""
    fit = result.fit
    diagnostics: Diagnostics = {
        **fit.diagnostics,
        "mu": small.mu,
        "sd_true_score": small.sd_true_score,
        "mean_bias": small.mean_bias,
        "sd_bias": small.sd_bias,
        "reliability_shape": small.reliability_shape,
        "reliability_rate": small.reliability_rate,
        "small_data": True,
        "sampler_rhat_max": small.rhat_max,
    }
    new = replace(
        fit,
        mean=small.mean,
        sd=small.sd,
        low=small.low,
        high=small.high,
        reviewer_bias=small.reviewer_bias,
        reviewer_reliability=small.reviewer_reliability,
        reviewer_weight=small.reviewer_weight,
        grade_weight=small.grade_weight,
        diagnostics=diagnostics,
        reviewer_bias_sd=small.reviewer_bias_sd,
        reviewer_reliability_shape=small.reviewer_reliability_shape,
        reviewer_reliability_rate=small.reviewer_reliability_rate,
    )
    return ModelResult(fit=new, loo_prec=result.loo_prec, loo_h=result.loo_h, mu=result.mu, gamma=result.gamma)


def _fit_em(grades: Grades, *, max_iter: int, tol: float, low_effort: bool) -> ModelResult:
    """The empirical-Bayes loop of the module docstring."""
    p = _Problem(grades)
    st = _initial_state(p)
    if p.z.size == 0:
        return _result(p, st, converged=True, iterations=0)
    # Start the bias side as if every submission were at the population mean with the population spread.
    _messages_to_submission(p, st, np.full(p.z.size, st.mu_b), np.full(p.z.size, 1.0 / st.eta))
    # The loop's fused pass computes its sites itself: drop the cached per-grade arrays.
    st.site_key, st.site_cache = None, None
    s_prec, s_h = _submission_beliefs(p, st)
    prev = s_h / s_prec
    converged = False
    it = 0
    last_reviewers = 0
    for it in range(1, max_iter + 1):
        b_prec, b_h = _bp_pass(p, st, s_prec, s_h)
        s_prec, s_h = _submission_beliefs(p, st)
        if p.any_censored or it == 1:
            s_mean_e, s_var_e = _submission_cavity(p, st, s_prec, s_h)
            b_mean_e, b_var_e = _bias_cavity(p, st, b_prec, b_h)
            _update_sites(p, st, s_mean_e + b_mean_e, s_var_e + b_var_e, damping=0.5 if it > 1 else 0.0, warm_up=it == 1)
            del s_mean_e, s_var_e, b_mean_e, b_var_e
        # The reviewer step is the costly one; once things settle it need not run on every pass.
        if it >= 2 and (it <= 4 or it - last_reviewers >= (2 if it <= 10 else 3)):
            _update_reviewers(p, st, _residual_sums(p, st, s_prec, s_h), low_effort=low_effort and it >= 3)
            last_reviewers = it
        _update_hyper(p, st, s_prec, s_h, b_prec, b_h)
        means = s_h / s_prec
        # Root-mean-square change: unlike the largest change, it does not grow with the number of submissions.
        change = float(np.sqrt(np.mean((means[p.sub_has] - prev[p.sub_has]) ** 2))) if np.any(p.sub_has) else 0.0
        prev = means
        if change < tol * p.scale and it >= 8 and it - last_reviewers < 1:
            converged = True
            break
    return _result(p, st, converged=converged, iterations=it)


def _result(p: _Problem, st: _State, *, converged: bool, iterations: int) -> ModelResult:
    s_prec, s_h = _submission_beliefs(p, st)
    b_prec, b_h = _bias_beliefs(p, st)
    b_mean_e, b_var_e = _bias_cavity(p, st, b_prec, b_h)
    # The interval counts the uncertainty of each reliability: a grade is worth 1/E[1/tau] in precision
    # (exact for the Student-t a single grade with unknown precision gives), not E[tau].
    lam_h = st.site_prec * st.tau_h[p.rev] * (1.0 - st.low_effort[p.rev])
    s_prec_h = st.gamma + _weighted_bincount(p.sub, lam_h / (1.0 + lam_h * b_var_e), p.n_sub)
    del lam_h
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s_h / s_prec
        sd = 1.0 / np.sqrt(s_prec_h)
    low, high = mean - _Z95 * sd, mean + _Z95 * sd
    g = p.grades
    # The true score lies on the scale, so the estimate and its interval do too.
    if g.lo is not None:
        mean, low, high = np.maximum(mean, g.lo), np.maximum(low, g.lo), np.maximum(high, g.lo)
    if g.hi is not None:
        mean, low, high = np.minimum(mean, g.hi), np.minimum(low, g.hi), np.minimum(high, g.hi)
    ungraded = (p.sub_count == 0) & ~p.known
    for arr in (mean, sd, low, high):
        arr[ungraded] = np.nan
        arr[p.known] = p.truth[p.known]
    sd[p.known] = 0.0
    grade_weight = p.to_input_order(np.where(p.edge_known, 0.0, st.msg_s_prec / s_prec[p.sub])) if p.z.size else np.zeros(0)
    # Effective weight of one grade of a reviewer, relative to the average effortful reviewer: the precision a
    # grade brings once the reviewer's own bias uncertainty is counted.
    effort = 1.0 - st.low_effort
    b_var = 1.0 / b_prec
    per_grade = effort / (1.0 / st.tau + b_var)
    ref = float(np.mean(per_grade[p.rev_has])) if np.any(p.rev_has) else float(np.mean(per_grade)) if per_grade.size else 1.0
    weight = per_grade / ref if ref > 0 else per_grade
    # LOO messages for staff-scored submissions: as if the staff score were unknown, with the reviewer's
    # reliability re-estimated without this one grade.
    loo_prec = np.zeros(p.z.size)
    loo_h = np.zeros(p.z.size)
    if p.z.size and p.has_staff:
        m_c, v_c = _submission_cavity(p, st, s_prec, s_h)
        m_c += b_mean_e
        v_c += b_var_e
        _update_sites(p, st, m_c, v_c, damping=1.0, warm_up=False)
        del m_c, v_c
        # Only the grades of staff-scored submissions have such a message (zero elsewhere).
        ke = np.flatnonzero(p.edge_known)
        rev_k = p.rev[ke]
        a = st.tau_a[rev_k] - 0.5
        b = np.maximum(st.tau_b[rev_k] - 0.5 * st.ee2[ke], st.beta)
        tau_loo = a / b
        lam = st.site_prec[ke] * tau_loo * effort[rev_k]
        lh = lam * st.site_obs[ke]
        denom = 1.0 + lam * b_var_e[ke]
        loo_prec[p.order[ke]] = lam / denom
        loo_h[p.order[ke]] = (lh - lam * b_mean_e[ke]) / denom
    # Back to the caller's labels.
    sl, rl = p.sub_label, p.rev_label
    fit = Fit(
        method="model",
        mean=mean[sl],
        sd=sd[sl],
        low=low[sl],
        high=high[sl],
        reviewer_bias=(b_h / b_prec)[rl],
        reviewer_reliability=st.tau[rl],
        reviewer_weight=weight[rl],
        reviewer_staff_seen=p.rev_staff_count.astype(np.int64)[rl],
        grade_weight=grade_weight,
        diagnostics={
            "iterations": iterations,
            "converged": converged,
            "mu": st.mu,
            "sd_true_score": float(1.0 / np.sqrt(st.gamma)),
            "mean_bias": st.mu_b,
            "sd_bias": float(1.0 / np.sqrt(st.eta)),
            "reliability_shape": st.alpha,
            "reliability_rate": st.beta,
            "low_effort_share": st.pi,
            "biases_relative": not p.has_staff,
        },
        reviewer_low_effort=st.low_effort[rl],
        reviewer_bias_sd=(1.0 / np.sqrt(b_prec))[rl],
        reviewer_reliability_shape=st.tau_a[rl],
        reviewer_reliability_rate=st.tau_b[rl],
    )
    return ModelResult(fit=fit, loo_prec=loo_prec, loo_h=loo_h, mu=st.mu, gamma=st.gamma)


def fit_model(grades: Grades) -> Fit:
    """The calibrated model: PG1 (true score + reviewer bias + noise of reviewer precision) anchored by the
    staff samples, with rounding and scale bounds treated as interval censoring, a low-effort mixture
    component for reviewers whose grades do not follow the work, and empirical-Bayes hyper-parameters (on a
    small assignment: weakly informative hyper-priors integrated out, and the reviewers' priors from earlier
    assignments when ``grades.reviewer_prior`` gives them; see calibration.small_data).

    Outputs posterior mean, sd and 95% interval per submission; bias, reliability (posterior mean precision),
    effective weight and low-effort probability per reviewer; each grade's share of its submission's score.
    Without staff samples the mean bias is fixed at 0, so biases (and scores) are relative to the average
    reviewer. Deterministic: large assignments draw no random numbers; small ones use a fixed seed.
    """
    return fit_model_full(grades).fit

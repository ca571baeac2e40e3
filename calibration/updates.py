"""Reliability, effort and hyper-parameter updates of the calibrated model (see calibration.model)."""

from __future__ import annotations

import numpy as np
from scipy import special

from calibration.layout import _BLOCK, _N_LOW_NODES, _Problem, _State
from calibration.numerics import _gamma_shape, _Group, _log_lik_nodes, _row_max
from calibration.types import FloatArray

# Quadrature grid (in posterior sds of log tau) for each reviewer's reliability.
_GRID = np.linspace(-4.0, 4.0, 9)
# Dirichlet pseudo-count of the low-effort component's mix of noise scales, spread evenly over the scales.
LOW_PSEUDO = 8.0


def _update_reviewers(p: _Problem, st: _State, sums: tuple[FloatArray, FloatArray, FloatArray], *, low_effort: bool) -> None:
    """Reliability posterior and low-effort probability per reviewer, and the reliability hyper-parameters.

    Given the cavity belief of every graded submission (``sums``: see calibration.propagation._residual_sums), a reviewer's
    residuals depend on two unknowns of theirs: the bias (Gaussian, integrated exactly) and the precision tau
    (integrated by quadrature on a per-reviewer grid in log tau, centred on the current estimate). This gives
    the exact posterior of tau (not a mean-field one, which would shrink reliabilities together) and the
    marginal likelihood of the reviewer's grades under the effort component, compared with that under the
    low-effort component. (alpha, beta) then take their EM step from the posterior moments of tau.
    """
    idx = p.rev_idx
    if idx.size == 0:
        st.tau = np.full(p.n_rev, st.alpha / st.beta)
        st.low_effort = np.full(p.n_rev, st.pi if low_effort else 0.0)
        return
    s1, s2, sv = sums
    n0 = p.rev_est_count[idx][:, None]
    v0 = sv[:, :1] / np.maximum(n0, 1)
    groups: list[_Group] = [(n0, s1[:, :1], s2[:, :1], v0 + p.round_var)]
    if p.has_staff:
        groups.append((p.rev_staff_count[idx][:, None], s1[:, 1:], s2[:, 1:], p.round_var))
    n_idx = idx.size
    e_tau, e_log_tau, var_tau, tau_h_idx = (np.empty(n_idx) for _ in range(4))
    ll_effort, ll_low = np.empty(n_idx), np.empty(n_idx)
    low_idx = np.empty(n_idx)
    mass = np.full(_N_LOW_NODES, LOW_PSEUDO / _N_LOW_NODES)
    log_prior_odds = np.log(st.pi) - np.log1p(-st.pi)
    tau_idx = st.tau[idx]
    count_idx = p.rev_count[idx]
    low_ll_all = p.low_effort_loglik() if low_effort else None
    log_norm = st.alpha * np.log(st.beta) - special.gammaln(st.alpha)
    # Reviewers are processed in blocks that fit in the CPU cache: the node matrices are reviewers x nodes, and
    # streaming them through main memory whole made large assignments several times slower per reviewer.
    for lo in range(0, n_idx, _BLOCK):
        sl = slice(lo, min(lo + _BLOCK, n_idx))
        block: list[_Group] = [
            (n[sl], s1_g[sl], s2_g[sl], extra[sl] if isinstance(extra, np.ndarray) else extra) for n, s1_g, s2_g, extra in groups
        ]
        # Per-reviewer grid in log tau: +-4 approximate posterior sds around the current estimate; the
        # trapezoid rule on a smooth log-density is then accurate to far below the statistical error.
        spread = 1.0 / np.sqrt(st.alpha + 0.5 * count_idx[sl])
        log_nodes = np.log(tau_idx[sl])[:, None] + spread[:, None] * _GRID[None, :]
        nodes = np.exp(log_nodes)
        inv_nodes = 1.0 / nodes
        joint = _log_lik_nodes(block, st.mu_b, st.eta, nodes, inv_nodes) + (log_norm + st.alpha * log_nodes - st.beta * nodes)
        # The log-sum-exp over the nodes and the normalised posterior weights from one exp.
        peak = _row_max(joint)
        post = np.exp(joint - peak[:, None])
        total = post @ np.ones(post.shape[1])
        post /= total[:, None]
        ll_effort[sl] = peak + np.log(total) + np.log(spread * (_GRID[1] - _GRID[0]))
        e_tau[sl] = np.einsum("ij,ij->i", post, nodes)
        e_log_tau[sl] = np.einsum("ij,ij->i", post, log_nodes)
        var_tau[sl] = np.einsum("ij,ij,ij->i", post, nodes, nodes)
        tau_h_idx[sl] = 1.0 / np.einsum("ij,ij->i", post, inv_nodes)
        if low_ll_all is not None:
            # Low-effort component: grades iid around a personal centre, sd from a hair to the whole range.
            ll = low_ll_all[idx[sl]] + st.low_logw[None, :]
            # Its log-sum-exp over the noise scales and each scale's share of it, from one exp.
            low_peak = _row_max(ll)
            shares = np.exp(ll - low_peak[:, None])
            low_total = shares @ np.ones(shares.shape[1])
            ll_low[sl] = low_peak + np.log(low_total)
            low_idx[sl] = special.expit(log_prior_odds + ll_low[sl] - ll_effort[sl])
            mass += (low_idx[sl] / low_total) @ shares
    var_tau = np.maximum(var_tau - e_tau**2, 1e-12 * e_tau**2)
    tau = np.full(p.n_rev, st.alpha / st.beta)
    tau[idx] = e_tau
    st.tau = tau
    tau_h = np.full(p.n_rev, max(st.alpha - 1.0, 1e-3) / st.beta)
    tau_h[idx] = tau_h_idx
    st.tau_h = tau_h
    # A Gamma with the same two moments, for the leave-one-out correction.
    st.tau_b = np.full(p.n_rev, st.beta)
    st.tau_a = np.full(p.n_rev, st.alpha)
    st.tau_b[idx] = e_tau / var_tau
    st.tau_a[idx] = e_tau * st.tau_b[idx]
    if low_effort:
        low = np.full(p.n_rev, st.pi)
        low[idx] = low_idx
        st.low_effort = low
        # EM for the mix of noise scales among low-effort reviewers (constant graders, random graders, ...),
        # with a Dirichlet pseudo-count of LOW_PSEUDO spread evenly so that no scale is ever ruled out
        # (``mass``, accumulated block by block above).
        st.low_logw = np.log(mass / np.sum(mass))
    w = 1.0 - st.low_effort[idx]
    if np.sum(w) > 0:
        mean_tau = float(np.sum(w * e_tau) / np.sum(w))
        mean_log = float(np.sum(w * e_log_tau) / np.sum(w))
        st.alpha = _gamma_shape(mean_tau, mean_log)
        st.beta = st.alpha / mean_tau


def _update_hyper(p: _Problem, st: _State, s_prec: FloatArray, s_h: FloatArray, b_prec: FloatArray, b_h: FloatArray) -> None:
    """Empirical Bayes (EM) step for the population parameters, with scale-free floors."""
    floor = (1e-3 * p.scale) ** 2
    has = p.sub_has
    s_m, s_v = s_h[has] / s_prec[has], 1.0 / s_prec[has]
    m_all = np.concatenate([s_m, p.truth[p.known]])
    v_all = np.concatenate([s_v, np.zeros(int(np.sum(p.known)))])
    if m_all.size:
        st.mu = float(np.mean(m_all))
        st.gamma = 1.0 / max(float(np.mean(v_all + (m_all - st.mu) ** 2)), floor)
    w = (1.0 - st.low_effort) * p.rev_has
    wsum = float(np.sum(w))
    if wsum > 0:
        b_m, b_v = b_h / b_prec, 1.0 / b_prec
        if p.has_staff:
            st.mu_b = float(np.sum(w * b_m) / wsum)
        st.eta = 1.0 / max(float(np.sum(w * (b_v + (b_m - st.mu_b) ** 2)) / wsum), floor)
        n_rev = float(np.sum(p.rev_has))
        # Beta(1, 9) hyper-prior: a few reviewers alone cannot make "no effort" the norm.
        st.pi = float(np.clip((np.sum(st.low_effort[p.rev_has]) + 1.0) / (n_rev + 10.0), 1e-4, 0.5))

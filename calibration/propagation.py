"""Posterior propagation of the calibrated model (see calibration.model): Gaussian belief propagation of
(true score, reviewer bias) on the review graph, and the expectation-propagation sites of rounded and censored
grades.
"""

from __future__ import annotations

import numpy as np

from calibration.layout import _Problem, _State
from calibration.numerics import _weighted_bincount, truncnorm_moments
from calibration.types import FloatArray

_KNOWN_PREC = 1e12


def _submission_beliefs(p: _Problem, st: _State) -> tuple[FloatArray, FloatArray]:
    prec = st.gamma + _weighted_bincount(p.sub, st.msg_s_prec, p.n_sub)
    h = st.gamma * st.mu + _weighted_bincount(p.sub, st.msg_s_h, p.n_sub)
    # A staff-scored submission is known: a precision so large that its cavity is its staff score.
    prec[p.known] = _KNOWN_PREC
    h[p.known] = _KNOWN_PREC * p.truth[p.known]
    return prec, h


def _bias_beliefs(p: _Problem, st: _State) -> tuple[FloatArray, FloatArray]:
    prec = st.eta + _weighted_bincount(p.rev, st.msg_b_prec, p.n_rev)
    h = st.eta * st.mu_b + _weighted_bincount(p.rev, st.msg_b_h, p.n_rev)
    return prec, h


def _submission_cavity(p: _Problem, st: _State, prec: FloatArray, h: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Belief about each edge's submission without that edge: mean and variance (0 for staff-scored ones)."""
    c_prec = prec[p.sub] - st.msg_s_prec
    c_h = h[p.sub] - st.msg_s_h
    var = 1.0 / c_prec
    return c_h * var, var


def _bias_cavity(p: _Problem, st: _State, prec: FloatArray, h: FloatArray) -> tuple[FloatArray, FloatArray]:
    c_prec = prec[p.rev] - st.msg_b_prec
    c_h = h[p.rev] - st.msg_b_h
    return c_h / c_prec, 1.0 / c_prec


def _site(p: _Problem, st: _State) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Natural parameters (precision, precision * value) of each grade's Gaussian pseudo-observation, as seen
    by the reviewer's bias and, weighted by the chance of effort, by the submission. Cached: they change only
    when reliabilities, effort or EP sites do."""
    key = (id(st.tau), id(st.low_effort), id(st.site_prec), id(st.site_obs))
    if st.site_cache is None or st.site_key != key:
        lam = st.site_prec * st.tau[p.rev]
        lh = lam * st.site_obs
        # A reviewer who may have made no effort counts with the weight of the chance that they did.
        effort = 1.0 - st.low_effort[p.rev]
        st.site_cache = (lam, lh, lam * effort, lh * effort)
        st.site_key = key
    return st.site_cache


def _messages_to_submission(p: _Problem, st: _State, b_mean: FloatArray, b_var: FloatArray) -> None:
    _, _, lam, lh = _site(p, st)
    denom = 1.0 + lam * b_var
    st.msg_s_prec = lam / denom
    st.msg_s_h = (lh - lam * b_mean) / denom


def _bp_pass(p: _Problem, st: _State, s_prec: FloatArray, s_h: FloatArray) -> tuple[FloatArray, FloatArray]:
    """One round of belief propagation, fused and run over cache-sized runs of whole reviewers.

    From the submissions' beliefs (natural parameters ``s_prec``, ``s_h``): each grade's message to its
    reviewer's bias (from the submission's cavity), the bias beliefs (complete for a run's reviewers once
    the run is done, as it holds all their grades), then each grade's message to its submission (from the
    bias cavity). The arithmetic of _bias_beliefs and _messages_to_submission done for whole arrays, but
    every temporary stays in cache; only the messages themselves go to memory. Returns the bias beliefs.
    """
    n_act = p.act.size
    tau_a = st.tau[p.act]
    effort_a = 1.0 - st.low_effort[p.act]
    b_prec_a, b_h_a = np.empty(n_act), np.empty(n_act)
    eta, eta_mu = st.eta, st.eta * st.mu_b
    size = p.max_chunk
    buf = np.empty((7, size))
    for e0, e1, a0, a1, local, _, _, _ in p.chunks:
        n = e1 - e0
        cp, ch, lam, t1, t2, bp, bh = (row[:n] for row in buf)
        sub = p.sub[e0:e1]
        cnt = p.act_count[a0:a1]
        obs = st.site_obs[e0:e1]
        # Cavity of the submission: variance 1/cp, mean ch/cp.
        np.take(s_prec, sub, out=cp)
        cp -= st.msg_s_prec[e0:e1]
        np.take(s_h, sub, out=ch)
        ch -= st.msg_s_h[e0:e1]
        np.divide(1.0, cp, out=cp)
        ch *= cp
        lam[:] = np.repeat(tau_a[a0:a1], cnt)
        if p.any_censored:
            lam *= st.site_prec[e0:e1]
        # Message to the bias: precision lam / (1 + lam v), value obs - mean.
        mb_prec, mb_h = st.msg_b_prec[e0:e1], st.msg_b_h[e0:e1]
        np.multiply(lam, cp, out=t1)
        t1 += 1.0
        np.divide(lam, t1, out=mb_prec)
        np.subtract(obs, ch, out=mb_h)
        mb_h *= mb_prec
        np.add.reduceat(mb_prec, local, out=b_prec_a[a0:a1])
        b_prec_a[a0:a1] += eta
        np.add.reduceat(mb_h, local, out=b_h_a[a0:a1])
        b_h_a[a0:a1] += eta_mu
        # Cavity of the bias, then the message to the submission, weighted by the chance of effort.
        bp[:] = np.repeat(b_prec_a[a0:a1], cnt)
        bp -= mb_prec
        bh[:] = np.repeat(b_h_a[a0:a1], cnt)
        bh -= mb_h
        np.divide(1.0, bp, out=bp)
        bh *= bp
        t2[:] = np.repeat(effort_a[a0:a1], cnt)
        lam *= t2
        np.multiply(lam, bp, out=t1)
        t1 += 1.0
        ms_prec, ms_h = st.msg_s_prec[e0:e1], st.msg_s_h[e0:e1]
        np.divide(lam, t1, out=ms_prec)
        np.subtract(obs, bh, out=ms_h)
        ms_h *= ms_prec
    b_prec = np.full(p.n_rev, eta)
    b_h = np.full(p.n_rev, eta_mu)
    b_prec[p.act] = b_prec_a
    b_h[p.act] = b_h_a
    return b_prec, b_h


def _residual_sums(p: _Problem, st: _State, s_prec: FloatArray, s_h: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per reviewer and (ordinary, staff-scored) group: sums of the residuals r = site value - submission
    cavity mean, of r^2 and of the cavity variances; each reviewers x 2, over the reviewers with grades."""
    n_seg = p.seg_key.size
    s1, s2, sv = np.empty(n_seg), np.empty(n_seg), np.empty(n_seg)
    buf = np.empty((3, p.max_chunk))
    for e0, e1, _, _, _, g0, g1, local in p.chunks:
        n = e1 - e0
        cp, r, t = (row[:n] for row in buf)
        sub = p.sub[e0:e1]
        np.take(s_prec, sub, out=cp)
        cp -= st.msg_s_prec[e0:e1]
        np.divide(1.0, cp, out=cp)
        np.take(s_h, sub, out=r)
        r -= st.msg_s_h[e0:e1]
        r *= cp
        np.subtract(st.site_obs[e0:e1], r, out=r)
        np.add.reduceat(r, local, out=s1[g0:g1])
        np.multiply(r, r, out=t)
        np.add.reduceat(t, local, out=s2[g0:g1])
        np.add.reduceat(cp, local, out=sv[g0:g1])
    out = []
    for seg in (s1, s2, sv):
        full = np.zeros(2 * p.n_rev)
        full[p.seg_key] = seg
        out.append(full.reshape(p.n_rev, 2)[p.rev_idx])
    return out[0], out[1], out[2]


def _update_sites(p: _Problem, st: _State, m_c: FloatArray, v_c: FloatArray, damping: float, *, warm_up: bool) -> None:
    """EP pseudo-observations of rounded/censored grades and expected squared residuals; on the first pass
    also a mean-field Gamma reliability per reviewer, which only centres the exact update that follows."""
    noise = 1.0 / st.tau[p.rev]
    var_y = v_c + noise
    # The intervals are kept only when some grade is censored (p.any_censored).
    if p.lower is not None and p.upper is not None:
        sd_y = np.sqrt(var_y)
        a = (p.lower - m_c) / sd_y
        b = (p.upper - m_c) / sd_y
        t_mean, t_var = truncnorm_moments(a, b)
        t_mean = np.where(p.censored, t_mean, (p.z - m_c) / sd_y)
        t_var = np.where(p.censored, t_var, 0.0)
        # kappa = -d2 log Z / dm2, g = d log Z / dm: the EP site in closed form, stable as v_c -> 0.
        kappa = (1.0 - t_var) / var_y
        g = t_mean / sd_y
        denom = 1.0 - v_c * kappa
        site_lam = kappa / denom
        site_h = (g + m_c * kappa) / denom
        # Sites are stored per unit reliability, so that a new tau rescales them.
        tau_e = st.tau[p.rev]
        new_prec = np.where(p.censored, site_lam / tau_e, 1.0)
        new_obs = np.where(p.censored, site_h / np.maximum(site_lam, 1e-300), p.z)
        old_nat = st.site_prec * st.site_obs
        new_nat = new_prec * new_obs
        prec = (1.0 - damping) * new_prec + damping * st.site_prec
        nat = (1.0 - damping) * new_nat + damping * old_nat
        st.site_prec = np.maximum(prec, 1e-12)
        st.site_obs = np.where(p.censored, nat / st.site_prec, p.z)
        dev2 = var_y * (t_var + t_mean * t_mean)
    else:
        dev2 = p.z - m_c
        dev2 *= dev2
    # ee2 = noise v_c / var_y + shrink^2 dev2, shrink = noise / var_y; in place (these are per-grade arrays).
    shrink = noise / var_y
    noise *= v_c
    noise /= var_y
    shrink *= shrink
    shrink *= dev2
    noise += shrink
    st.ee2 = noise
    del shrink, dev2, var_y
    if warm_up:
        ss = _weighted_bincount(p.rev, st.ee2, p.n_rev)
        st.tau_a = st.alpha + 0.5 * p.rev_count
        st.tau_b = st.beta + 0.5 * ss
        st.tau = st.tau_a / st.tau_b

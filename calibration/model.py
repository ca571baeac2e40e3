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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from calibration.types import Fit, Grades

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_Z95 = float(stats.norm.ppf(0.975))
# Quadrature nodes over the noise precision when comparing the two components.
# Quadrature grid (in posterior sds of log tau) for each reviewer's reliability, and the number of noise
# scales over which the low-effort component is averaged.
_GRID = np.linspace(-4.0, 4.0, 9)
_N_LOW_NODES = 16
LOW_PSEUDO = 8.0
_BLOCK = 4096
_KNOWN_PREC = 1e12


@dataclass
class _State:
    """Everything the fit carries between iterations (arrays are per edge, per submission or per reviewer)."""

    mu: float
    gamma: float
    mu_b: float
    eta: float
    alpha: float
    beta: float
    pi: float
    tau: np.ndarray  # E[tau_i]
    tau_h: np.ndarray  # 1 / E[1/tau_i]: the precision a grade is worth once tau's own uncertainty is counted
    tau_a: np.ndarray  # Gamma posterior shape per reviewer
    tau_b: np.ndarray  # Gamma posterior rate per reviewer
    low_effort: np.ndarray  # P(e_i = 0)
    low_logw: np.ndarray  # log prior weights of the low-effort component's noise scales (learned)
    site_prec: np.ndarray  # EP pseudo-observation precision per edge (for a unit reliability: scaled by tau)
    site_obs: np.ndarray  # EP pseudo-observation value per edge
    msg_s_prec: np.ndarray  # message edge -> submission (natural parameters)
    msg_s_h: np.ndarray
    msg_b_prec: np.ndarray  # message edge -> reviewer bias
    msg_b_h: np.ndarray
    ee2: np.ndarray  # E[(y - s - b)^2] per edge under the tilted distribution
    site_key: tuple = ()
    site_cache: tuple = ()


def truncnorm_moments(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _intervals(grades: Grades, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The set each latent grade is known to lie in: a point, a rounding cell, or a censored tail at a bound."""
    lower, upper = z.copy(), z.copy()
    if grades.step:
        lower -= 0.5 * grades.step
        upper += 0.5 * grades.step
    # A grade at the top (bottom) of a bounded scale only says the reviewer's opinion was at least (at most)
    # that high: the scale stopped them.
    if grades.lo is not None:
        at_lo = z <= grades.lo + (0.5 * grades.step if grades.step else 0.0) * 1e-9
        lower = np.where(at_lo, -np.inf, lower)
        if not grades.step:
            upper = np.where(at_lo, grades.lo, upper)
    if grades.hi is not None:
        at_hi = z >= grades.hi - (0.5 * grades.step if grades.step else 0.0) * 1e-9
        upper = np.where(at_hi, np.inf, upper)
        if not grades.step:
            lower = np.where(at_hi, grades.hi, lower)
    return lower, upper, upper > lower


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
    groups: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    centre: float | np.ndarray,
    centre_prec: float,
    node_prec: np.ndarray,
) -> np.ndarray:
    """log p(residuals of one reviewer | noise precision) with the location integrated out, per reviewer and node.

    Each group is (count, sum, sum of squares, extra variance) per reviewer: residuals that share an extra
    variance (the uncertainty of what they are compared with; a column, or a scalar for the whole group).
    Location ~ N(centre, 1/centre_prec) is integrated exactly. ``node_prec`` is reviewers x nodes (or 1 x
    nodes); the result is reviewers x nodes.
    """
    big_w = lin = quad = log_det = 0.0
    total = 0.0
    for n, s1, s2, extra in groups:
        w = 1.0 / (1.0 / node_prec + extra)
        nw = n * w
        big_w = big_w + nw
        lin = lin + w * s1
        quad = quad + w * s2
        log_det = log_det + n * np.log(w)
        total = total + n
    lin = lin + centre_prec * centre
    quad = quad + centre_prec * centre * centre
    post = centre_prec + big_w
    return 0.5 * (log_det + np.log(centre_prec / post) - quad + lin * lin / post) - total * _LOG_SQRT_2PI


def _logsumexp_rows(x: np.ndarray) -> np.ndarray:
    top = np.max(x, axis=1)
    return top + np.log(np.exp(x - top[:, None]) @ np.ones(x.shape[1]))


class _Problem:
    """The input, indexed once: edges (grades), the staff anchors, the observation sets."""

    def __init__(self, grades: Grades):
        self.grades = grades
        self.sub = np.asarray(grades.submission, dtype=np.int64)
        self.rev = np.asarray(grades.reviewer, dtype=np.int64)
        self.z = np.asarray(grades.score, dtype=np.float64)
        self.n_sub, self.n_rev = int(grades.n_submissions), int(grades.n_reviewers)
        self.known = np.zeros(self.n_sub, dtype=bool)
        self.truth = np.zeros(self.n_sub)
        staff = np.asarray(grades.staff_submission, dtype=np.int64)
        self.known[staff] = True
        self.truth[staff] = np.asarray(grades.staff_score, dtype=np.float64)
        self.has_staff = bool(staff.size)
        self.edge_known = self.known[self.sub]
        self.lower, self.upper, self.censored = _intervals(grades, self.z)
        self.any_censored = bool(np.any(self.censored))
        self.sub_count = np.bincount(self.sub, minlength=self.n_sub)
        self.rev_count = np.bincount(self.rev, minlength=self.n_rev).astype(np.float64)
        self.rev_has = self.rev_count > 0
        self.sub_has = (self.sub_count > 0) & ~self.known
        self.rev_staff_count = np.bincount(self.rev, weights=self.edge_known, minlength=self.n_rev)
        self.rev_est_count = self.rev_count - self.rev_staff_count
        self.rev_idx = np.flatnonzero(self.rev_has)
        self.truth_e = self.truth[self.sub]
        self.rev_key = self.rev * 2 + self.edge_known
        self._low_ll: np.ndarray | None = None
        zc = self.z if self.z.size else np.zeros(1)
        self.z_mean = float(np.mean(zc))
        spread = float(np.std(zc))
        if grades.lo is not None and grades.hi is not None and grades.hi > grades.lo:
            spread = max(spread, 0.05 * (grades.hi - grades.lo))
        self.scale = spread if spread > 0 else 1.0
        # Variance of the rounding itself: what a rounded grade cannot tell, used when comparing components.
        self.round_var = (grades.step**2 / 12.0) if grades.step else (1e-4 * self.scale) ** 2
        self.low_prec_nodes = 1.0 / np.exp(np.linspace(np.log(1e-2 * self.scale), np.log(4.0 * self.scale), _N_LOW_NODES)) ** 2

    def low_effort_loglik(self) -> np.ndarray:
        """log p(a reviewer's grades | low effort, noise scale node), reviewers x nodes; fixed, so cached."""
        if self._low_ll is None:
            zs1 = np.bincount(self.rev, weights=self.z, minlength=self.n_rev)[:, None]
            zs2 = np.bincount(self.rev, weights=self.z * self.z, minlength=self.n_rev)[:, None]
            self._low_ll = _log_lik_nodes(
                [(self.rev_count[:, None], zs1, zs2, self.round_var)], self.z_mean, 1.0 / self.scale**2, self.low_prec_nodes[None, :]
            )
        return self._low_ll


def _initial_state(p: _Problem) -> _State:
    counts = np.maximum(p.sub_count, 1)
    sums = np.bincount(p.sub, weights=p.z, minlength=p.n_sub)
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


def _submission_beliefs(p: _Problem, st: _State) -> tuple[np.ndarray, np.ndarray]:
    prec = st.gamma + np.bincount(p.sub, weights=st.msg_s_prec, minlength=p.n_sub)
    h = st.gamma * st.mu + np.bincount(p.sub, weights=st.msg_s_h, minlength=p.n_sub)
    # A staff-scored submission is known: a precision so large that its cavity is its staff score.
    prec[p.known] = _KNOWN_PREC
    h[p.known] = _KNOWN_PREC * p.truth[p.known]
    return prec, h


def _bias_beliefs(p: _Problem, st: _State) -> tuple[np.ndarray, np.ndarray]:
    prec = st.eta + np.bincount(p.rev, weights=st.msg_b_prec, minlength=p.n_rev)
    h = st.eta * st.mu_b + np.bincount(p.rev, weights=st.msg_b_h, minlength=p.n_rev)
    return prec, h


def _submission_cavity(p: _Problem, st: _State, prec: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Belief about each edge's submission without that edge: mean and variance (0 for staff-scored ones)."""
    c_prec = prec[p.sub] - st.msg_s_prec
    c_h = h[p.sub] - st.msg_s_h
    var = 1.0 / c_prec
    return c_h * var, var


def _bias_cavity(p: _Problem, st: _State, prec: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c_prec = prec[p.rev] - st.msg_b_prec
    c_h = h[p.rev] - st.msg_b_h
    return c_h / c_prec, 1.0 / c_prec


def _site(p: _Problem, st: _State) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Natural parameters (precision, precision * value) of each grade's Gaussian pseudo-observation, as seen
    by the reviewer's bias and, weighted by the chance of effort, by the submission. Cached: they change only
    when reliabilities, effort or EP sites do."""
    key = (id(st.tau), id(st.low_effort), id(st.site_prec), id(st.site_obs))
    if st.site_key != key:
        lam = st.site_prec * st.tau[p.rev]
        lh = lam * st.site_obs
        # A reviewer who may have made no effort counts with the weight of the chance that they did.
        effort = 1.0 - st.low_effort[p.rev]
        st.site_cache = (lam, lh, lam * effort, lh * effort)
        st.site_key = key
    return st.site_cache


def _messages_to_bias(p: _Problem, st: _State, s_mean: np.ndarray, s_var: np.ndarray) -> None:
    lam, lh, _, _ = _site(p, st)
    denom = 1.0 + lam * s_var
    st.msg_b_prec = lam / denom
    st.msg_b_h = (lh - lam * s_mean) / denom


def _messages_to_submission(p: _Problem, st: _State, b_mean: np.ndarray, b_var: np.ndarray) -> None:
    _, _, lam, lh = _site(p, st)
    denom = 1.0 + lam * b_var
    st.msg_s_prec = lam / denom
    st.msg_s_h = (lh - lam * b_mean) / denom


def _update_sites(p: _Problem, st: _State, m_c: np.ndarray, v_c: np.ndarray, damping: float, *, warm_up: bool) -> None:
    """EP pseudo-observations of rounded/censored grades and expected squared residuals; on the first pass
    also a mean-field Gamma reliability per reviewer, which only centres the exact update that follows."""
    noise = 1.0 / st.tau[p.rev]
    var_y = v_c + noise
    sd_y = np.sqrt(var_y)
    if p.any_censored:
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
        dev2 = (p.z - m_c) ** 2
    shrink = noise / var_y
    st.ee2 = noise * v_c / var_y + shrink * shrink * dev2
    if warm_up:
        ss = np.bincount(p.rev, weights=st.ee2, minlength=p.n_rev)
        st.tau_a = st.alpha + 0.5 * p.rev_count
        st.tau_b = st.beta + 0.5 * ss
        st.tau = st.tau_a / st.tau_b


def _update_reviewers(p: _Problem, st: _State, m_s: np.ndarray, v_s: np.ndarray, *, low_effort: bool) -> None:
    """Reliability posterior and low-effort probability per reviewer, and the reliability hyper-parameters.

    Given the cavity belief of every graded submission (mean ``m_s``, variance ``v_s``), a reviewer's
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
    r = st.site_obs - m_s
    key = p.rev_key  # reviewer * 2 + (1 if the submission is staff-scored)

    def per_group(weights: np.ndarray) -> np.ndarray:
        return np.bincount(key, weights=weights, minlength=2 * p.n_rev).reshape(p.n_rev, 2)[idx]

    s1, s2 = per_group(r), per_group(r * r)
    n0 = p.rev_est_count[idx][:, None]
    v0 = per_group(v_s)[:, :1] / np.maximum(n0, 1)
    groups = [(n0, s1[:, :1], s2[:, :1], v0 + p.round_var)]
    if p.has_staff:
        groups.append((p.rev_staff_count[idx][:, None], s1[:, 1:], s2[:, 1:], p.round_var))
    n_idx = idx.size
    e_tau, e_log_tau, var_tau, tau_h_idx = (np.empty(n_idx) for _ in range(4))
    ll_effort, ll_low = np.empty(n_idx), np.empty(n_idx)
    low_post = np.empty((n_idx, _N_LOW_NODES)) if low_effort else None
    tau_idx = st.tau[idx]
    count_idx = p.rev_count[idx]
    low_ll_all = p.low_effort_loglik() if low_effort else None
    log_norm = st.alpha * np.log(st.beta) - special.gammaln(st.alpha)
    # Reviewers are processed in blocks that fit in the CPU cache: the node matrices are reviewers x nodes, and
    # streaming them through main memory whole made large assignments several times slower per reviewer.
    for lo in range(0, n_idx, _BLOCK):
        sl = slice(lo, min(lo + _BLOCK, n_idx))
        block = [tuple(a[sl] if isinstance(a, np.ndarray) else a for a in g) for g in groups]
        # Per-reviewer grid in log tau: +-4 approximate posterior sds around the current estimate; the
        # trapezoid rule on a smooth log-density is then accurate to far below the statistical error.
        spread = 1.0 / np.sqrt(st.alpha + 0.5 * count_idx[sl])
        log_nodes = np.log(tau_idx[sl])[:, None] + spread[:, None] * _GRID[None, :]
        nodes = np.exp(log_nodes)
        joint = _log_lik_nodes(block, st.mu_b, st.eta, nodes) + (log_norm + st.alpha * log_nodes - st.beta * nodes)
        top = _logsumexp_rows(joint)
        post = np.exp(joint - top[:, None])
        ll_effort[sl] = top + np.log(spread * (_GRID[1] - _GRID[0]))
        e_tau[sl] = np.einsum("ij,ij->i", post, nodes)
        e_log_tau[sl] = np.einsum("ij,ij->i", post, log_nodes)
        var_tau[sl] = np.einsum("ij,ij,ij->i", post, nodes, nodes)
        tau_h_idx[sl] = 1.0 / np.einsum("ij,ij->i", post, 1.0 / nodes)
        if low_effort:
            # Low-effort component: grades iid around a personal centre, sd from a hair to the whole range.
            ll = low_ll_all[idx[sl]] + st.low_logw[None, :]
            ll_low[sl] = _logsumexp_rows(ll)
            low_post[sl] = np.exp(ll - ll_low[sl, None])
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
        low[idx] = special.expit(np.log(st.pi) - np.log1p(-st.pi) + ll_low - ll_effort)
        st.low_effort = low
        # EM for the mix of noise scales among low-effort reviewers (constant graders, random graders, ...),
        # with a Dirichlet pseudo-count of LOW_PSEUDO spread evenly so that no scale is ever ruled out.
        mass = low[idx] @ low_post + LOW_PSEUDO / _N_LOW_NODES
        st.low_logw = np.log(mass / np.sum(mass))
    w = 1.0 - st.low_effort[idx]
    if np.sum(w) > 0:
        mean_tau = float(np.sum(w * e_tau) / np.sum(w))
        mean_log = float(np.sum(w * e_log_tau) / np.sum(w))
        st.alpha = _gamma_shape(mean_tau, mean_log)
        st.beta = st.alpha / mean_tau


def _update_hyper(p: _Problem, st: _State, s_prec: np.ndarray, s_h: np.ndarray, b_prec: np.ndarray, b_h: np.ndarray) -> None:
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


@dataclass
class ModelResult:
    """A fitted model plus what leave-one-out needs: per edge, the message the grade would send to its
    submission if the submission's own staff score were not known (reliability re-estimated without it)."""

    fit: Fit
    loo_prec: np.ndarray
    loo_h: np.ndarray
    mu: float
    gamma: float


def fit_model_full(grades: Grades, *, max_iter: int = 300, tol: float = 2e-4, low_effort: bool = True) -> ModelResult:
    """Fit the calibrated model (see the module docstring) and keep the leave-one-out messages.

    Iterates belief propagation, EP sites, reliabilities/effort and hyper-parameters until the submissions'
    means move by less than ``tol`` x the spread of the grades (root mean square) between two passes.
    """
    p = _Problem(grades)
    st = _initial_state(p)
    if p.z.size == 0:
        return _result(p, st, converged=True, iterations=0)
    # Start the bias side as if every submission were at the population mean with the population spread.
    _messages_to_submission(p, st, np.full(p.z.size, st.mu_b), np.full(p.z.size, 1.0 / st.eta))
    s_prec, s_h = _submission_beliefs(p, st)
    s_mean_e, s_var_e = _submission_cavity(p, st, s_prec, s_h)
    prev = s_h / s_prec
    converged = False
    it = 0
    last_reviewers = 0
    for it in range(1, max_iter + 1):
        _messages_to_bias(p, st, s_mean_e, s_var_e)
        b_prec, b_h = _bias_beliefs(p, st)
        b_mean_e, b_var_e = _bias_cavity(p, st, b_prec, b_h)
        _messages_to_submission(p, st, b_mean_e, b_var_e)
        s_prec, s_h = _submission_beliefs(p, st)
        s_mean_e, s_var_e = _submission_cavity(p, st, s_prec, s_h)
        if p.any_censored or it == 1:
            _update_sites(p, st, s_mean_e + b_mean_e, s_var_e + b_var_e, damping=0.5 if it > 1 else 0.0, warm_up=it == 1)
        # The reviewer step is the costly one; once things settle it need not run on every pass.
        if it >= 2 and (it <= 4 or it - last_reviewers >= (2 if it <= 10 else 3)):
            _update_reviewers(p, st, s_mean_e, s_var_e, low_effort=low_effort and it >= 3)
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
    s_prec_h = st.gamma + np.bincount(p.sub, weights=lam_h / (1.0 + lam_h * b_var_e), minlength=p.n_sub)
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
    grade_weight = np.where(p.edge_known, 0.0, st.msg_s_prec / s_prec[p.sub]) if p.z.size else np.zeros(0)
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
        s_mean_e, s_var_e = _submission_cavity(p, st, s_prec, s_h)
        _update_sites(p, st, s_mean_e + b_mean_e, s_var_e + b_var_e, damping=1.0, warm_up=False)
        ke = p.edge_known
        a = st.tau_a[p.rev] - 0.5
        b = np.maximum(st.tau_b[p.rev] - 0.5 * st.ee2, st.beta)
        tau_loo = np.where(ke, a / b, st.tau[p.rev])
        lam = st.site_prec * tau_loo * effort[p.rev]
        lh = lam * st.site_obs
        denom = 1.0 + lam * b_var_e
        loo_prec = np.where(ke, lam / denom, 0.0)
        loo_h = np.where(ke, (lh - lam * b_mean_e) / denom, 0.0)
    fit = Fit(
        method="model",
        mean=mean,
        sd=sd,
        low=low,
        high=high,
        reviewer_bias=b_h / b_prec,
        reviewer_reliability=st.tau.copy(),
        reviewer_weight=weight,
        reviewer_staff_seen=p.rev_staff_count.astype(np.int64),
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
        reviewer_low_effort=st.low_effort.copy(),
    )
    return ModelResult(fit=fit, loo_prec=loo_prec, loo_h=loo_h, mu=st.mu, gamma=st.gamma)


def fit_model(grades: Grades) -> Fit:
    """The calibrated model: PG1 (true score + reviewer bias + noise of reviewer precision) anchored by the
    staff samples, with rounding and scale bounds treated as interval censoring, a low-effort mixture
    component for reviewers whose grades do not follow the work, and empirical-Bayes hyper-parameters.

    Outputs posterior mean, sd and 95% interval per submission; bias, reliability (posterior mean precision),
    effective weight and low-effort probability per reviewer; each grade's share of its submission's score.
    Without staff samples the mean bias is fixed at 0, so biases (and scores) are relative to the average
    reviewer. Deterministic: no random numbers are drawn.
    """
    return fit_model_full(grades).fit

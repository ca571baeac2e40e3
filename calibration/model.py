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

Large assignments are memory-bound, so the layout matters as much as the arithmetic: reviewers and
submissions are relabelled in breadth-first order of the review graph and grades sorted by reviewer (pure
relabelling; outputs come back in the caller's labels and order), and the belief-propagation pass runs fused
over cache-sized runs of whole reviewers with preallocated buffers (see _bp_pass), so that an iteration
costs about the same per grade at a million grades as at a hundred thousand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse, special, stats
from scipy.sparse import csgraph

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
# Grades per run of the fused belief-propagation pass: its seven work arrays (about 0.9 MB) stay in L2.
_CHUNK = 16384
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


def _stable_order(key: np.ndarray, n_keys: int) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` for non-negative integer keys below ``n_keys``, as an LSD radix sort
    on 16-bit digits (numpy sorts 16-bit keys stably by radix) when the keys fit in 32 bits."""
    if n_keys <= 1 << 16:
        return np.argsort(key.astype(np.uint16), kind="stable")
    if n_keys <= 1 << 32:
        order = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
        return order[np.argsort((key[order] >> 16).astype(np.uint16), kind="stable")]
    return np.argsort(key, kind="stable")


def _locality_labels(sub: np.ndarray, rev: np.ndarray, known: np.ndarray, n_sub: int, n_rev: int) -> tuple[np.ndarray, np.ndarray]:
    """New labels for reviewers and submissions in breadth-first order of the review graph (staff-scored
    submissions, which pass no messages, left out and labelled last).

    Every pass of the fit reads and writes the beliefs of each grade's submission in grade order; with
    labels in breadth-first order the submissions of neighbouring reviewers sit close together in memory,
    so large assignments stay in cache. Pure relabelling: the fit is the same up to rounding.
    """
    n = n_rev + n_sub
    free = ~known[sub]
    r, s = rev[free], n_rev + sub[free]
    order = np.arange(n)
    if r.size:
        graph = sparse.csr_matrix((np.ones(2 * r.size, dtype=np.int8), (np.concatenate([r, s]), np.concatenate([s, r]))), shape=(n, n))
        active = np.diff(graph.indptr) > 0
        seen = np.zeros(n, dtype=bool)
        parts = []
        # A few breadth-first sweeps cover the large connected parts; whatever is left keeps its order.
        for _ in range(4):
            left = np.flatnonzero(active & ~seen)
            if left.size == 0 or (parts and left.size * 16 < int(np.sum(active))):
                break
            visit = csgraph.breadth_first_order(graph, int(left[0]), directed=True, return_predecessors=False)
            seen[visit] = True
            parts.append(visit)
        parts.append(np.flatnonzero(~seen))
        order = np.concatenate(parts)
    rev_label = np.empty(n_rev, dtype=np.int64)
    sub_label = np.empty(n_sub, dtype=np.int64)
    rev_nodes = order[order < n_rev]
    rev_label[rev_nodes] = np.arange(n_rev)
    sub_label[order[order >= n_rev] - n_rev] = np.arange(n_sub)
    return rev_label, sub_label


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
        sub = np.asarray(grades.submission, dtype=np.int64)
        rev = np.asarray(grades.reviewer, dtype=np.int64)
        z = np.asarray(grades.score, dtype=np.float64)
        self.n_sub, self.n_rev = int(grades.n_submissions), int(grades.n_reviewers)
        staff = np.asarray(grades.staff_submission, dtype=np.int64)
        known = np.zeros(self.n_sub, dtype=bool)
        known[staff] = True
        # Reviewers and submissions are relabelled internally so that neighbours in the review graph get
        # nearby labels (see _locality_labels); ``rev_label``/``sub_label`` map the caller's ids to ours.
        self.rev_label, self.sub_label = _locality_labels(sub, rev, known, self.n_sub, self.n_rev)
        sub, rev = self.sub_label[sub], self.rev_label[rev]
        self.known = np.zeros(self.n_sub, dtype=bool)
        self.truth = np.zeros(self.n_sub)
        self.known[self.sub_label[staff]] = True
        self.truth[self.sub_label[staff]] = np.asarray(grades.staff_score, dtype=np.float64)
        self.has_staff = bool(staff.size)
        # Grades are processed internally in (reviewer, staff-scored) order: every reviewer's grades form one
        # contiguous run, so reviewer-side gathers are np.repeat and reductions np.add.reduceat over slices,
        # and the fused belief-propagation pass below works on cache-sized runs of whole reviewers.
        # ``order`` maps the internal order back to the caller's (per-grade outputs are returned in theirs).
        key = rev * 2 + self.known[sub]
        self.order = _stable_order(key, 2 * self.n_rev)
        self.sub, self.rev, self.z = sub[self.order], rev[self.order], z[self.order]
        self.edge_known = self.known[self.sub]
        self.lower, self.upper, self.censored = _intervals(grades, self.z)
        self.any_censored = bool(np.any(self.censored))
        if not self.any_censored:
            # Only censored grades need their intervals (see _update_sites): spare the memory.
            self.lower = self.upper = None
        self.sub_count = np.bincount(self.sub, minlength=self.n_sub)
        self.rev_count = np.bincount(self.rev, minlength=self.n_rev).astype(np.float64)
        self.rev_has = self.rev_count > 0
        self.sub_has = (self.sub_count > 0) & ~self.known
        self.rev_staff_count = np.bincount(self.rev, weights=self.edge_known, minlength=self.n_rev)
        self.rev_est_count = self.rev_count - self.rev_staff_count
        self.rev_idx = np.flatnonzero(self.rev_has)
        self._plan_chunks(key[self.order])
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

    def _plan_chunks(self, rev_key: np.ndarray) -> None:
        """Cut the (sorted) grades into runs of whole reviewers of about _CHUNK grades each; ``rev_key`` is
        reviewer * 2 + (1 if the submission is staff-scored), per grade in the internal order."""
        e = self.z.size
        self.act = self.rev_idx  # reviewers with at least one grade, in order
        self.act_count = self.rev_count[self.act].astype(np.int64)
        act_start = np.cumsum(self.act_count) - self.act_count
        # Runs of equal (reviewer, staff-scored) key: the two groups of a reviewer's residuals.
        seg_start = np.flatnonzero(np.diff(rev_key, prepend=-1)) if e else np.zeros(0, dtype=np.int64)
        self.seg_key = rev_key[seg_start]
        cuts = np.unique(np.searchsorted(act_start, np.arange(0, e, _CHUNK), side="left"))
        cuts = np.append(cuts[cuts < self.act.size], self.act.size) if e else np.zeros(1, dtype=np.int64)
        edge_cut = np.append(act_start, e)[cuts]
        seg_cut = np.searchsorted(seg_start, edge_cut, side="left")
        self.chunks = [
            (
                int(edge_cut[i]),
                int(edge_cut[i + 1]),
                int(cuts[i]),
                int(cuts[i + 1]),
                act_start[cuts[i] : cuts[i + 1]] - edge_cut[i],
                int(seg_cut[i]),
                int(seg_cut[i + 1]),
                seg_start[seg_cut[i] : seg_cut[i + 1]] - edge_cut[i],
            )
            for i in range(cuts.size - 1)
        ]
        self.max_chunk = max((c[1] - c[0] for c in self.chunks), default=0)

    def to_input_order(self, values: np.ndarray) -> np.ndarray:
        """A per-grade array in the caller's order."""
        out = np.empty_like(values)
        out[self.order] = values
        return out

    def low_effort_loglik(self) -> np.ndarray:
        """log p(a reviewer's grades | low effort, noise scale node), reviewers x nodes; fixed, so cached."""
        if self._low_ll is None:
            zs1 = np.bincount(self.rev, weights=self.z, minlength=self.n_rev)[:, None]
            zs2 = np.bincount(self.rev, weights=self.z * self.z, minlength=self.n_rev)[:, None]
            # In blocks of reviewers, like the reviewer step: the temporaries stay small.
            self._low_ll = np.empty((self.n_rev, _N_LOW_NODES))
            for lo in range(0, self.n_rev, _BLOCK):
                sl = slice(lo, min(lo + _BLOCK, self.n_rev))
                self._low_ll[sl] = _log_lik_nodes(
                    [(self.rev_count[sl, None], zs1[sl], zs2[sl], self.round_var)],
                    self.z_mean,
                    1.0 / self.scale**2,
                    self.low_prec_nodes[None, :],
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


def _messages_to_submission(p: _Problem, st: _State, b_mean: np.ndarray, b_var: np.ndarray) -> None:
    _, _, lam, lh = _site(p, st)
    denom = 1.0 + lam * b_var
    st.msg_s_prec = lam / denom
    st.msg_s_h = (lh - lam * b_mean) / denom


def _bp_pass(p: _Problem, st: _State, s_prec: np.ndarray, s_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _residual_sums(p: _Problem, st: _State, s_prec: np.ndarray, s_h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _update_sites(p: _Problem, st: _State, m_c: np.ndarray, v_c: np.ndarray, damping: float, *, warm_up: bool) -> None:
    """EP pseudo-observations of rounded/censored grades and expected squared residuals; on the first pass
    also a mean-field Gamma reliability per reviewer, which only centres the exact update that follows."""
    noise = 1.0 / st.tau[p.rev]
    var_y = v_c + noise
    if p.any_censored:
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
        ss = np.bincount(p.rev, weights=st.ee2, minlength=p.n_rev)
        st.tau_a = st.alpha + 0.5 * p.rev_count
        st.tau_b = st.beta + 0.5 * ss
        st.tau = st.tau_a / st.tau_b


def _update_reviewers(p: _Problem, st: _State, sums: tuple[np.ndarray, np.ndarray, np.ndarray], *, low_effort: bool) -> None:
    """Reliability posterior and low-effort probability per reviewer, and the reliability hyper-parameters.

    Given the cavity belief of every graded submission (``sums``: see _residual_sums), a reviewer's
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
    groups = [(n0, s1[:, :1], s2[:, :1], v0 + p.round_var)]
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
            low_idx[sl] = special.expit(log_prior_odds + ll_low[sl] - ll_effort[sl])
            mass += low_idx[sl] @ np.exp(ll - ll_low[sl, None])
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
    # The loop's fused pass computes its sites itself: drop the cached per-grade arrays.
    st.site_key, st.site_cache = (), ()
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
    s_prec_h = st.gamma + np.bincount(p.sub, weights=lam_h / (1.0 + lam_h * b_var_e), minlength=p.n_sub)
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

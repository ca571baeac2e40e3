"""How the calibrated model (see calibration.model) lays out its input and its state.

The input is indexed once (_Problem): reviewers and submissions relabelled in breadth-first order of the review
graph, grades sorted by reviewer and cut into cache-sized runs of whole reviewers, the observation set of each
grade. _State holds what the fit carries between iterations, as arrays per grade, per submission or per
reviewer in that layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from calibration.numerics import _log_lik_nodes, _weighted_bincount
from calibration.types import BoolArray, FloatArray, Grades, IntArray

# Number of noise scales over which the low-effort component is averaged.
_N_LOW_NODES = 16
# Reviewers per block of the reviewer-side computations (reviewers x nodes matrices that stay in cache).
_BLOCK = 4096
# Grades per run of the fused belief-propagation pass: its seven work arrays (about 0.9 MB) stay in L2.
_CHUNK = 16384


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
    tau: FloatArray  # E[tau_i]
    tau_h: FloatArray  # 1 / E[1/tau_i]: the precision a grade is worth once tau's own uncertainty is counted
    tau_a: FloatArray  # Gamma posterior shape per reviewer
    tau_b: FloatArray  # Gamma posterior rate per reviewer
    low_effort: FloatArray  # P(e_i = 0)
    low_logw: FloatArray  # log prior weights of the low-effort component's noise scales (learned)
    site_prec: FloatArray  # EP pseudo-observation precision per edge (for a unit reliability: scaled by tau)
    site_obs: FloatArray  # EP pseudo-observation value per edge
    msg_s_prec: FloatArray  # message edge -> submission (natural parameters)
    msg_s_h: FloatArray
    msg_b_prec: FloatArray  # message edge -> reviewer bias
    msg_b_h: FloatArray
    ee2: FloatArray  # E[(y - s - b)^2] per edge under the tilted distribution
    # The grades' natural parameters as the reviewer and the submission see them, and what they were computed
    # from (see calibration.propagation._site).
    site_key: tuple[int, int, int, int] | None = None
    site_cache: tuple[FloatArray, FloatArray, FloatArray, FloatArray] | None = None


def _intervals(grades: Grades, z: FloatArray) -> tuple[FloatArray, FloatArray, BoolArray]:
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


def _stable_order(key: IntArray, n_keys: int) -> IntArray:
    """``np.argsort(key, kind="stable")`` for non-negative integer keys below ``n_keys``, as an LSD radix sort
    on 16-bit digits (numpy sorts 16-bit keys stably by radix) when the keys fit in 32 bits."""
    if n_keys <= 1 << 16:
        return np.argsort(key.astype(np.uint16), kind="stable")
    if n_keys <= 1 << 32:
        order = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
        return order[np.argsort((key[order] >> 16).astype(np.uint16), kind="stable")]
    return np.argsort(key, kind="stable")


def _locality_labels(sub: IntArray, rev: IntArray, known: BoolArray, n_sub: int, n_rev: int) -> tuple[IntArray, IntArray]:
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
        parts: list[IntArray] = []
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


class _Problem:
    """The input, indexed once: edges (grades), the staff anchors, the observation sets."""

    def __init__(self, grades: Grades):
        self.grades = grades
        sub: IntArray = np.asarray(grades.submission, dtype=np.int64)
        rev: IntArray = np.asarray(grades.reviewer, dtype=np.int64)
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
        # and the fused belief-propagation pass (calibration.propagation._bp_pass) works on cache-sized runs
        # of whole reviewers.
        # ``order`` maps the internal order back to the caller's (per-grade outputs are returned in theirs).
        key = rev * 2 + self.known[sub]
        self.order = _stable_order(key, 2 * self.n_rev)
        self.sub, self.rev, self.z = sub[self.order], rev[self.order], z[self.order]
        self.edge_known = self.known[self.sub]
        lower, upper, self.censored = _intervals(grades, self.z)
        self.any_censored = bool(np.any(self.censored))
        # Only censored grades need their intervals (see calibration.propagation._update_sites): spare the memory.
        self.lower: FloatArray | None = lower if self.any_censored else None
        self.upper: FloatArray | None = upper if self.any_censored else None
        del lower, upper
        self.sub_count = np.bincount(self.sub, minlength=self.n_sub)
        self.rev_count = np.bincount(self.rev, minlength=self.n_rev).astype(np.float64)
        self.rev_has = self.rev_count > 0
        self.sub_has = (self.sub_count > 0) & ~self.known
        self.rev_staff_count = _weighted_bincount(self.rev, self.edge_known, self.n_rev)
        self.rev_est_count = self.rev_count - self.rev_staff_count
        self.rev_idx = np.flatnonzero(self.rev_has)
        self._plan_chunks(key[self.order])
        self._low_ll: FloatArray | None = None
        zc = self.z if self.z.size else np.zeros(1)
        self.z_mean = float(np.mean(zc))
        spread = float(np.std(zc))
        if grades.lo is not None and grades.hi is not None and grades.hi > grades.lo:
            spread = max(spread, 0.05 * (grades.hi - grades.lo))
        self.scale = spread if spread > 0 else 1.0
        # Variance of the rounding itself: what a rounded grade cannot tell, used when comparing components.
        self.round_var = (grades.step**2 / 12.0) if grades.step else (1e-4 * self.scale) ** 2
        self.low_prec_nodes = 1.0 / np.exp(np.linspace(np.log(1e-2 * self.scale), np.log(4.0 * self.scale), _N_LOW_NODES)) ** 2

    def _plan_chunks(self, rev_key: IntArray) -> None:
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

    def to_input_order(self, values: FloatArray) -> FloatArray:
        """A per-grade array in the caller's order."""
        out = np.empty_like(values)
        out[self.order] = values
        return out

    def low_effort_loglik(self) -> FloatArray:
        """log p(a reviewer's grades | low effort, noise scale node), reviewers x nodes; fixed, so cached."""
        if self._low_ll is None:
            zs1 = _weighted_bincount(self.rev, self.z, self.n_rev)[:, None]
            zs2 = _weighted_bincount(self.rev, self.z * self.z, self.n_rev)[:, None]
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

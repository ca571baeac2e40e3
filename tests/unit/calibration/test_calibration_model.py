"""The calibrated model, the baselines and model selection: properties and recovery on synthetic data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from calibration import fit
from calibration.fitting import METHODS
from calibration.model import fit_model_full, truncnorm_moments
from calibration.synthetic import CARELESS, NORMAL, simulate
from calibration.types import Grades

ALL = ("mean", "median", "mean_offset", "model", "auto")


@pytest.fixture(scope="module")
def base():
    return simulate(n_learners=600, seed=3)


@pytest.fixture(scope="module")
def base_model(base):
    return fit(base.grades, "model")


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_every_method_is_registered():
    assert set(ALL) <= set(METHODS)
    with pytest.raises(ValueError, match="unknown calibration method"):
        fit(simulate(n_learners=20, seed=0).grades, "nope")


@pytest.mark.parametrize("method", ALL)
def test_deterministic(method):
    g = simulate(n_learners=150, seed=1, careless=0.1).grades
    a, b = fit(g, method, seed=4), fit(g, method, seed=4)
    for name in ("mean", "sd", "low", "high", "reviewer_bias", "reviewer_weight", "grade_weight"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.method == b.method


def relabel(g: Grades, seed: int) -> tuple[Grades, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = rng.permutation(g.score.size)
    sub_perm = rng.permutation(g.n_submissions)  # old -> new
    rev_perm = rng.permutation(g.n_reviewers)
    out = Grades(
        sub_perm[g.submission[rows]],
        rev_perm[g.reviewer[rows]],
        g.score[rows],
        g.n_submissions,
        g.n_reviewers,
        sub_perm[g.staff_submission],
        g.staff_score,
        g.lo,
        g.hi,
        g.step,
    )
    return out, rows, sub_perm, rev_perm


@pytest.mark.parametrize("rounding", [0.0, 5.0])
def test_vectorised_fit_ignores_row_order_and_labels(rounding):
    # A per-review loop that depended on order would show here; the vectorised fit must not care. (Above the
    # small-data size: a small assignment's sampler agrees only up to Monte Carlo error, tested beside it.)
    g = simulate(n_learners=250, seed=2, rounding=rounding, careless=0.05).grades
    a = fit(g, "model")
    g2, rows, sub_perm, rev_perm = relabel(g, 7)
    b = fit(g2, "model")
    np.testing.assert_allclose(b.mean[sub_perm], a.mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b.sd[sub_perm], a.sd, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b.reviewer_bias[rev_perm], a.reviewer_bias, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b.grade_weight, a.grade_weight[rows], rtol=1e-6, atol=1e-8)
    # The fit relabels and reorders internally (for memory locality): every output must come back in the
    # caller's labels and order.
    np.testing.assert_allclose(b.reviewer_reliability[rev_perm], a.reviewer_reliability, rtol=1e-6)
    np.testing.assert_allclose(b.reviewer_weight[rev_perm], a.reviewer_weight, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b.reviewer_low_effort[rev_perm], a.reviewer_low_effort, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(b.reviewer_staff_seen[rev_perm], a.reviewer_staff_seen)
    ra, rb = fit_model_full(g), fit_model_full(g2)
    np.testing.assert_allclose(rb.loo_prec, ra.loo_prec[rows], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(rb.loo_h, ra.loo_h[rows], rtol=1e-6, atol=1e-8)


def test_fused_pass_does_not_depend_on_its_chunking(monkeypatch):
    # The belief-propagation pass runs over runs of whole reviewers; tiny runs (many boundaries, and
    # reviewers larger than a run) and two disconnected sections must give the same fit.
    import calibration.layout as layout

    d1 = simulate(n_learners=120, seed=5).grades
    d2 = simulate(n_learners=80, seed=6).grades
    g = Grades(
        np.concatenate([d1.submission, d2.submission + d1.n_submissions]),
        np.concatenate([d1.reviewer, d2.reviewer + d1.n_reviewers]),
        np.concatenate([d1.score, d2.score]),
        d1.n_submissions + d2.n_submissions + 1,
        d1.n_reviewers + d2.n_reviewers + 1,
        np.concatenate([d1.staff_submission, d2.staff_submission + d1.n_submissions]),
        np.concatenate([d1.staff_score, d2.staff_score]),
    )
    a = fit_model_full(g)
    monkeypatch.setattr(layout, "_CHUNK", 5)
    b = fit_model_full(g)
    np.testing.assert_allclose(b.fit.mean, a.fit.mean, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(b.fit.reviewer_bias, a.fit.reviewer_bias, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(b.loo_h, a.loo_h, rtol=1e-9, atol=1e-9)
    assert np.isnan(a.fit.mean[-1])  # the ungraded submission


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_sub=st.integers(1, 12),
    n_rev=st.integers(1, 8),
    n_grades=st.integers(0, 40),
    n_staff=st.integers(0, 3),
    bounded=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_any_small_assignment_gives_well_formed_output(n_sub, n_rev, n_grades, n_staff, bounded, seed):
    rng = np.random.default_rng(seed)
    sub = rng.integers(0, n_sub, n_grades)
    rev = rng.integers(0, n_rev, n_grades)
    score = rng.integers(0, 5, n_grades).astype(float) if bounded else rng.normal(10, 3, n_grades)
    staff = rng.choice(n_sub, size=min(n_staff, n_sub), replace=False)
    g = Grades(
        sub,
        rev,
        score,
        n_sub,
        n_rev,
        staff.astype(np.int64),
        rng.integers(0, 5, staff.size).astype(float),
        lo=0.0 if bounded else None,
        hi=4.0 if bounded else None,
        step=1.0 if bounded else None,
    )
    for method in ALL:
        f = fit(g, method)
        assert f.mean.shape == (n_sub,) and f.sd.shape == (n_sub,)
        assert f.reviewer_bias.shape == f.reviewer_weight.shape == f.reviewer_reliability.shape == (n_rev,)
        assert f.reviewer_staff_seen.shape == (n_rev,)
        assert f.grade_weight.shape == (n_grades,)
        graded = np.bincount(sub, minlength=n_sub) > 0
        is_staff = np.zeros(n_sub, bool)
        is_staff[staff] = True
        assert np.all(np.isnan(f.mean[~graded & ~is_staff]))
        assert np.all(np.isfinite(f.mean[graded | is_staff]))
        np.testing.assert_array_equal(f.mean[staff], g.staff_score)
        if bounded:
            ok = np.isfinite(f.mean)
            assert np.all((f.mean[ok] >= 0) & (f.mean[ok] <= 4))
        if method in ("model", "auto") and f.method == "model":
            assert np.all(np.isfinite(f.sd[graded])) and np.all(f.sd[graded & ~is_staff] > 0)
            assert np.all(f.low[graded] <= f.mean[graded] + 1e-9) and np.all(f.mean[graded] <= f.high[graded] + 1e-9)
            assert np.all((f.reviewer_low_effort >= 0) & (f.reviewer_low_effort <= 1))


def test_recovers_known_biases(base, base_model):
    bias = base_model.reviewer_bias
    assert np.corrcoef(bias, base.bias)[0, 1] > 0.8
    assert _rmse(bias, base.bias) < 3.5
    # Reliabilities are noisy with 6 grades each, but must track the truth.
    assert stats.spearmanr(base_model.reviewer_reliability, base.reliability).statistic > 0.3


def test_beats_the_baselines_on_the_protocol(base, base_model):
    n = base.n_learners
    model = _rmse(base_model.mean[:n], base.true_score[:n])
    for method in ("mean", "median", "mean_offset"):
        assert model < 0.9 * _rmse(fit(base.grades, method).mean[:n], base.true_score[:n])


def test_interval_coverage_is_roughly_right(base, base_model):
    n = base.n_learners
    truth = base.true_score[:n]
    inside = (truth >= base_model.low[:n]) & (truth <= base_model.high[:n])
    assert 0.91 <= float(np.mean(inside)) <= 0.98
    # The reported sd matches the actual error scale.
    ratio = _rmse(base_model.mean[:n], truth) / float(np.sqrt(np.mean(base_model.sd[:n] ** 2)))
    assert 0.85 < ratio < 1.15


def test_careless_and_random_reviewers_get_low_weight():
    d = simulate(n_learners=500, seed=5, careless=0.1, adversarial=0.05)
    f = fit(d.grades, "model")
    normal, careless = d.kind == NORMAL, d.kind == CARELESS
    assert np.mean(f.reviewer_low_effort[careless]) > 0.95
    assert np.mean(f.reviewer_low_effort[normal]) < 0.1
    assert np.mean(f.reviewer_weight[careless]) < 0.05 * np.mean(f.reviewer_weight[normal])
    # Their grades carry almost nothing of the submissions' scores.
    share = np.bincount(d.grades.reviewer, weights=f.grade_weight, minlength=d.grades.n_reviewers)
    assert np.sum(share[careless]) < 0.02 * np.sum(share)
    n = d.n_learners
    assert _rmse(f.mean[:n], d.true_score[:n]) < 0.75 * _rmse(fit(d.grades, "mean").mean[:n], d.true_score[:n])


def test_staff_samples_anchor_the_scale():
    d = simulate(n_learners=400, seed=6)
    g = d.grades
    shifted = Grades(g.submission, g.reviewer, g.score + 8.0, g.n_submissions, g.n_reviewers, g.staff_submission, g.staff_score)
    n = d.n_learners
    anchored = fit(shifted, "model")
    # Every reviewer is 8 points generous: the anchors move that into the biases, not into the scores.
    assert abs(float(np.mean(anchored.mean[:n] - d.true_score[:n]))) < 1.0
    assert abs(anchored.diagnostics["mean_bias"] - 8.0) < 1.0
    free = Grades(shifted.submission, shifted.reviewer, shifted.score, shifted.n_submissions, shifted.n_reviewers)
    relative = fit(free, "model")
    assert relative.diagnostics["biases_relative"] is True
    assert abs(float(np.mean(relative.mean[:n] - d.true_score[:n])) - 8.0) < 1.5
    assert anchored.reviewer_staff_seen.sum() == 2 * n


def test_rounded_bounded_grades():
    d = simulate(n_learners=400, seed=8, rounding=5)
    f = fit(d.grades, "model")
    n = d.n_learners
    assert np.all((f.mean >= 0) & (f.mean <= 100))
    assert np.all((f.low >= 0) & (f.high <= 100))
    assert _rmse(f.mean[:n], d.true_score[:n]) < _rmse(fit(d.grades, "mean").mean[:n], d.true_score[:n])


def test_truncated_normal_moments_match_scipy_and_survive_the_tails():
    a = np.array([-np.inf, -1.0, 0.5, 2.0, -3.0, 30.0, -40.0, 8.0])
    b = np.array([0.0, 1.0, 0.7, np.inf, np.inf, 30.5, -39.9, 8.001])
    mean, var = truncnorm_moments(a, b)
    ref_mean, ref_var = stats.truncnorm.stats(a[:5], b[:5], moments="mv")
    np.testing.assert_allclose(mean[:5], ref_mean, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(var[:5], ref_var, rtol=1e-6, atol=1e-9)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(var))
    assert np.all((mean >= a) & (mean <= b))


def test_empty_assignment():
    g = Grades(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), 3, 2, np.array([1]), np.array([7.0]))
    for method in ALL:
        f = fit(g, method)
        assert np.isnan(f.mean[0]) and np.isnan(f.mean[2]) and f.mean[1] == 7.0
        assert f.reviewer_bias.shape == (2,)


def test_auto_records_its_choice():
    d = simulate(n_learners=300, seed=9, careless=0.1)
    f = fit(d.grades, "auto")
    sel = f.diagnostics["selection"]
    assert f.method == sel["chosen"] == min(sel["loo_rmse"], key=sel["loo_rmse"].get)
    assert set(sel["loo_rmse"]) == {"mean", "median", "mean_offset", "model"}
    assert sel["n_staff_scored"] == 20 and sel["panel_size"] == 4
    assert f.method == "model"


def test_auto_without_staff_uses_the_model():
    d = simulate(n_learners=100, seed=10)
    g = d.grades
    free = Grades(g.submission, g.reviewer, g.score, g.n_submissions, g.n_reviewers)
    f = fit(free, "auto")
    assert f.method == "model"
    assert f.diagnostics["selection"]["loo_rmse"] == {}
    assert "reason" in f.diagnostics["selection"]


def test_auto_prefers_a_baseline_when_the_model_has_nothing_to_add():
    # Every reviewer is identical and unbiased except for a shared offset: mean_offset is exactly right, and
    # the leave-one-out comparison must not lose to it by more than noise.
    rng = np.random.default_rng(11)
    n, k = 300, 3
    true = rng.normal(50, 10, n + 30)
    sub = np.concatenate([(np.arange(n)[:, None] + np.arange(1, k + 1)) % n, n + (np.arange(n)[:, None] % 30)], axis=1).ravel()
    rev = np.repeat(np.arange(n), k + 1)
    z = true[sub] + 4.0 + rng.normal(0, 3, sub.size)
    g = Grades(sub, rev, z, n + 30, n, np.arange(n, n + 30), true[n:])
    f = fit(g, "auto")
    errs = f.diagnostics["selection"]["loo_rmse"]
    assert errs[f.method] <= min(errs.values()) + 1e-12
    assert _rmse(f.mean[:n], true[:n]) <= 1.05 * _rmse(fit(g, "mean_offset").mean[:n], true[:n])


def test_loo_approximation_matches_refitting_without_the_staff_score():
    d = simulate(n_learners=300, seed=12)
    g = d.grades
    full = fit_model_full(g)
    for held in range(3):
        item = g.staff_submission[held]
        on_item = g.submission == item
        approx = (full.gamma * full.mu + full.loo_h[on_item].sum()) / (full.gamma + full.loo_prec[on_item].sum())
        keep = np.arange(g.staff_submission.size) != held
        refit = fit(
            Grades(g.submission, g.reviewer, g.score, g.n_submissions, g.n_reviewers, g.staff_submission[keep], g.staff_score[keep]),
            "model",
        )
        assert abs(approx - refit.mean[item]) < 0.5
        assert abs(refit.mean[item] - g.staff_score[held]) < 4.0

"""Small data (issue 13): the cases users reported, honest intervals, borrowed strength, the small benchmark."""

from __future__ import annotations

import csv
import json
import random

import numpy as np
import pytest

from calibration.bench import main
from calibration.files import calibrate_files
from calibration.fitting import fit
from calibration.model import fit_model_full
from calibration.pooling import carry_over
from calibration.small_data import SMALL_SUBMISSIONS, is_small
from calibration.synthetic import simulate
from calibration.types import Grades, ReviewerPrior
from tests.unit.calibration.test_calibration_model import relabel


def _calibrate(tmp_path, rows, scale):
    grades = tmp_path / "G.csv"
    with open(grades, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission_id", "reviewer_id", "score"])
        writer.writerows(rows)
    out = tmp_path / "O.csv"
    summary = calibrate_files(grades, None, scale, out)
    with open(out, newline="") as handle:
        scores = {row["submission_id"]: (float(row["score"]), float(row["sd"])) for row in csv.DictReader(handle)}
    return summary, scores


def test_one_grade_of_7_on_0_to_10_is_not_certain(tmp_path):
    summary, scores = _calibrate(tmp_path, [("s1", "r1", "7")], "0:10")
    value, sd = scores["s1"]
    assert sd >= 1.0
    f = fit(Grades(np.array([0]), np.array([0]), np.array([7.0]), 1, 1, lo=0.0, hi=10.0, step=1.0), "auto")
    assert f.low[0] < f.mean[0] < f.high[0]
    assert f.mean[0] == pytest.approx(value, abs=1e-4)
    assert f.low[0] >= 0.0 and f.high[0] <= 10.0
    assert f.high[0] - f.low[0] >= 4.0  # an unknown reviewer's one grade: a wide interval
    assert summary["method"] == "model"


def test_three_submissions_on_0_to_100_keep_apart_with_wide_intervals(tmp_path):
    rows = [("a", "r1", "70"), ("a", "r2", "20"), ("b", "r3", "90"), ("c", "r4", "40")]
    _, scores = _calibrate(tmp_path, rows, "0:100")
    assert all(sd >= 10.0 for _, sd in scores.values())
    assert scores["b"][0] - scores["c"][0] > 10.0
    g = Grades(np.array([0, 0, 1, 2]), np.array([0, 1, 2, 3]), np.array([70.0, 20.0, 90.0, 40.0]), 3, 4, lo=0.0, hi=100.0, step=1.0)
    f = fit(g, "auto")
    assert np.all((f.low < f.mean) & (f.mean < f.high))
    # Before issue 13 all three came back at about 55 +- 3.6.
    assert np.ptp(f.mean) > 10.0


def _demo_like(seed: int, hi: float) -> Grades:
    """The demo course's shape: 6 submissions, 5 reviewers giving 3 reviews each (never their own), each to
    the least-reviewed work, random grades 2..4 on a 0..hi criterion."""
    rng = random.Random(seed)
    sub, rev, z = [], [], []
    count = [0] * 6
    for r in range(5):
        for s in sorted((s for s in range(6) if s != r), key=lambda s: (count[s], rng.random()))[:3]:
            count[s] += 1
            sub.append(s)
            rev.append(r)
            z.append(rng.randint(2, 4))
    return Grades(np.array(sub), np.array(rev), np.array(z, dtype=float), 6, 5, lo=0.0, hi=hi, step=1.0)


def test_demo_sized_courses_never_score_beyond_their_grades_or_on_an_interval_edge():
    # Before issue 13 grades of 2, 2 and 4 of 5 came back as 5.0 with interval [3.58, 5.0]; here some
    # 300 demo-sized criteria, every submission's score between its grades and the centre, strictly inside.
    for seed in range(25):
        for hi in (4.0, 5.0):
            g = _demo_like(seed, hi)
            f = fit(g, "auto")
            centre = f.diagnostics["mu"]
            for j in range(g.n_submissions):
                zs = g.score[g.submission == j]
                if zs.size == 0:
                    continue
                assert min(zs.min(), centre) - 1e-9 <= f.mean[j] <= max(zs.max(), centre) + 1e-9, (seed, hi, j, zs, f.mean[j])
                assert f.low[j] < f.mean[j] < f.high[j]
                assert f.low[j] >= 0.0 and f.high[j] <= hi


def test_small_fit_is_deterministic_and_chosen_by_size():
    d = simulate(n_learners=12, k=3, n_staff=2, seed=3, rounding=1)
    assert is_small(d.grades)
    a, b = fit(d.grades, "auto"), fit(d.grades, "auto")
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.high, b.high)
    assert a.method == "model" and a.diagnostics["selection"]["reason"].startswith("small assignment")
    assert a.diagnostics["small_data"] is True and a.diagnostics["sampler_rhat_max"] < 1.1
    # Staff samples keep their staff scores.
    staff = d.grades.staff_submission
    np.testing.assert_allclose(a.mean[staff], d.grades.staff_score)
    large = simulate(n_learners=SMALL_SUBMISSIONS + 20, k=3, seed=3)
    assert not is_small(large.grades)
    assert "small_data" not in fit_model_full(large.grades).fit.diagnostics


def test_small_intervals_carry_hyper_parameter_uncertainty():
    # Same grades, fewer submissions: the empirical-Bayes intervals of the loop alone are narrower than the
    # sampler's, which integrate over the spreads instead of plugging in their maxima.
    d = simulate(n_learners=8, k=3, n_staff=0, staff_per_reviewer=0, seed=5, rounding=1)
    em = fit_model_full(d.grades, small_data=False).fit
    small = fit_model_full(d.grades, small_data=True).fit
    assert np.mean(small.high - small.low) > np.mean(em.high - em.low)
    assert np.all((small.low < small.mean) & (small.mean < small.high))


def _harsh_course(seed: int):
    """Assignment 1: 40 submissions on 0..10, 12 reviewers, staff samples; reviewer 0 gives 2.5 points less."""
    rng = np.random.default_rng(seed)
    n_sub, n_rev = 40, 12
    true = rng.normal(6.0, 1.5, n_sub)
    sub = np.concatenate([rng.choice(n_sub, 12, replace=False) for _ in range(n_rev)])
    rev = np.repeat(np.arange(n_rev), 12)
    bias = np.where(np.arange(n_rev) == 0, -2.5, rng.normal(0.0, 0.3, n_rev))
    z = np.clip(np.round(true[sub] + bias[rev] + rng.normal(0.0, 0.6, sub.size)), 0, 10)
    staff = np.arange(8)
    return Grades(sub, rev, z, n_sub, n_rev, staff, true[staff], lo=0.0, hi=10.0, step=1.0)


def test_a_reviewer_known_to_be_harsh_is_corrected_on_the_next_assignment():
    first = fit(_harsh_course(1), "model")
    assert first.reviewer_bias[0] < -1.5
    assert first.reviewer_bias_sd is not None and first.reviewer_reliability_shape is not None
    # Assignment 2: three submissions, reviewer 0 grades two of them, two newcomers the third one.
    g2 = Grades(np.array([0, 1, 2, 2]), np.array([0, 0, 1, 2]), np.array([4.0, 5.0, 7.0, 6.0]), 3, 3, lo=0.0, hi=10.0, step=1.0)
    rel_unit = first.reviewer_reliability * 10.0**2
    prior = carry_over(np.arange(12), first.reviewer_bias / 10.0, rel_unit, np.full(12, 12.0), 3, 10.0)
    # Reviewers 1 and 2 of assignment 2 are newcomers (rows of assignment 1's reviewers 1, 2 are not theirs).
    prior = ReviewerPrior(
        bias_mean=np.array([prior.bias_mean[0], np.nan, np.nan]),
        bias_sd=np.array([prior.bias_sd[0], np.nan, np.nan]),
        reliability_shape=np.array([prior.reliability_shape[0], np.nan, np.nan]),
        reliability_rate=np.array([prior.reliability_rate[0], np.nan, np.nan]),
    )
    plain = fit(g2, "auto")
    pooled = fit(Grades(g2.submission, g2.reviewer, g2.score, 3, 3, lo=0.0, hi=10.0, step=1.0, reviewer_prior=prior), "auto")
    # Without the prior the harsh grades are taken at face value (relative to two others); with it they are raised.
    assert pooled.mean[0] > plain.mean[0] + 1.0 and pooled.mean[1] > plain.mean[1] + 1.0
    assert pooled.mean[0] > 5.5 and pooled.reviewer_bias[0] < -1.5
    assert np.all((pooled.low < pooled.mean) & (pooled.mean < pooled.high))
    assert pooled.diagnostics["small_data"] is True


def test_carry_over_inflates_and_ignores_what_it_cannot_use():
    prior = carry_over(
        np.array([0, 0, 1, 5]),
        np.array([-0.2, -0.1, np.nan, 0.1]),
        np.array([100.0, 100.0, 50.0, 80.0]),
        np.array([10.0, 30.0, 5.0, 4.0]),
        3,
        20.0,
    )
    assert prior.bias_mean[0] == pytest.approx((-0.2 * 10 - 0.1 * 30) / 40 * 20.0)
    # 40 grades of precision 100/R^2: a posterior sd of about R/sqrt(4000), inflated.
    assert prior.bias_sd[0] > 20.0 / np.sqrt(4000.0)
    # Mean of the reliability kept (100 / R^2), shape capped and halved.
    assert prior.reliability_shape[0] / prior.reliability_rate[0] == pytest.approx(100.0 / 400.0)
    assert prior.reliability_shape[0] <= 6.0
    assert np.isnan(prior.bias_mean[1]) and np.isnan(prior.bias_mean[2])  # NaN row, and no row


def test_small_bench_smoke(capsys):
    assert main(["small", "--quick", "--seeds", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) == {"n5_staff", "n5_nostaff", "n10_staff", "n10_nostaff"}
    for cell in result.values():
        assert {"coverage95", "rmse_over_mean", "rmse_over_exact"} <= set(cell)
        assert 0.0 <= cell["coverage95"] <= 1.0 and cell["rmse_over_mean"] > 0 and cell["rmse_over_exact"] > 0


def test_small_fit_ignores_row_order_and_labels_up_to_monte_carlo_error():
    d = simulate(n_learners=15, k=3, n_staff=3, seed=8, rounding=1)
    g = d.grades
    g2, _rows, sub_perm, rev_perm = relabel(g, 1)
    a, b = fit(g, "model"), fit(g2, "model")
    # Monte Carlo error from 4 x 250 autocorrelated draws: a few hundredths of a posterior sd for a mean, about
    # 5% of an sd for the sd itself (so 15% holds for all 18 at once).
    np.testing.assert_allclose(b.mean[sub_perm], a.mean, atol=0.1 * float(np.nanmax(a.sd)))
    np.testing.assert_allclose(b.sd[sub_perm], a.sd, rtol=0.15, atol=1e-9)
    np.testing.assert_allclose(b.reviewer_bias[rev_perm], a.reviewer_bias, atol=0.1 * float(np.nanmax(a.sd)))

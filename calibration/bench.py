"""Benchmarks of the calibration (issue 5). Progress goes to stderr; the last line of stdout is one JSON object.

    python -m calibration.bench synthetic [--k 4] [--careless 0] [--adversarial 0] [--rounding 0] [--seeds 5] --json
    python -m calibration.bench speed [--reviews 1000000] --json
    python -m calibration.bench real [--data DIR] --json
    python -m calibration.bench small [--seeds 200] [--quick] --json

Size options (``--submissions``, ``--sweeps``, ``--burn-in``, ``--chains``, ``--small-reviews``) exist so that the
test suite can run every subcommand in seconds; the defaults are the issue's protocol.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import numpy as np
from scipy import io

from calibration.fitting import fit
from calibration.gibbs import run_gibbs
from calibration.model import fit_model_full
from calibration.selection import fit_auto
from calibration.synthetic import BIAS_SD, NORMAL, REL_RATE, REL_SHAPE, TRUE_MEAN, TRUE_SD, Synthetic, simulate
from calibration.types import Grades

DEFAULT_REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "peer-grades-mifei"
_Z95 = 1.959963984540054


class Scores(TypedDict):
    """How close one method's estimates came to the true scores, on one seed."""

    rmse: float
    within5: float
    within10: float
    coverage95: float | None  # None when the method gives no finite interval
    seconds: NotRequired[float]
    chosen: NotRequired[str]  # auto: the method it chose


class MethodSummary(TypedDict):
    """A method's scores averaged over the seeds, and what else it reports."""

    rmse: float
    within5: float
    within10: float
    coverage95: float | None
    seconds: NotRequired[float]
    chosen: NotRequired[list[str]]  # auto: the method chosen on each seed
    split_rhat_max: NotRequired[float]  # bayes
    sweeps: NotRequired[int]
    burn_in: NotRequired[int]
    chains: NotRequired[int]


class SyntheticReport(TypedDict):
    protocol: dict[str, object]
    methods: dict[str, MethodSummary]
    ratios: dict[str, float]


class SpeedReport(TypedDict):
    reviews: int
    seconds: float
    peak_rss_mb: float
    seconds_100k: float
    scaling_ratio: float
    small_reviews: int
    grades_with_calibration_samples: int
    chosen: str


class RealMethod(TypedDict):
    rmse: float
    method: NotRequired[str]  # the chosen method's row: the method chosen on most folds
    chosen_per_fold: NotRequired[dict[str, int]]


class RealReport(TypedDict):
    n_staff: int
    folds: int
    methods: dict[str, RealMethod]
    chosen_over_best_baseline: float
    data: str
    evaluation: str


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _scores(mean: np.ndarray, low: np.ndarray | None, high: np.ndarray | None, truth: np.ndarray) -> Scores:
    err = mean - truth
    out: Scores = {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "within5": float(np.mean(np.abs(err) <= 5.0)),
        "within10": float(np.mean(np.abs(err) <= 10.0)),
        "coverage95": None,
    }
    if low is not None and high is not None and np.all(np.isfinite(low)) and np.all(np.isfinite(high)):
        out["coverage95"] = float(np.mean((truth >= low) & (truth <= high)))
    return out


def oracle(data: Synthetic) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and sd of the true scores when every bias and reliability is known, careless and
    adversarial reviewers are known and dropped, and the population of true scores is known."""
    g = data.grades
    w = np.where(data.kind[g.reviewer] == NORMAL, data.reliability[g.reviewer], 0.0)
    prec = 1.0 / TRUE_SD**2 + np.bincount(g.submission, weights=w, minlength=g.n_submissions)
    h = TRUE_MEAN / TRUE_SD**2 + np.bincount(g.submission, weights=w * (g.score - data.bias[g.reviewer]), minlength=g.n_submissions)
    return h / prec, 1.0 / np.sqrt(prec)


def run_synthetic(args: argparse.Namespace) -> SyntheticReport:
    names = ["mean", "median", "mean_offset", "model", "auto", "oracle", "bayes"]
    per_seed: dict[str, list[Scores]] = {name: [] for name in names}
    rhats = []
    for seed in range(args.seeds):
        data = simulate(
            n_learners=args.submissions, k=args.k, careless=args.careless, adversarial=args.adversarial, rounding=args.rounding, seed=seed
        )
        n = data.n_learners
        truth = data.true_score[:n]
        for name in ("mean", "median", "mean_offset", "model", "auto"):
            t0 = time.perf_counter()
            f = fit(data.grades, name, seed=seed)
            per_seed[name].append({**_scores(f.mean[:n], f.low[:n], f.high[:n], truth), "seconds": time.perf_counter() - t0})
            if name == "auto":
                per_seed[name][-1]["chosen"] = f.method
        om, osd = oracle(data)
        per_seed["oracle"].append(_scores(om[:n], om[:n] - _Z95 * osd[:n], om[:n] + _Z95 * osd[:n], truth))
        t0 = time.perf_counter()
        g = run_gibbs(
            data.grades,
            careless=args.careless,
            adversarial=args.adversarial,
            rounding=args.rounding,
            sweeps=args.sweeps,
            burn_in=args.burn_in,
            chains=args.chains,
            seed=seed,
        )
        per_seed["bayes"].append({**_scores(g.mean[:n], g.low[:n], g.high[:n], truth), "seconds": time.perf_counter() - t0})
        rhats.append(g.rhat_max)
        _log(
            f"seed {seed}: "
            + ", ".join(f"{k} {v[-1]['rmse']:.3f}" for k, v in per_seed.items())
            + f", bayes split R-hat max {g.rhat_max:.3f}"
        )
    methods: dict[str, MethodSummary] = {}
    for name, rows in per_seed.items():
        covered = [r["coverage95"] for r in rows if r["coverage95"] is not None]
        agg: MethodSummary = {
            "rmse": float(np.mean([r["rmse"] for r in rows])),
            "within5": float(np.mean([r["within5"] for r in rows])),
            "within10": float(np.mean([r["within10"] for r in rows])),
            "coverage95": float(np.mean(covered)) if len(covered) == len(rows) else None,
        }
        if "seconds" in rows[0]:
            agg["seconds"] = float(np.mean([r["seconds"] for r in rows]))
        methods[name] = agg
    methods["auto"]["chosen"] = [r["chosen"] for r in per_seed["auto"]]
    methods["bayes"]["split_rhat_max"] = float(np.max(rhats))
    methods["bayes"]["sweeps"] = args.sweeps
    methods["bayes"]["burn_in"] = args.burn_in
    methods["bayes"]["chains"] = args.chains
    model = methods["model"]["rmse"]
    return {
        "protocol": {
            "submissions": args.submissions,
            "k": args.k,
            "careless": args.careless,
            "adversarial": args.adversarial,
            "rounding": args.rounding,
            "seeds": args.seeds,
            "staff_samples": 20,
            "staff_per_reviewer": 2,
            "true_score": [TRUE_MEAN, TRUE_SD],
            "bias_sd": BIAS_SD,
            "reliability_gamma": [REL_SHAPE, REL_RATE],
            "scale": "rounded and clipped to [0, 100]" if args.rounding > 0 else "unbounded, not rounded",
        },
        "methods": methods,
        "ratios": {
            "model_over_bayes": model / methods["bayes"]["rmse"],
            "model_over_oracle": model / methods["oracle"]["rmse"],
            "model_over_best_baseline": model / min(methods[m]["rmse"] for m in ("mean", "median", "mean_offset")),
        },
    }


class SmallCell(TypedDict):
    """One cell of the small-data benchmark: the service's fit against the peer mean and the exact posterior."""

    coverage95: float
    rmse_over_mean: float
    rmse_over_exact: float
    rmse: float
    rmse_mean: float
    rmse_exact: float
    coverage95_exact: float
    mean_interval_width: float
    seeds: int
    submissions: int
    staff_samples: int


SMALL_SIZES = (5, 10, 20, 50)


def run_small_cell(n: int, *, staff: bool, seeds: int, k: int, rounding: float, sweeps: int, burn_in: int, chains: int) -> SmallCell:
    """``seeds`` assignments of ``n`` learners drawn from the PG1 priors (calibration.synthetic), each learner
    reviewing ``k`` peers and, with staff samples, 2 of max(2, n // 5) staff-graded samples; grades in whole
    points on 0..100. Pooled over seeds and the learners' submissions: coverage of the 95% intervals of the
    service's fit (``auto``), and its RMSE over that of the peer mean and of the exact posterior under the
    true hyper-parameters (calibration.gibbs)."""
    n_staff = max(2, n // 5) if staff else 0
    err_ours, err_mean, err_exact, hit, hit_exact, width = [], [], [], [], [], []
    for seed in range(seeds):
        data = simulate(n_learners=n, k=k, n_staff=n_staff, staff_per_reviewer=2 if staff else 0, rounding=rounding, seed=seed)
        truth = data.true_score[:n]
        ours = fit(data.grades, "auto", seed=seed)
        mean = fit(data.grades, "mean", seed=seed)
        exact = run_gibbs(data.grades, rounding=rounding, sweeps=sweeps, burn_in=burn_in, chains=chains, seed=seed)
        err_ours.append(ours.mean[:n] - truth)
        err_mean.append(mean.mean[:n] - truth)
        err_exact.append(exact.mean[:n] - truth)
        hit.append((truth >= ours.low[:n]) & (truth <= ours.high[:n]))
        hit_exact.append((truth >= exact.low[:n]) & (truth <= exact.high[:n]))
        width.append(ours.high[:n] - ours.low[:n])

    def rmse(errors: list[np.ndarray]) -> float:
        return float(np.sqrt(np.mean(np.square(np.concatenate(errors)))))

    r_ours, r_mean, r_exact = rmse(err_ours), rmse(err_mean), rmse(err_exact)
    return {
        "coverage95": float(np.mean(np.concatenate(hit))),
        "rmse_over_mean": r_ours / r_mean,
        "rmse_over_exact": r_ours / r_exact,
        "rmse": r_ours,
        "rmse_mean": r_mean,
        "rmse_exact": r_exact,
        "coverage95_exact": float(np.mean(np.concatenate(hit_exact))),
        "mean_interval_width": float(np.mean(np.concatenate(width))),
        "seeds": seeds,
        "submissions": n,
        "staff_samples": n_staff,
    }


def run_small(args: argparse.Namespace) -> dict[str, SmallCell]:
    seeds = min(args.seeds, 10) if args.quick else args.seeds
    sizes = (5, 10) if args.quick else SMALL_SIZES
    out: dict[str, SmallCell] = {}
    for n in sizes:
        for staff in (True, False):
            t0 = time.perf_counter()
            cell = run_small_cell(
                n,
                staff=staff,
                seeds=seeds,
                k=args.k,
                rounding=args.rounding,
                sweeps=100 if args.quick else args.sweeps,
                burn_in=50 if args.quick else args.burn_in,
                chains=2 if args.quick else args.chains,
            )
            key = f"n{n}_{'staff' if staff else 'nostaff'}"
            out[key] = cell
            _log(
                f"{key}: coverage {cell['coverage95']:.3f} (exact {cell['coverage95_exact']:.3f}), rmse {cell['rmse']:.2f}, "
                f"over mean {cell['rmse_over_mean']:.3f}, over exact {cell['rmse_over_exact']:.3f} ({time.perf_counter() - t0:.0f} s)"
            )
    return out


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _time_fit(reviews: int, k: int, seed: int) -> tuple[float, int, str]:
    learners = max(reviews // k, k + 1)
    data = simulate(n_learners=learners, k=k, n_staff=max(20, learners // 50), seed=seed)
    t0 = time.perf_counter()
    f = fit(data.grades, "auto", seed=seed)
    return time.perf_counter() - t0, int(data.grades.score.size), f.method


def run_speed(args: argparse.Namespace) -> SpeedReport:
    small = max(args.reviews // 10, 1000) if args.small_reviews is None else args.small_reviews
    # Warm up imports and caches on a tiny problem so that neither timing pays for them.
    _time_fit(2000, args.k, seed=1)
    seconds_small, _, _ = _time_fit(small, args.k, seed=0)
    _log(f"{small} reviews: {seconds_small:.2f} s")
    seconds, n_grades, method = _time_fit(args.reviews, args.k, seed=0)
    _log(f"{args.reviews} reviews ({n_grades} grades with the calibration samples): {seconds:.2f} s, chosen {method}")
    return {
        "reviews": args.reviews,
        "seconds": seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "seconds_100k": seconds_small,
        "scaling_ratio": seconds / seconds_small,
        "small_reviews": small,
        "grades_with_calibration_samples": n_grades,
        "chosen": method,
    }


def load_mifei(directory: Path) -> tuple[Grades, np.ndarray, np.ndarray]:
    """The Mi and Yeung (AAAI 2015) Coursera data: peer grades on 1..25 and the staff grades of a few gradees.

    Returns the grades (without staff anchors), the staff-graded submission indices and their staff scores.
    """
    rows = io.loadmat(str(directory / "gradeass3.mat"))["gradeass3"]
    ground = io.loadmat(str(directory / "ground3.mat"))["ground3"]

    def scalar(cell: object) -> np.integer[Any] | np.str_:
        # The only element of a MATLAB cell: an unsigned integer (ids, grades) or a string (grader hashes).
        value: np.integer[Any] | np.str_ = np.asarray(cell).ravel()[0]
        return value

    gradee = np.array([int(scalar(c)) for c in rows[:, 0]])
    grader = np.array([str(scalar(c)) for c in rows[:, 1]])
    score = np.array([float(scalar(c)) for c in rows[:, 3]])
    subs, sub = np.unique(gradee, return_inverse=True)
    _, rev = np.unique(grader, return_inverse=True)
    index = {int(s): i for i, s in enumerate(subs)}
    staff = np.array([index[int(g)] for g in ground[:, 0] if int(g) in index], dtype=np.int64)
    staff_score = np.array([float(s) for g, s in zip(ground[:, 0], ground[:, 1], strict=True) if int(g) in index])
    lo, hi = float(min(score.min(), 1.0)), float(max(score.max(), 25.0))
    grades = Grades(sub.astype(np.int64), rev.astype(np.int64), score, int(subs.size), int(rev.max() + 1), lo=lo, hi=hi, step=1.0)
    return grades, staff, staff_score


def run_real(args: argparse.Namespace) -> RealReport:
    directory = Path(args.data) if args.data else DEFAULT_REAL_DATA
    if not directory.is_dir():
        raise SystemExit(f"real data not found in {directory}; pass --data DIR")
    grades, staff, staff_score = load_mifei(directory)
    names = ("mean", "median", "mean_offset", "model", "auto")
    errors: dict[str, list[float]] = {name: [] for name in names}
    chosen = []
    # Leave-one-out: the staff grade being predicted is never given to the method (the others anchor it).
    folds = staff.size if args.folds is None else min(args.folds, staff.size)
    for j in range(folds):
        keep = np.arange(staff.size) != j
        g = Grades(
            grades.submission,
            grades.reviewer,
            grades.score,
            grades.n_submissions,
            grades.n_reviewers,
            staff[keep],
            staff_score[keep],
            lo=grades.lo,
            hi=grades.hi,
            step=grades.step,
        )
        result = fit_model_full(g)
        for name in names:
            if name == "model":
                f = result.fit
            elif name == "auto":
                f = fit_auto(g, seed=0, model_result=result)
                chosen.append(f.method)
            else:
                f = fit(g, name, seed=0)
            errors[name].append(float(f.mean[staff[j]] - staff_score[j]))
    rmse = {name: float(np.sqrt(np.mean(np.square(v)))) for name, v in errors.items()}
    counts = {m: chosen.count(m) for m in sorted(set(chosen))}
    methods: dict[str, RealMethod] = {name: {"rmse": rmse[name]} for name in ("mean", "median", "mean_offset", "model")}
    methods["chosen"] = {
        "rmse": rmse["auto"],
        "method": max(counts, key=counts.__getitem__) if counts else "model",
        "chosen_per_fold": counts,
    }
    best = min(rmse[m] for m in ("mean", "median", "mean_offset"))
    return {
        "n_staff": int(staff.size),
        "folds": folds,
        "methods": methods,
        "chosen_over_best_baseline": rmse["auto"] / best,
        "data": directory.name,
        "evaluation": "leave-one-out over the staff grades",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calibration.bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    syn = sub.add_parser("synthetic", help="accuracy on the synthetic protocol")
    syn.add_argument("--k", type=int, default=4)
    syn.add_argument("--careless", type=float, default=0.0)
    syn.add_argument("--adversarial", type=float, default=0.0)
    syn.add_argument("--rounding", type=float, default=0.0)
    syn.add_argument("--seeds", type=int, default=5)
    syn.add_argument("--submissions", type=int, default=1000)
    syn.add_argument("--sweeps", type=int, default=2000)
    syn.add_argument("--burn-in", type=int, default=300)
    syn.add_argument("--chains", type=int, default=4)
    spd = sub.add_parser("speed", help="fit time and memory of the service's fit (model selection included)")
    spd.add_argument("--reviews", type=int, default=1_000_000)
    spd.add_argument("--small-reviews", type=int, default=None, help="size of the scaling reference run (default reviews/10)")
    spd.add_argument("--k", type=int, default=4)
    real = sub.add_parser("real", help="leave-one-out on the dev real data")
    real.add_argument("--data", default=None, help="directory of the peer-grades-mifei files")
    real.add_argument("--folds", type=int, default=None, help="hold out only the first N staff grades (smoke runs)")
    small = sub.add_parser("small", help="coverage and accuracy on small assignments (issue 13)")
    small.add_argument("--seeds", type=int, default=200, help="assignments per cell")
    small.add_argument("--quick", action="store_true", help="a smoke run: n = 5 and 10, at most 10 seeds, short chains")
    small.add_argument("--k", type=int, default=3)
    small.add_argument("--rounding", type=float, default=1.0, help="grades in multiples of this on 0..100")
    small.add_argument("--sweeps", type=int, default=1000, help="sweeps of the exact posterior's sampler")
    small.add_argument("--burn-in", type=int, default=200)
    small.add_argument("--chains", type=int, default=4)
    for p in (syn, spd, real, small):
        p.add_argument("--json", action="store_true", help="print only the JSON summary on stdout")
    args = parser.parse_args(argv)
    runs: dict[str, Callable[[argparse.Namespace], Mapping[str, object]]] = {
        "synthetic": run_synthetic,
        "speed": run_speed,
        "real": run_real,
        "small": run_small,
    }
    result = runs[args.command](args)
    if not args.json:
        for key, value in result.items():
            print(f"{key}: {value}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

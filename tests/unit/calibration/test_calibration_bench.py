"""Smoke runs of every `python -m calibration.bench` subcommand at a tiny size: the JSON keys of issue 5."""

from __future__ import annotations

import json

import numpy as np
from scipy import io

from calibration.bench import main


def _last_json(capsys) -> dict:
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1])


def test_synthetic_smoke(capsys):
    assert (
        main(
            [
                "synthetic",
                "--submissions",
                "120",
                "--seeds",
                "1",
                "--sweeps",
                "80",
                "--burn-in",
                "20",
                "--chains",
                "2",
                "--careless",
                "0.1",
                "--adversarial",
                "0.05",
                "--rounding",
                "5",
                "--json",
            ]
        )
        == 0
    )
    result = _last_json(capsys)
    assert set(result) >= {"protocol", "methods"}
    assert set(result["methods"]) >= {"mean", "median", "mean_offset", "model", "oracle", "bayes"}
    for row in result["methods"].values():
        assert set(row) >= {"rmse", "within5", "within10", "coverage95"}
        assert row["rmse"] > 0 and 0 <= row["within5"] <= row["within10"] <= 1
    assert result["methods"]["bayes"]["split_rhat_max"] >= 1.0 - 1e-9
    assert result["methods"]["model"]["coverage95"] is not None


def test_speed_smoke(capsys):
    assert main(["speed", "--reviews", "8000", "--small-reviews", "2000", "--json"]) == 0
    result = _last_json(capsys)
    assert set(result) >= {"reviews", "seconds", "peak_rss_mb", "seconds_100k", "scaling_ratio"}
    assert result["reviews"] == 8000 and result["seconds"] > 0 and result["peak_rss_mb"] > 0


def _fake_mifei(directory, rng):
    # The layout of the dev data: a cell array (global gradee id, grader id, gradee id, score) and the staff grades.
    n_sub, n_rev = 60, 50
    true = rng.integers(5, 22, n_sub)
    rows = []
    for s in range(n_sub):
        for r in rng.choice(n_rev, 3, replace=False):
            rows.append(
                (
                    np.array([[1000 + s]], dtype=np.uint16),
                    np.array([f"g{r:03d}"]),
                    np.array([f"s{s:03d}"]),
                    np.array([[int(np.clip(true[s] + rng.integers(-3, 4), 1, 25))]], dtype=np.uint8),
                )
            )
    cells = np.empty((len(rows), 4), dtype=object)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            cells[i, j] = v
    io.savemat(directory / "gradeass3.mat", {"gradeass3": cells})
    staff = np.array([[1000 + s, true[s], true[s]] for s in range(8)], dtype=np.uint16)
    io.savemat(directory / "ground3.mat", {"ground3": staff})


def test_real_smoke(capsys, tmp_path):
    _fake_mifei(tmp_path, np.random.default_rng(0))
    assert main(["real", "--data", str(tmp_path), "--folds", "3", "--json"]) == 0
    result = _last_json(capsys)
    assert result["n_staff"] == 8 and result["folds"] == 3
    assert set(result["methods"]) >= {"mean", "median", "mean_offset", "model", "chosen"}
    assert set(result["methods"]["chosen"]) >= {"rmse", "method"}
    assert all(v["rmse"] >= 0 for v in result["methods"].values())

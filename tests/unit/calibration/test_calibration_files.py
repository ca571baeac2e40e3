"""`calibrate_files`: the CSV formats of docs/api.md, good and malformed."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from calibration.files import calibrate_files, parse_scale
from calibration.synthetic import simulate


def _write(path, header, rows):
    with open(path, "w", newline="") as handle:
        w = csv.writer(handle)
        if header is not None:
            w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def files(tmp_path):
    d = simulate(n_learners=120, seed=4, rounding=1)
    g = d.grades
    sid = [f"sub-{j:x}-ü" for j in range(g.n_submissions)]
    rid = [f"rev {i}" for i in range(g.n_reviewers)]
    grades = _write(
        tmp_path / "G.csv",
        ["submission_id", "reviewer_id", "score"],
        [(sid[s], rid[r], f"{z:g}") for s, r, z in zip(g.submission, g.reviewer, g.score, strict=True)],
    )
    staff = _write(
        tmp_path / "S.csv",
        ["submission_id", "score"],
        [(sid[s], f"{v:.3f}") for s, v in zip(g.staff_submission, g.staff_score, strict=True)],
    )
    return d, sid, grades, staff


def _read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_good_files_round_trip(files, tmp_path):
    d, sid, grades, staff = files
    out = tmp_path / "out" / "O.csv"
    summary = calibrate_files(grades, staff, "0:100", out)
    rows = _read(out)
    assert list(rows[0]) == ["submission_id", "score", "sd"]
    assert [r["submission_id"] for r in rows] == list(dict.fromkeys(sid[j] for j in d.grades.submission))
    assert summary["method"] in {"model", "mean", "median", "mean_offset"}
    assert summary["submissions"] == len(rows) == d.grades.n_submissions
    assert summary["staff_scores"] == 20 and summary["grades"] == d.grades.score.size
    by_id = {r["submission_id"]: r for r in rows}
    for j, v in zip(d.grades.staff_submission, d.grades.staff_score, strict=True):
        assert float(by_id[sid[j]]["score"]) == pytest.approx(v, abs=1e-3)
        assert float(by_id[sid[j]]["sd"]) == 0.0
    learners = np.array([float(by_id[sid[j]]["score"]) for j in range(d.n_learners)])
    assert np.all((learners >= 0) & (learners <= 100))
    err = np.sqrt(np.mean((learners - d.true_score[: d.n_learners]) ** 2))
    assert err < 6.0


def test_without_staff_or_scale(files, tmp_path):
    _, _, grades, _ = files
    summary = calibrate_files(grades, None, None, tmp_path / "O.csv")
    assert summary["method"] == "model" and summary["staff_scores"] == 0
    assert all(float(r["sd"]) > 0 for r in _read(tmp_path / "O.csv"))


@pytest.mark.parametrize(
    ("header", "rows", "scale", "message"),
    [
        (None, [], None, "is empty"),
        (["submission_id", "score"], [("a", "1")], None, "missing the column(s) reviewer_id"),
        (["submission_id", "reviewer_id", "score"], [], None, "no grades"),
        (["submission_id", "reviewer_id", "score"], [("a", "r", "high")], None, "not a number"),
        (["submission_id", "reviewer_id", "score"], [("a", "r", "nan")], None, "not a finite number"),
        (["submission_id", "reviewer_id", "score"], [("a", "r", "3"), ("b", "r", "17")], "0:16", "outside the scale 0:16"),
        (["submission_id", "reviewer_id", "score"], [("", "r", "3")], None, "must not be empty"),
    ],
)
def test_malformed_grades(tmp_path, header, rows, scale, message):
    path = _write(tmp_path / "G.csv", header, rows)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        calibrate_files(path, None, scale, tmp_path / "O.csv")
    assert not (tmp_path / "O.csv").exists()


def test_malformed_staff(tmp_path):
    grades = _write(tmp_path / "G.csv", ["submission_id", "reviewer_id", "score"], [("a", "r", "3"), ("b", "r", "4")])
    bad = _write(tmp_path / "S.csv", ["id", "score"], [("a", "3")])
    with pytest.raises(ValueError, match="missing the column"):
        calibrate_files(grades, bad, None, tmp_path / "O.csv")
    twice = _write(tmp_path / "S2.csv", ["submission_id", "score"], [("a", "3"), ("a", "5")])
    with pytest.raises(ValueError, match="two different staff scores"):
        calibrate_files(grades, twice, None, tmp_path / "O.csv")
    out_of_scale = _write(tmp_path / "S3.csv", ["submission_id", "score"], [("a", "30")])
    with pytest.raises(ValueError, match="outside the scale"):
        calibrate_files(grades, out_of_scale, "0:25", tmp_path / "O.csv")


@pytest.mark.parametrize("text", ["5", "a:b", "3:1", "1:2:3"])
def test_bad_scale(text):
    with pytest.raises(ValueError, match="scale"):
        parse_scale(text)


def test_scale_forms():
    assert parse_scale("0:16") == (0.0, 16.0)
    assert parse_scale((1, 25)) == (1.0, 25.0)
    assert parse_scale(None) is None

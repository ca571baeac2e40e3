"""`fairpeer calibrate` on files: read the CSV formats of docs/api.md, calibrate, write the scores.

G.csv: ``submission_id,reviewer_id,score`` (one row per peer grade); S.csv: ``submission_id,score`` (staff
grades, known true scores); O.csv (written): ``submission_id,score,sd`` for every submission in G.csv.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from pathlib import Path
from typing import TypedDict

import numpy as np

from calibration.fitting import fit
from calibration.types import Grades

StrPath = str | os.PathLike[str]


class FilesSummary(TypedDict):
    """What ``calibrate_files`` reports (``fairpeer calibrate`` prints it as JSON)."""

    method: str
    submissions: int
    reviewers: int
    grades: int
    staff_scores: int
    staff_scored_with_grades: int
    loo_rmse: dict[str, float]


def parse_scale(scale: str | tuple[float, float] | None) -> tuple[float, float] | None:
    """``"MIN:MAX"`` (or a pair) to (lo, hi); None stays None (an unbounded scale)."""
    if scale is None:
        return None
    if isinstance(scale, str):
        parts = scale.split(":")
        if len(parts) != 2:
            raise ValueError(f"--scale must look like MIN:MAX (for example 0:16), not {scale!r}.")
        try:
            lo, hi = float(parts[0]), float(parts[1])
        except ValueError:
            raise ValueError(f"--scale must look like MIN:MAX with two numbers (for example 0:16), not {scale!r}.") from None
    else:
        lo, hi = float(scale[0]), float(scale[1])
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"--scale needs MIN < MAX, both finite numbers; got {lo:g}:{hi:g}.")
    return lo, hi


def _read_rows(path: Path, required: tuple[str, ...], what: str) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None:
                raise ValueError(f"{path.name} is empty: {what} needs a header row {','.join(required)} and one row per grade.")
            header = [name.strip() for name in reader.fieldnames]
            missing = [name for name in required if name not in header]
            if missing:
                raise ValueError(
                    f"{path.name} is missing the column(s) {', '.join(missing)}: {what} needs the header row {','.join(required)}."
                )
            rows = [{(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in row.items()} for row in reader]
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not a UTF-8 text CSV file; save it as CSV (UTF-8) and try again.") from None
    except OSError as exc:
        raise ValueError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return rows


def _score(text: str, path: Path, line: int, bounds: tuple[float, float] | None) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{path.name}, line {line}: the score {text!r} is not a number; every score must be numeric.") from None
    if not math.isfinite(value):
        raise ValueError(f"{path.name}, line {line}: the score {text!r} is not a finite number.")
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise ValueError(
            f"{path.name}, line {line}: the score {value:g} is outside the scale {bounds[0]:g}:{bounds[1]:g}; fix the score or --scale."
        )
    return value


def _write_atomically(path: Path, rows: list[tuple[str, float, float]]) -> None:
    # Write beside the target and rename, so a reader never sees half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["submission_id", "score", "sd"])
            for sid, score, sd in rows:
                writer.writerow([sid, "" if math.isnan(score) else f"{score:.6g}", "" if math.isnan(sd) else f"{sd:.6g}"])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def calibrate_files(
    grades_path: StrPath, staff_path: StrPath | None, scale: str | tuple[float, float] | None, out_path: StrPath
) -> FilesSummary:
    """Calibrate the peer grades in ``grades_path`` (anchored by ``staff_path`` when given) and write O.csv.

    Model: the same as the service (``fit(..., method="auto")``): the calibrated model (PG1 with staff
    anchors, censoring at the scale's bounds and rounding to whole points when every grade is a whole number,
    low-effort reviewers) or the baseline that predicts held-out staff grades better. ``scale`` is "MIN:MAX",
    a (min, max) pair or None (unbounded). Ids are arbitrary strings. Raises ``ValueError`` with a sentence
    for the user when a file is malformed. Returns a summary: method used, counts, leave-one-out errors.
    """
    bounds = parse_scale(scale)
    grades_path = Path(grades_path)
    g_rows = _read_rows(grades_path, ("submission_id", "reviewer_id", "score"), "the grades file")
    if not g_rows:
        raise ValueError(f"{grades_path.name} has a header but no grades; add one row per peer grade.")
    sub_index: dict[str, int] = {}
    rev_index: dict[str, int] = {}
    sub, rev, score = [], [], []
    for line, row in enumerate(g_rows, start=2):
        sid, rid = row.get("submission_id", ""), row.get("reviewer_id", "")
        if not sid or not rid:
            raise ValueError(f"{grades_path.name}, line {line}: submission_id and reviewer_id must not be empty.")
        score.append(_score(row.get("score", ""), grades_path, line, bounds))
        sub.append(sub_index.setdefault(sid, len(sub_index)))
        rev.append(rev_index.setdefault(rid, len(rev_index)))
    n_graded = len(sub_index)
    staff: dict[int, float] = {}
    if staff_path is not None:
        staff_path = Path(staff_path)
        s_rows = _read_rows(staff_path, ("submission_id", "score"), "the staff grades file")
        for line, row in enumerate(s_rows, start=2):
            sid = row.get("submission_id", "")
            if not sid:
                raise ValueError(f"{staff_path.name}, line {line}: submission_id must not be empty.")
            value = _score(row.get("score", ""), staff_path, line, bounds)
            j = sub_index.setdefault(sid, len(sub_index))
            if j in staff and staff[j] != value:
                raise ValueError(f"{staff_path.name}, line {line}: submission {sid!r} has two different staff scores; keep one.")
            staff[j] = value
    z = np.asarray(score, dtype=np.float64)
    everything = np.concatenate([z, np.fromiter(staff.values(), dtype=np.float64, count=len(staff))])
    # Whole-number grades are rubric points: treat them as rounded to the point (a no-op when reviewers'
    # noise is far wider than a point, honest when it is not).
    step = 1.0 if np.all(everything == np.round(everything)) else None
    grades = Grades(
        submission=np.asarray(sub, dtype=np.int64),
        reviewer=np.asarray(rev, dtype=np.int64),
        score=z,
        n_submissions=len(sub_index),
        n_reviewers=len(rev_index),
        staff_submission=np.fromiter(staff.keys(), dtype=np.int64, count=len(staff)),
        staff_score=np.fromiter(staff.values(), dtype=np.float64, count=len(staff)),
        lo=bounds[0] if bounds else None,
        hi=bounds[1] if bounds else None,
        step=step,
    )
    result = fit(grades, "auto", seed=0)
    ids = list(sub_index)[:n_graded]
    _write_atomically(Path(out_path), [(ids[j], float(result.mean[j]), float(result.sd[j])) for j in range(n_graded)])
    selection = result.diagnostics.get("selection", {})
    return {
        "method": result.method,
        "submissions": n_graded,
        "reviewers": len(rev_index),
        "grades": int(z.size),
        "staff_scores": len(staff),
        "staff_scored_with_grades": int(selection.get("n_staff_scored", 0)),
        "loo_rmse": selection.get("loo_rmse", {}),
    }

"""The rubric belongs to the assignment: what a set of scores must look like to count."""

from __future__ import annotations

import math
from typing import Any

from reviews.courses.models import Assignment
from reviews.kernel.errors import invalid

# validate_scores' rule in one sentence, for the operations that document their 422 (Blueprint.refusals).
SCORES_RULE = "The scores do not score every criterion of the rubric within 0 to its max_points, or name another key."


def validate_scores(assignment: Assignment, scores: Any, field: str = "scores") -> dict[str, float]:
    """Every criterion scored, each within 0..max_points; nothing else."""
    if not isinstance(scores, dict):
        raise invalid({field: ["Must be an object of criterion key to points."]})
    problems: dict[str, list[str]] = {}
    out: dict[str, float] = {}
    known = {c["key"]: c for c in assignment.criteria}
    for key in scores:
        if key not in known:
            problems[f"{field}.{key}"] = [f"Unknown criterion; the rubric's keys are {sorted(known)}."]
    for key, criterion in known.items():
        if key not in scores:
            problems[f"{field}.{key}"] = ["Missing: score every criterion."]
            continue
        value = scores[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems[f"{field}.{key}"] = ["Must be a number."]
        elif not 0 <= value <= criterion["max_points"]:
            problems[f"{field}.{key}"] = [f"Must be between 0 and {criterion['max_points']}."]
        else:
            out[key] = float(value)
    if problems:
        raise invalid(problems, "Some scores are missing or out of range; score every criterion of the rubric within its points.")
    return out


def rubric_text(assignment: Assignment) -> str:
    """The rubric's own words (titles and descriptions): copying them is not an answer."""
    return "\n".join(f"{c['title']} {c.get('description', '')}" for c in assignment.criteria)

"""One fixed scenario, run the same way on every stack: fixed users, fixed order, scores chosen deterministically.

A reviewer's scores depend only on who reviews and whose work it is (read from the item text), so the scores
that come out depend only on what the service decides: allocation, calibration and release.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from reviews.allocation.models import Review
from reviews.courses.models import Assignment
from reviews.kernel.db import db
from reviews.scoring.models import Score
from reviews.submissions.models import ACTIVE, LEARNER_WORK, Submission
from tests.conftest import World, build_world, essay

LEARNERS = 6
ROUNDS = 3  # reviews each learner gives
SETTINGS: dict[str, Any] = {
    "reviews_required": 2,
    "reviews_to_give": ROUNDS,
    "calibration_share": 0.0,
    "max_attempts": 2,
    "min_words": 10,
}


def author_of(item_text: str) -> int:
    """Whose work a claimed item is: learner n submitted ``essay(n)`` (World.submit)."""
    for n in range(64):
        if essay(n) == item_text:
            return n
    raise AssertionError(f"cannot tell whose work this is: {item_text[:60]!r}")


def review_scores(reviewer: int, author: int) -> dict[str, int]:
    """Spread out and asymmetric, so medians and intervals differ between learners (rubric max: 4 each)."""
    return {"scope": (reviewer + 2 * author) % 5, "risks": (3 * reviewer + author + 1) % 5}


def submit_all(world: World) -> list[str]:
    ids = []
    for i, learner in enumerate(world.learners[:LEARNERS]):
        response = world.submit(learner, n=i)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def claim_and_review_all(world: World, settle: Callable[[World], None] | None = None) -> list[tuple[int, int]]:
    """Round after round, each learner in order claims the next item and reviews it. Returns (reviewer, author)."""
    pairs = []
    for _ in range(ROUNDS):
        for i, learner in enumerate(world.learners[:LEARNERS]):
            claim = world.claim(learner)
            assert claim.status_code == 201, claim.get_json()
            body = claim.get_json()
            author = author_of(body["item"]["text"])
            assert author != i, "a learner was given their own work"
            review = world.review(learner, body["claim_id"], review_scores(i, author))
            assert review.status_code == 201, review.get_json()
            pairs.append((i, author))
            if settle is not None:
                settle(world)
    assert len(set(pairs)) == len(pairs), "a learner reviewed the same work twice"
    return pairs


def run_scenario(app: Flask, client: FlaskClient, settle: Callable[[World], None] | None = None) -> World:
    """The scenario; ``settle(world)``, when given, runs after the submissions and after each review.

    Allocation reads what recalibration writes (adaptive review targets), so on a stack where background work
    runs apart from the request, the same scores need the same order of claims *and* recalibrations: settle
    waits for the background work of each step before the next, as inline background work does by itself.
    """
    world = build_world(app, client, n_learners=LEARNERS, **SETTINGS)
    submit_all(world)
    if settle is not None:
        settle(world)
    claim_and_review_all(world, settle)
    return world


def learner_submission(world: World, index: int) -> str:
    progress = world.learners[index].get(f"/api/assignments/{world.assignment_id}/progress")
    assert progress.status_code == 200, progress.get_json()
    return str(progress.get_json()["submission"]["id"])


def scores_by_email(world: World) -> dict[str, Any]:
    """Every learner's score as staff see it (value, interval, criteria, reviews, method), keyed by email."""
    out: dict[str, Any] = {}
    for i, learner in enumerate(world.learners[:LEARNERS]):
        response = world.staff.get(f"/api/submissions/{learner_submission(world, i)}")
        assert response.status_code == 200, response.get_json()
        out[learner.email] = response.get_json()["score"]
    return out


def background_idle(app: Flask, assignment_id: str) -> bool:
    """No background work of the assignment is outstanding, as far as the database tells: the scores count every
    review there is, no other change of inputs is newer than the last run, every submission was similarity-checked."""
    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        assert assignment is not None
        learner_work = (Submission.assignment_id == assignment_id, Submission.kind == LEARNER_WORK)
        unchecked = db.session.scalar(select(Submission.id).where(*learner_work, Submission.similarity_checked_at.is_(None)).limit(1))
        active = (*learner_work, Submission.status == ACTIVE)
        reviewed = db.session.scalar(
            select(func.count(Review.id))
            .join(Submission, Submission.id == Review.submission_id)
            .where(*active, Review.discounted.is_(False))
        )
        scored = db.session.scalar(
            select(func.coalesce(func.sum(Score.reviews), 0)).join(Submission, Submission.id == Score.submission_id).where(*active)
        )
        changed, calibrated = assignment.inputs_changed_at, assignment.calibrated_inputs_at
        return (
            unchecked is None
            and int(reviewed or 0) == int(scored or 0)
            and (changed is None or (calibrated is not None and calibrated >= changed))
        )


def calibration_settled(app: Flask, assignment_id: str) -> bool:
    """Background work is done and at least one recalibration ran."""
    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        assert assignment is not None
        ran = assignment.calibration_version > 0
    return ran and background_idle(app, assignment_id)


def run_deferred(app: Flask, client: FlaskClient) -> World:
    """The scenario with every background task held back until the end, then each run once (inline apps only):
    what a stack whose sends were all lost ends with once the sweep has re-sent the work."""
    background = app.extensions["fairpeer.background"]
    held: list[tuple[str, tuple[Any, ...]]] = []
    background.send = lambda name, args, countdown=None: held.append((name, tuple(args)))
    try:
        world = run_scenario(app, client)
    finally:
        del background.send
    for name, args in dict.fromkeys(held):
        background.run_now(name, args)
    return world


def differences(got: dict[str, Any], want: dict[str, Any], tol: float = 1e-9) -> list[str]:
    """Where two score tables disagree: per learner, value, interval, criteria (to ``tol``), reviews and method."""
    problems: list[str] = []
    if set(got) != set(want):
        return [f"learners differ: {sorted(set(got) ^ set(want))}"]
    for email in sorted(want):
        a, b = got[email], want[email]
        if a is None or b is None:
            if a != b:
                problems.append(f"{email}: score {a!r} vs {b!r}")
            continue
        for key in ("reviews", "method", "max"):
            if a.get(key) != b.get(key):
                problems.append(f"{email}: {key} {a.get(key)!r} vs {b.get(key)!r}")
        problems += [f"{email}: {p}" for p in _number_diffs("value", a.get("value"), b.get("value"), tol)]
        problems += [f"{email}: {p}" for p in _number_diffs("interval", a.get("interval"), b.get("interval"), tol)]
        ca, cb = a.get("criteria") or {}, b.get("criteria") or {}
        if set(ca) != set(cb):
            problems.append(f"{email}: criteria keys {sorted(ca)} vs {sorted(cb)}")
            continue
        for key in sorted(cb):
            problems += [f"{email}: criteria.{key}.{p}" for p in _number_diffs("value", ca[key].get("value"), cb[key].get("value"), tol)]
            problems += [
                f"{email}: criteria.{key}.{p}" for p in _number_diffs("interval", ca[key].get("interval"), cb[key].get("interval"), tol)
            ]
    return problems


def _number_diffs(name: str, a: Any, b: Any, tol: float) -> list[str]:
    if isinstance(b, list) or isinstance(a, list):
        if not (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)):
            return [f"{name} {a!r} vs {b!r}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _number_diffs(f"{name}[{i}]", x, y, tol)]
    if a is None or b is None:
        return [] if a is b else [f"{name} {a!r} vs {b!r}"]
    if not math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=tol):
        return [f"{name} {a!r} vs {b!r}"]
    return []

"""The reviewing grade (reviews/scoring/reviewing.py): careful, careless and random reviewers told apart with
honest intervals on a realistic synthetic assignment; helpfulness and the combined grade; the API, the pages and
every role's access; and the secrecy of the staff samples in what a reviewer is shown."""

from __future__ import annotations

import csv
import functools
import io
import re
from typing import Any

import numpy as np
import pytest
from flask import Flask

import calibration
from calibration.model import fit_model_full
from reviews.kernel.db import db
from reviews.scoring import reviewing
from reviews.scoring.models import ReviewingCloseness
from tests.conftest import World, build_world, essay
from tests.unit.submissions.learner_world import browser, page

CRITERIA, MAX, LEARNERS, REVIEWS, SAMPLES, SAMPLES_EACH = 5, 10, 240, 6, 20, 2
CARELESS, RANDOM, CAREFUL = 0, 1, 2


@functools.cache
def synthetic_assignment(seed: int) -> list[tuple[calibration.Grades, calibration.Fit]]:
    """A realistic assignment: 5 criteria of 0 to 10 points, 240 learners who each review 6 peers and 2 of 20
    staff-graded samples; typical reviewers with PG1's bias and spread, and three planted ones: reviewer 0 gives
    full marks to everything, reviewer 1 grades at random, reviewer 2 grades carefully."""
    rng = np.random.default_rng(seed)
    items = LEARNERS + SAMPLES
    truth = np.clip(rng.normal(6.0, 1.6, (items, CRITERIA)), 0, MAX)
    bias = rng.normal(0.0, 0.5, LEARNERS)
    spread = rng.gamma(3.0, 1 / 3, LEARNERS) * 0.8
    order, position = rng.permutation(LEARNERS), np.arange(LEARNERS)
    reviewer = np.concatenate([np.repeat(order, REVIEWS), np.repeat(order, SAMPLES_EACH)])
    peers = order[(position[:, None] + np.arange(1, REVIEWS + 1)) % LEARNERS].ravel()
    samples = LEARNERS + (position[:, None] * SAMPLES_EACH + np.arange(SAMPLES_EACH)).ravel() % SAMPLES
    work = np.concatenate([peers, samples])
    out = []
    for c in range(CRITERIA):
        points = truth[work, c] + bias[reviewer] + rng.standard_normal(reviewer.size) * spread[reviewer]
        points = np.where(reviewer == CAREFUL, truth[work, c] + rng.standard_normal(reviewer.size) * 0.4, points)
        points = np.where(reviewer == CARELESS, MAX, points)
        points = np.where(reviewer == RANDOM, rng.integers(0, MAX + 1, reviewer.size), points)
        grades = calibration.Grades(
            submission=work,
            reviewer=reviewer,
            score=np.clip(np.round(points), 0, MAX).astype(np.float64),
            n_submissions=items,
            n_reviewers=LEARNERS,
            staff_submission=np.arange(LEARNERS, items),
            staff_score=truth[LEARNERS:, c],
            lo=0.0,
            hi=float(MAX),
            step=1.0,
        )
        out.append((grades, fit_model_full(grades).fit))
    return out


def test_careful_careless_and_random_reviewers_are_ordered_with_separate_intervals() -> None:
    separated = 0
    seeds = range(10)
    for seed in seeds:
        got = reviewing.closeness(synthetic_assignment(seed), LEARNERS)
        careful, careless, rand = (float(got.value[j]) for j in (CAREFUL, CARELESS, RANDOM))
        assert careful > careless > rand, (seed, careful, careless, rand)
        # The careful reviewer's interval lies above both others' at every seed, far above.
        assert got.low[CAREFUL] > got.high[CARELESS] + 10 and got.low[CAREFUL] > got.high[RANDOM] + 10, seed
        for j in range(LEARNERS):
            assert got.low[j] <= got.value[j] <= got.high[j]
        separated += bool(got.low[CARELESS] > got.high[RANDOM])
        # Full marks for everything is steady but far: it shows as a lean upwards.
        assert got.lean_share[CARELESS] > 0.2 and abs(got.lean_share[CAREFUL]) < 0.05
    # All three intervals apart at most seeds (8 of these 10, 16 of seeds 0 to 19): with 40 grades each, a random
    # reviewer's grades sometimes happen to fall near the truth, and its interval then touches the careless one's.
    assert separated >= 8, separated
    first = reviewing.closeness(synthetic_assignment(0), LEARNERS)
    assert first.low[CAREFUL] > first.high[CARELESS] and first.low[CARELESS] > first.high[RANDOM]


def test_the_typical_reviewer_lands_between_and_few_grades_give_a_wide_interval() -> None:
    criteria = synthetic_assignment(3)
    got = reviewing.closeness(criteria, LEARNERS)
    typical = np.median(got.value[3:])
    assert got.value[CAREFUL] > typical > got.value[CARELESS]
    # The same assignment with one more reviewer who graded a single criterion of one sample: a wide interval.
    grades, _fit = criteria[0]
    one = calibration.Grades(
        submission=np.append(grades.submission, LEARNERS),
        reviewer=np.append(grades.reviewer, LEARNERS),
        score=np.append(grades.score, 7.0),
        n_submissions=grades.n_submissions,
        n_reviewers=LEARNERS + 1,
        staff_submission=grades.staff_submission,
        staff_score=grades.staff_score,
        lo=0.0,
        hi=float(MAX),
        step=1.0,
    )
    wide = reviewing.closeness([(one, fit_model_full(one).fit)], LEARNERS + 1)
    assert wide.grades[LEARNERS] == 1
    assert wide.high[LEARNERS] - wide.low[LEARNERS] > 2 * np.median(wide.high[:LEARNERS] - wide.low[:LEARNERS])


def row(value: float = 60.0, low: float = 50.0, high: float = 70.0) -> ReviewingCloseness:
    return ReviewingCloseness(
        assignment_id="a", reviewer_id="r", value=value, low=low, high=high, error_share=0.2, lean_share=0.0, grades=10, version=1
    )


def test_helpfulness_counts_with_its_weight_only_from_three_ratings() -> None:
    assert reviewing.combine(row(), (5.0, 2), 0.5).value == 60.0  # two ratings: one author's could be read off
    assert reviewing.combine(row(), (5.0, 30), 0.0).value == 60.0
    helped = reviewing.combine(row(), (5.0, 30), 0.5)
    hindered = reviewing.combine(row(), (1.0, 30), 0.5)
    assert hindered.value < 60.0 < helped.value < 100.0
    assert helped.value == pytest.approx(60 + 0.5 * 30 / 32 * 40)
    assert helped.low <= helped.value <= helped.high
    assert reviewing.combine(None, (5.0, 30), 0.5) == reviewing.NO_REVIEWS


def test_the_grade_combines_the_score_and_the_reviewing_grade_by_the_weight() -> None:
    score = {"value": 6.0, "interval": [5.0, 7.0], "max": 8.0, "method": "calibrated"}
    grade = reviewing.combine(row(50.0, 40.0, 60.0), None, 0.0)
    assert reviewing.combined_grade(score, grade, 0.0) == {"value": 6.0, "interval": [5.0, 7.0], "max": 8.0, "reviewing_weight": 0.0}
    mixed = reviewing.combined_grade(score, grade, 0.25)
    assert mixed["value"] == pytest.approx(0.75 * 6 + 0.25 * 4)
    assert mixed["interval"] == pytest.approx([0.75 * 5 + 0.25 * 3.2, 0.75 * 7 + 0.25 * 4.8])
    assert reviewing.combined_grade(score, None, 0.5)["value"] == pytest.approx(3.0)  # no reviews given: 0 for reviewing
    cancelled = {"value": 0.0, "interval": [0.0, 0.0], "max": 8.0, "method": "cancelled"}
    assert reviewing.combined_grade(cancelled, grade, 0.5)["value"] == 0.0


# ---- Through the service ---------------------------------------------------------------------------------------


def reviewed_world(app: Flask, **settings: Any) -> World:
    """Six learners who each submit and review two peers' work (calibration runs in the request)."""
    world = build_world(app, app.test_client(), n_learners=6, **settings)
    world.submit_and_review()
    return world


def test_a_reviewer_reads_their_grade_in_words_only_after_release(app: Flask) -> None:
    world = reviewed_world(app, reviewing_weight=0.3, reviews_to_give=3)  # each gives 2: released only by staff
    learner = world.learners[0]
    mine = f"/api/assignments/{world.assignment_id}/reviewing/mine"
    before = learner.get(mine)
    assert before.status_code == 200 and before.get_json() == {"released": False, "reviewing": None}
    assert "How you reviewed" not in page(browser(world, learner.id), f"/assignments/{world.assignment_id}")
    assert world.staff.post(f"/api/assignments/{world.assignment_id}/release").status_code == 200
    after = learner.get(mine).get_json()
    assert after["released"] is True
    grade = after["reviewing"]
    assert 0 <= grade["interval"][0] <= grade["value"] <= grade["interval"][1] <= 100
    assert "ratings" not in grade["helpfulness"]
    assert grade["words"] and "reviewing grade of" in grade["words"][0]
    # The score stays the calibrated project score; the grade mixes in 30% of the reviewing grade.
    own = learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["score"]
    assert own["grade"]["reviewing_weight"] == 0.3
    assert own["grade"]["value"] == pytest.approx(
        0.7 * own["value"] + 0.3 * own["grade"]["reviewing"] / 100 * own["max"], abs=5e-3
    )  # from the rounded figures shown
    with app.app_context():
        stored = db.session.get(ReviewingCloseness, (world.assignment_id, learner.id))
        assert stored is not None and stored.grades == 2 * 2  # two reviews of two criteria
    # scores.csv carries the grade beside the score.
    rows = list(csv.DictReader(io.StringIO(world.staff.get(f"/api/assignments/{world.assignment_id}/scores.csv").get_data(as_text=True))))
    mine_row = next(r for r in rows if r["learner_id"] == learner.id)
    assert float(mine_row["grade"]) == pytest.approx(own["grade"]["value"], abs=1e-3) and float(mine_row["score"]) == own["value"]


def test_every_role_gets_what_it_may(app: Flask) -> None:
    world = reviewed_world(app)
    listing = f"/api/assignments/{world.assignment_id}/reviewing"
    mine = f"/api/assignments/{world.assignment_id}/reviewing/mine"
    staff = world.staff.get(listing)
    assert staff.status_code == 200
    body = staff.get_json()
    assert body["reviewing_weight"] == 0.0 and body["helpfulness_weight"] == 0.25
    assert {r["reviewer_id"] for r in body["reviewers"]} == {learner.id for learner in world.learners}
    assert all("ratings" in r["helpfulness"] and r["grades"] == 4 for r in body["reviewers"])
    assert world.admin.get(listing).status_code == 200
    assert world.mentor.get(listing).status_code == 403
    assert world.learners[0].get(listing).status_code == 404
    assert world.outsider.get(listing).status_code == 404
    assert world.learners[0].get(mine).status_code == 200
    for caller in (world.staff, world.mentor):
        assert caller.get(mine).status_code == 403
    assert world.outsider.get(mine).status_code == 404
    assert world.staff.get("/api/assignments/nope/reviewing").status_code == 404
    staff_page = page(browser(world, world.staff.id), f"/assignments/{world.assignment_id}/reviewers")
    assert staff_page.count("Reviewing grade ") == len(world.learners)
    page(browser(world, world.mentor.id), f"/assignments/{world.assignment_id}/reviewers", 403)
    page(browser(world, world.learners[0].id), f"/assignments/{world.assignment_id}/reviewers", 404)


def test_the_weights_are_settings_within_bounds(app: Flask) -> None:
    world = build_world(app, app.test_client(), n_learners=2)
    path = f"/api/assignments/{world.assignment_id}"
    for bad in (-0.1, 1.5, "half", None):
        answer = world.staff.request("PATCH", path, json={"reviewing_weight": bad})
        assert answer.status_code == 422, bad
        assert "reviewing_weight" in answer.get_json()["error"]["details"]["fields"]
    changed = world.staff.request("PATCH", path, json={"reviewing_weight": 0.2, "helpfulness_weight": 0})
    assert changed.status_code == 200
    assert (changed.get_json()["reviewing_weight"], changed.get_json()["helpfulness_weight"]) == (0.2, 0.0)
    learner_view = world.learners[0].get(path).get_json()
    assert learner_view["reviewing_weight"] == 0.2  # what a learner is graded on is theirs to know
    assert world.learners[0].request("PATCH", path, json={"reviewing_weight": 1}).status_code == 403


# ---- Secrecy: nothing a reviewer is shown tells which of their reviews were of staff samples -------------------


def test_the_feedback_shows_nothing_per_review_and_nothing_of_samples(app: Flask) -> None:
    """Every reviewer is served a staff sample among their reviews, at a place they cannot tell. What each is shown
    of their reviewing grade, in the API and on the page, has one shape, names no review or work, and no sample."""
    world = build_world(app, app.test_client(), n_learners=6, calibration_share=0.3, reviews_to_give=3, reviews_required=2)
    sample = world.staff.post(
        f"/api/assignments/{world.assignment_id}/calibration-samples", json={"text": essay(40), "scores": {"scope": 4, "risks": 3}}
    )
    assert sample.status_code == 201
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    served: dict[str, bool] = {}
    review_ids: dict[str, list[str]] = {}
    for learner in world.learners:
        for _ in range(3):
            claim = world.claim(learner)
            if claim.status_code != 201:
                break
            answer = world.review(learner, claim.get_json()["claim_id"], {"scope": 3, "risks": 2})
            assert answer.status_code == 201
            review_ids.setdefault(learner.id, []).append(answer.get_json()["review_id"])
    listed = world.staff.get(f"/api/assignments/{world.assignment_id}/calibration-samples").get_json()["samples"]
    for review in listed[0]["reviews"]:
        served[review["reviewer_id"]] = True
    assert set(served) == {learner.id for learner in world.learners}, "every reviewer graded the sample"
    assert world.staff.post(f"/api/assignments/{world.assignment_id}/release").status_code == 200
    shapes = {}
    for learner in world.learners:
        answer = learner.get(f"/api/assignments/{world.assignment_id}/reviewing/mine")
        assert answer.status_code == 200
        body = answer.get_json()
        text = answer.get_data(as_text=True).casefold()
        assert "sample" not in text and "staff" not in text
        for review_id in review_ids.get(learner.id, []):
            assert review_id not in text
        assert sample.get_json()["id"] not in text
        shapes[learner.id] = sorted(_keys(body))
        section = _section(page(browser(world, learner.id), f"/assignments/{world.assignment_id}"), "reviewing-grade")
        assert section, "the learner's page shows the reviewing grade after release"
        assert "sample" not in section.casefold() and sample.get_json()["id"] not in section
    assert len({tuple(shape) for shape in shapes.values()}) == 1
    assert set(shapes[world.learners[0].id]) == {
        "released", "reviewing", "reviewing.value", "reviewing.interval", "reviewing.max", "reviewing.closeness",
        "reviewing.closeness.value", "reviewing.closeness.interval", "reviewing.helpfulness", "reviewing.helpfulness.mean",
        "reviewing.helpfulness.weight", "reviewing.words",
    }  # fmt: skip


def _keys(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {k for key, item in value.items() for k in {prefix + key} | _keys(item, prefix + key + ".")}
    return set()


def _section(html: str, section_id: str) -> str:
    start = html.find(f'id="{section_id}"')
    return "" if start < 0 else html[start : html.find("</section>", start)]


def test_the_staff_editor_sets_the_weights_in_percent(app: Flask) -> None:
    from tests.unit.courses.test_course_pages import assignments, editor_form, staff_browser

    world = build_world(app, app.test_client(), n_learners=2)
    browser = staff_browser(world)
    edit = f"/assignments/{world.assignment_id}/edit"
    page_text = browser.text(edit)
    assert "Reviewing grade" in page_text and 'value="25"' in page_text  # helpfulness_weight's default, in percent
    refused = browser.post_and_follow(edit, editor_form(reviewing_weight="150"), edit)
    assert re.search(r'id="assignment-reviewing-weight-error">Give a percentage from 0 to 100', refused), refused
    saved = browser.post_and_follow(edit, editor_form(reviewing_weight="30", helpfulness_weight="0"), edit)
    assert "The assignment is saved." in saved
    changed = next(iter(assignments(world).values()))
    assert (changed.reviewing_weight, changed.helpfulness_weight) == (0.3, 0.0)

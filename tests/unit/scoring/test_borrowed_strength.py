"""Issue 13 in the service: a reviewer's earlier assignments in the course carry over (partial pooling), and
small assignments get honest scores through `fairpeer calibrate` and the recalibration run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from reviews.allocation.models import Review
from reviews.cli import main
from reviews.courses.models import Assignment
from reviews.kernel.db import db
from reviews.scoring.models import ReviewerStat, Score
from reviews.scoring.pooling import earlier_reviewer_priors
from reviews.scoring.services import recalibrate
from tests.conftest import ASSIGNMENT, World, build_world, essay


def _review_all(world: World, assignment_id: str, scores_of, reviews_each: int) -> None:
    for learner in world.learners:
        for _ in range(reviews_each):
            claim = learner.post(f"/api/assignments/{assignment_id}/review-claims")
            assert claim.status_code == 201, claim.get_json()
            answer = learner.post(
                f"/api/review-claims/{claim.get_json()['claim_id']}/review",
                json={"scores": scores_of(learner), "comments": {"scope": "Clear."}, "overall_comment": "Solid work."},
            )
            assert answer.status_code == 201, answer.get_json()


def test_a_reviewer_harsh_on_assignment_1_is_corrected_on_assignment_2(app, client, course8):
    world = course8
    harsh = world.learners[0]
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    # Assignment 1: everyone gives 3 of 4 except the harsh reviewer, who gives 1.
    _review_all(world, world.assignment_id, lambda who: {"scope": 1, "risks": 1} if who is harsh else {"scope": 3, "risks": 3}, 3)
    with app.app_context():
        recalibrate(db.session, world.assignment_id)
        db.session.commit()
        stat = db.session.get_one(ReviewerStat, (world.assignment_id, harsh.id, "scope"))
        assert stat.bias is not None and stat.bias < -0.5
    second = world.staff.post(
        f"/api/courses/{world.course_id}/assignments",
        json={**ASSIGNMENT, "title": "Second plan", "reviews_required": 1, "reviews_to_give": 1},
    )
    assert second.status_code == 201
    second_id = second.get_json()["id"]
    for i, learner in enumerate(world.learners):
        assert learner.post(f"/api/assignments/{second_id}/submissions", json={"text": essay(i + 8)}).status_code == 201
    _review_all(world, second_id, lambda who: {"scope": 1, "risks": 1} if who is harsh else {"scope": 3, "risks": 3}, 1)
    with app.app_context():
        a2 = db.session.get_one(Assignment, second_id)
        index = {learner.id: i for i, learner in enumerate(world.learners)}
        priors = earlier_reviewer_priors(db.session, a2, index)
        prior = priors["scope"]
        assert prior is not None
        assert prior.bias_mean[0] < -0.5 and abs(prior.bias_mean[1]) < 0.3
        graded = db.session.scalars(
            select(Review.submission_id).where(Review.assignment_id == second_id, Review.reviewer_id == harsh.id)
        ).one()
        recalibrate(db.session, second_id)
        db.session.commit()
        pooled = db.session.get_one(Score, graded).criteria["scope"]
        # The harsh 1 of 4 is read as the 3 the others would have given (within an honest interval).
        assert pooled["value"] > 2.2
        assert pooled["interval"][0] < pooled["value"] < pooled["interval"][1]
        # Control: the same run without the history takes the 1 nearly at face value.
        db.session.execute(delete(ReviewerStat).where(ReviewerStat.assignment_id == world.assignment_id))
        db.session.get_one(Assignment, second_id).calibrated_inputs_at = None
        recalibrate(db.session, second_id)
        db.session.commit()
        alone = db.session.get_one(Score, graded).criteria["scope"]
        assert alone["value"] < pooled["value"] - 0.5


@pytest.fixture
def course8(app, client) -> World:
    return build_world(app, client, n_learners=8)


def test_calibrate_cli_on_the_reported_small_cases(tmp_path: Path) -> None:
    def run(rows, scale):
        grades = tmp_path / "G.csv"
        with open(grades, "w", newline="") as handle:
            csv.writer(handle).writerows([("submission_id", "reviewer_id", "score"), *rows])
        out = tmp_path / "O.csv"
        result = CliRunner().invoke(main, ["calibrate", "--grades", str(grades), "--scale", scale, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output.strip().splitlines()[-1])["method"] == "model"
        with open(out, newline="") as handle:
            return {row["submission_id"]: (float(row["score"]), float(row["sd"])) for row in csv.DictReader(handle)}

    one = run([("s", "r", "7")], "0:10")
    assert one["s"][1] >= 1.0 and 0.0 < one["s"][0] < 10.0
    three = run([("a", "r1", "70"), ("a", "r2", "20"), ("b", "r3", "90"), ("c", "r4", "40")], "0:100")
    assert all(sd >= 10.0 for _, sd in three.values())
    assert three["b"][0] - three["c"][0] > 10.0

"""The review gate through the API and the assignment page: each reason answers 422 ``review_rejected`` with
``details.reasons`` and stores nothing; the page keeps what the reviewer typed and says each reason by its box."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from reviews.allocation.models import LIVE, Review, ReviewClaim
from reviews.kernel.db import db
from tests.conftest import RUBRIC, World, build_world
from tests.unit.submissions.learner_world import browser, field_error, page, post_form, text_of

LEVELLED = {
    "criteria": [
        RUBRIC["criteria"][0],
        {
            **RUBRIC["criteria"][1],
            "levels": [{"points": 4, "description": "Every risk met"}, {"points": 1, "description": "No risk named"}],
        },
    ]
}
WHY = "The plan names no date for any of its milestones."


@pytest.fixture
def gated(app: Flask, client: FlaskClient) -> World:
    world = build_world(app, client, n_learners=3, rubric=LEVELLED)
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    return world


def send(world: World, body: dict[str, Any], learner: int = 0) -> Any:
    claim = world.claim(world.learners[learner]).get_json()["claim_id"]
    return claim, world.learners[learner].post(f"/api/review-claims/{claim}/review", json=body)


def stored_reviews(world: World) -> int:
    with world.app.app_context():
        return int(db.session.scalar(select(func.count(Review.id))) or 0)


def refusal(answer: Any) -> list[tuple[str, str]]:
    assert answer.status_code == 422, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == "review_rejected" and error["message"].startswith("Your review was not sent: ")
    for reason in error["details"]["reasons"]:
        assert reason["message"] in error["details"]["fields"][reason["field"]]
    return [(r["code"], r["field"]) for r in error["details"]["reasons"]]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"scores": {"scope": 0, "risks": 3}}, [("score_unexplained", "comments.scope")]),
        ({"scores": {"scope": 3, "risks": 1}}, [("score_unexplained", "comments.risks")]),  # the lowest level
        ({"scores": {"scope": 0, "risks": 3}, "comments": {"scope": "...."}}, [("punctuation_only", "comments.scope")]),
        ({"scores": {"scope": 0, "risks": 3}, "comments": {"scope": "no no no no"}}, [("repeated_word", "comments.scope")]),
        ({"scores": {"scope": 0, "risks": 3}, "comments": {"scope": "bad"}}, [("filler", "comments.scope")]),
        ({"scores": {"scope": 0, "risks": 3}, "comments": {"scope": "qwrtzp xcvbnm plkjhg"}}, [("gibberish", "comments.scope")]),
        ({"scores": {"scope": 0, "risks": 3}, "comments": {"scope": "Scope missing"}}, [("too_few_words", "comments.scope")]),
        ({"scores": {"scope": 3, "risks": 3}, "comments": {"risks": "good"}}, [("filler", "comments.risks")]),
        ({"scores": {"scope": 3, "risks": 3}, "overall_comment": "!!!"}, [("punctuation_only", "overall_comment")]),
        (
            {"scores": {"scope": 0, "risks": 1}, "comments": {"risks": "ok ok"}, "overall_comment": "good"},
            [("score_unexplained", "comments.scope"), ("repeated_word", "comments.risks"), ("filler", "overall_comment")],
        ),
    ],
)
def test_each_gate_reason_through_the_api(gated: World, body: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    claim, answer = send(gated, body)
    assert refusal(answer) == expected
    assert stored_reviews(gated) == 0
    with gated.app.app_context():
        assert db.session.get_one(ReviewClaim, claim).status == LIVE  # nothing happened: the claim is still theirs
    fixed = {**body, "comments": {"scope": WHY, "risks": WHY}, "overall_comment": "A clear plan; add dates."}
    again = gated.learners[0].post(f"/api/review-claims/{claim}/review", json=fixed)
    assert again.status_code == 201, again.get_json()


def test_a_required_overall_comment_set_through_patch(gated: World) -> None:
    patched = gated.staff.request("PATCH", f"/api/assignments/{gated.assignment_id}", json={"require_overall_comment": True})
    assert patched.status_code == 200 and patched.get_json()["require_overall_comment"] is True
    seen = gated.learners[0].get(f"/api/assignments/{gated.assignment_id}").get_json()
    assert seen["require_overall_comment"] is True  # the reviewer can know before writing
    claim, answer = send(gated, {"scores": {"scope": 3, "risks": 3}})
    assert refusal(answer) == [("overall_required", "overall_comment")]
    body = {"scores": {"scope": 3, "risks": 3}, "overall_comment": "Nice work"}
    assert refusal(gated.learners[0].post(f"/api/review-claims/{claim}/review", json=body)) == [("filler", "overall_comment")]
    body["overall_comment"] = "Clear scope; the risks need an owner each."
    assert gated.learners[0].post(f"/api/review-claims/{claim}/review", json=body).status_code == 201


def test_the_setting_defaults_to_off_and_refuses_a_non_boolean(gated: World) -> None:
    assert gated.staff.get(f"/api/assignments/{gated.assignment_id}").get_json()["require_overall_comment"] is False
    bad = gated.staff.request("PATCH", f"/api/assignments/{gated.assignment_id}", json={"require_overall_comment": "maybe"})
    assert bad.status_code == 422 and "require_overall_comment" in bad.get_json()["error"]["details"]["fields"]
    learner = gated.learners[0].request("PATCH", f"/api/assignments/{gated.assignment_id}", json={"require_overall_comment": True})
    assert learner.status_code == 403


def test_the_page_keeps_what_was_typed_and_says_each_reason_by_its_box(gated: World) -> None:
    learner = gated.learners[0]
    web = browser(gated, learner.id)
    back = f"/assignments/{gated.assignment_id}"
    claim = gated.claim(learner).get_json()["claim_id"]
    typed = {"scores.scope": "0", "scores.risks": "2", "comments.scope": "", "comments.risks": "ok", "overall_comment": "My long thoughts."}
    sent = post_form(web, f"/review-claims/{claim}/review", back, "review", typed)
    assert sent.status_code == 303 and sent.headers["Location"].endswith("#form-review")
    html = page(web, back)
    assert "Your review was not sent" in text_of(html)
    assert field_error(html, "review", "comments.scope").startswith("You gave Scope 0 points")
    assert "says nothing specific" in field_error(html, "review", "comments.risks")
    assert field_error(html, "review", "overall_comment") == ""
    assert "My long thoughts.</textarea>" in html and ">ok</textarea>" in html  # what was typed is kept
    assert 'name="scores.scope" type="number" value="0"' in html and '<option value="2" selected>' in html  # the points too
    assert stored_reviews(gated) == 0
    typed.update({"comments.scope": WHY, "comments.risks": "Two risks named."})
    done = post_form(web, f"/review-claims/{claim}/review", back, "review", typed)
    assert done.status_code == 303 and stored_reviews(gated) == 1


def test_the_editor_sets_the_requirement(gated: World) -> None:
    web = browser(gated, gated.staff.id)
    edit = f"/assignments/{gated.assignment_id}/edit"
    html = page(web, edit)
    assert 'name="require_overall_comment"' in html and "Every review needs an overall comment" in html
    with gated.app.app_context():
        from reviews.courses.models import Assignment

        assignment = db.session.get_one(Assignment, gated.assignment_id)
        form = _editor_form(assignment)
    form["require_overall_comment"] = "1"
    assert post_form(web, edit, edit, "assignment", form).status_code == 303
    assert gated.staff.get(f"/api/assignments/{gated.assignment_id}").get_json()["require_overall_comment"] is True
    assert 'name="require_overall_comment" type="checkbox" value="1" checked' in page(web, edit)
    del form["require_overall_comment"]  # an unticked box is not sent
    assert post_form(web, edit, edit, "assignment", form).status_code == 303
    assert gated.staff.get(f"/api/assignments/{gated.assignment_id}").get_json()["require_overall_comment"] is False


def _editor_form(assignment: Any) -> dict[str, str]:
    form = {
        "title": assignment.title,
        "prompt": assignment.prompt,
        "reviews_required": str(assignment.reviews_required),
        "reviews_to_give": str(assignment.reviews_to_give),
        "calibration_share": "0",
        "max_attempts": str(assignment.max_attempts),
        "attempt_cooldown_hours": "0",
        "min_words": str(assignment.min_words),
        "training_samples": "0",
    }
    for i, c in enumerate(assignment.criteria):
        form.update({f"rubric.criteria.{i}.{k}": str(c.get(k, "")) for k in ("key", "title", "description", "max_points")})
        form[f"rubric.criteria.{i}.levels"] = "\n".join(f"{lv['points']}: {lv['description']}" for lv in c.get("levels") or [])
    return form

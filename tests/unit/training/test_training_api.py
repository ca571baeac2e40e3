"""Training before live reviews, through the API: the learner's journey, the rules (tolerance, three tries, what
counts), the staff's set of training samples, and who may do what."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Caller, World, build_world, make_user

SAMPLE = {
    "text": "Training text: a reading corner in the village hall, open on Saturday mornings, run by two volunteers.",
    "scores": {"scope": 3, "risks": 1},
    "comments": {"scope": "The scope is clear: one room, one morning, two people.", "risks": "Only one risk is named, and vaguely."},
}


def training_world(app: Flask, client: FlaskClient, samples: int = 1, **settings: Any) -> World:
    world = build_world(app, client, n_learners=4, training_samples=samples, **settings)
    for i in range(samples):
        body = {**SAMPLE, "text": f"{SAMPLE['text']} Version {i}."}
        added = world.staff.post(f"/api/assignments/{world.assignment_id}/training/samples", json=body)
        assert added.status_code == 201, added.get_json()
    return world


def training(world: World, learner: Caller) -> Any:
    answer = learner.get(f"/api/assignments/{world.assignment_id}/training")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def grade(world: World, learner: Caller, scores: dict[str, float], sample_id: str | None = None, **extra: Any) -> Any:
    sample_id = sample_id or training(world, learner)["current"]["sample_id"]
    return learner.post(f"/api/assignments/{world.assignment_id}/training/tries", json={"sample_id": sample_id, "scores": scores, **extra})


def test_a_learner_trains_then_claims_a_live_review(app: Flask, client: FlaskClient) -> None:
    world = training_world(app, client)
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    learner = world.learners[0]
    refused = world.claim(learner)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "training_required"
    assert f"/assignments/{world.assignment_id}/training" in error["message"]
    assert error["details"] == {"training_url": f"/assignments/{world.assignment_id}/training", "done": 0, "required": 1}

    before = training(world, learner)
    assert before["state"] == "not_started" and before["required"] == 1 and before["max_tries"] == 3
    assert before["current"]["text"].startswith("Training text") and before["current"]["tries_left"] == 3
    # Before grading, the staff's points and comments are nowhere in what the learner gets.
    assert SAMPLE["comments"]["scope"] not in str(before) and before["samples"] == []

    off = grade(world, learner, {"scope": 1, "risks": 1}, comments={"scope": "Too vague."})
    assert off.status_code == 201, off.get_json()
    body = off.get_json()
    assert body["passed"] is False and body["try_number"] == 1 and body["tries_left"] == 2 and body["sample_done"] is False
    scope = next(c for c in body["criteria"] if c["key"] == "scope")
    assert scope == {
        "key": "scope",
        "title": "Scope",
        "max_points": 4,
        "yours": 1.0,
        "staff": 3.0,
        "off_by": -2.0,
        "tolerance": 1.0,
        "within": False,
        "your_comment": "Too vague.",
        "staff_comment": SAMPLE["comments"]["scope"],
    }
    assert body["training"] == {"state": "in_progress", "finished": False, "required": 1, "done": 0, "max_tries": 3}
    assert world.claim(learner).get_json()["error"]["code"] == "training_required"

    within = grade(world, learner, {"scope": 4, "risks": 2})
    assert within.status_code == 201 and within.get_json()["passed"] is True and within.get_json()["try_number"] == 2
    assert within.get_json()["training"]["state"] == "passed"
    after = training(world, learner)
    assert after["finished"] is True and after["current"] is None and [len(s["tries"]) for s in after["samples"]] == [2]

    claimed = world.claim(learner)
    assert claimed.status_code == 201, claimed.get_json()
    assert claimed.get_json()["item"]["text"] != after["samples"][0]["text"]
    # Training is no review: nothing counts toward reviews_to_give.
    progress = learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()
    assert progress["reviews_given"] == 0 and progress["reviews_owed"] == 2
    again = grade(world, learner, {"scope": 3, "risks": 1}, sample_id=after["samples"][0]["sample_id"])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "training_done"


def test_after_three_tries_a_learner_goes_on_and_staff_see_it(app: Flask, client: FlaskClient) -> None:
    world = training_world(app, client, samples=2)
    learner = world.learners[1]
    assert world.submit(learner, n=1).status_code == 201
    first = training(world, learner)["current"]["sample_id"]
    for n in (1, 2, 3):
        answer = grade(world, learner, {"scope": 0, "risks": 4}, sample_id=first)
        assert answer.status_code == 201 and answer.get_json()["try_number"] == n and answer.get_json()["passed"] is False
    assert answer.get_json()["sample_done"] is True and answer.get_json()["tries_left"] == 0
    fourth = grade(world, learner, {"scope": 3, "risks": 1}, sample_id=first)
    assert fourth.status_code == 409 and fourth.get_json()["error"]["code"] == "training_done"
    state = training(world, learner)
    assert state["done"] == 1 and state["current"]["sample_id"] != first and state["state"] == "in_progress"
    assert world.claim(learner).get_json()["error"]["details"]["done"] == 1
    assert grade(world, learner, {"scope": 3, "risks": 1}).get_json()["training"]["state"] == "went_on"
    assert world.claim(learner).status_code in (201, 404)  # no longer training_required (404: nothing to review yet)
    assert world.claim(learner).get_json().get("error", {}).get("code") != "training_required"

    rows = world.staff.get(f"/api/assignments/{world.assignment_id}/training/learners").get_json()["learners"]
    by_id = {row["learner_id"]: row for row in rows}
    assert by_id[learner.id]["went_on"] is True and by_id[learner.id]["state"] == "went_on" and by_id[learner.id]["tries"] == 4
    assert by_id[world.learners[0].id] == {
        "learner_id": world.learners[0].id,
        "name": "Learner 0",
        "email": "learner0@example.org",
        "state": "not_started",
        "went_on": False,
        "done": 0,
        "required": 2,
        "tries": 0,
    }


@pytest.mark.parametrize(
    ("tolerance", "scores", "passed"),
    [
        (None, {"scope": 2, "risks": 2}, True),  # off by exactly 1: 10% of 4 points is below the 1 point floor
        (None, {"scope": 1.5, "risks": 1}, False),  # off by 1.5
        (0, {"scope": 3, "risks": 1}, True),
        (0, {"scope": 3, "risks": 1.5}, False),
        (2, {"scope": 1, "risks": 3}, True),
        (2, {"scope": 0.5, "risks": 1}, False),
    ],
)
def test_the_tolerance_in_points(app: Flask, client: FlaskClient, tolerance: float | None, scores: dict[str, float], passed: bool) -> None:
    world = training_world(app, client, training_tolerance=tolerance)
    answer = grade(world, world.learners[0], scores)
    assert answer.status_code == 201 and answer.get_json()["passed"] is passed
    expected = 1.0 if tolerance is None else float(tolerance)
    assert training(world, world.learners[0])["tolerance"] == {"scope": expected, "risks": expected}


def test_the_default_tolerance_is_ten_percent_of_a_wide_criterion(app: Flask, client: FlaskClient) -> None:
    rubric = {"criteria": [{"key": "overall", "title": "Overall", "max_points": 100}]}
    world = build_world(app, client, n_learners=2, training_samples=1, rubric=rubric)
    body = {"text": "A training text.", "scores": {"overall": 70}, "comments": {"overall": "Good, with gaps in the risks."}}
    assert world.staff.post(f"/api/assignments/{world.assignment_id}/training/samples", json=body).status_code == 201
    assert training(world, world.learners[0])["tolerance"] == {"overall": 10.0}
    assert grade(world, world.learners[0], {"overall": 81}).get_json()["passed"] is False
    assert grade(world, world.learners[0], {"overall": 60}).get_json()["passed"] is True


def test_training_is_off_by_default_and_when_staff_added_no_samples(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, n_learners=3)
    assert world.learners[0].get(f"/api/assignments/{world.assignment_id}").get_json()["training_samples"] == 0
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    assert world.claim(world.learners[0]).status_code == 201
    assert training(world, world.learners[0])["state"] == "not_required"
    # Asking for training without any training sample does not lock learners out.
    patched = world.staff.request("PATCH", f"/api/assignments/{world.assignment_id}", json={"training_samples": 2})
    assert patched.status_code == 200 and patched.get_json()["training_samples"] == 2
    assert world.claim(world.learners[1]).status_code == 201
    state = training(world, world.learners[2])
    assert state["required"] == 0 and state["finished"] is True and state["current"] is None


def test_fewer_samples_than_the_setting_asks_for(app: Flask, client: FlaskClient) -> None:
    world = training_world(app, client, samples=1)
    assert world.staff.request("PATCH", f"/api/assignments/{world.assignment_id}", json={"training_samples": 3}).status_code == 200
    learner = world.learners[0]
    assert training(world, learner)["required"] == 1
    assert grade(world, learner, {"scope": 3, "risks": 1}).get_json()["training"]["finished"] is True


@pytest.mark.parametrize("value", [-1, 21, 1.5, "two"])
def test_the_training_setting_is_checked(world: World, value: Any) -> None:
    answer = world.staff.request("PATCH", f"/api/assignments/{world.assignment_id}", json={"training_samples": value})
    assert answer.status_code == 422 and "training_samples" in answer.get_json()["error"]["details"]["fields"]
    tolerance = world.staff.request("PATCH", f"/api/assignments/{world.assignment_id}", json={"training_tolerance": -0.5})
    assert tolerance.status_code == 422


def test_refused_tries_say_why(app: Flask, client: FlaskClient) -> None:
    world = training_world(app, client)
    learner = world.learners[0]
    missing = grade(world, learner, {"scope": 3})
    assert missing.status_code == 422 and "scores.risks" in missing.get_json()["error"]["details"]["fields"]
    over = grade(world, learner, {"scope": 5, "risks": 1})
    assert over.status_code == 422 and "scores.scope" in over.get_json()["error"]["details"]["fields"]
    unknown = grade(world, learner, {"scope": 3, "risks": 1}, comments={"style": "Nice."})
    assert unknown.status_code == 422 and "comments.style" in unknown.get_json()["error"]["details"]["fields"]
    nowhere = grade(world, learner, {"scope": 3, "risks": 1}, sample_id="no-such-sample")
    assert nowhere.status_code == 404
    # None of the refusals used a try.
    assert training(world, learner)["current"]["tries_left"] == 3


def test_a_retried_try_is_stored_once(app: Flask, client: FlaskClient) -> None:
    world = training_world(app, client)
    learner = world.learners[0]
    sample_id = training(world, learner)["current"]["sample_id"]
    body = {"sample_id": sample_id, "scores": {"scope": 0, "risks": 4}}
    first = learner.post(f"/api/assignments/{world.assignment_id}/training/tries", json=body, headers={"Idempotency-Key": "try-1"})
    again = learner.post(f"/api/assignments/{world.assignment_id}/training/tries", json=body, headers={"Idempotency-Key": "try-1"})
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    assert training(world, learner)["current"]["tries_left"] == 2


def test_staff_add_change_and_remove_training_samples(app: Flask, client: FlaskClient) -> None:
    world = training_world(app, client, samples=2)
    base = f"/api/assignments/{world.assignment_id}/training/samples"
    listed = world.staff.get(base).get_json()
    assert listed["training_samples"] == 2 and len(listed["samples"]) == 2
    first, second = listed["samples"]
    assert first["scores"] == SAMPLE["scores"] and first["comments"] == SAMPLE["comments"] and first["tries"] == 0

    no_comment = world.staff.post(base, json={**SAMPLE, "comments": {"scope": "Clear."}})
    assert no_comment.status_code == 422
    assert list(no_comment.get_json()["error"]["details"]["fields"]) == ["comments.risks"]
    blank = world.staff.post(base, json={**SAMPLE, "text": "   "})
    assert blank.status_code == 422 and "text" in blank.get_json()["error"]["details"]["fields"]
    assert world.staff.post(base, json={**SAMPLE, "scores": {"scope": 9, "risks": 1}}).status_code == 422

    learner = world.learners[0]
    assert grade(world, learner, {"scope": 3, "risks": 1}, sample_id=first["id"]).get_json()["passed"] is True
    changed = world.staff.request(
        "PATCH", f"{base}/{first['id']}", json={"scores": {"scope": 1, "risks": 1}, "comments": {"scope": "Vague."}}
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["scores"] == {"scope": 1.0, "risks": 1.0}
    assert changed.get_json()["comments"] == {"scope": "Vague.", "risks": SAMPLE["comments"]["risks"]}
    assert changed.get_json()["learners_tried"] == 1 and changed.get_json()["updated_at"]
    # The try made before keeps the points it was held against.
    kept = training(world, learner)["samples"][0]["tries"][0]
    assert {c["key"]: c["staff"] for c in kept["criteria"]} == {"scope": 3.0, "risks": 1.0} and kept["passed"] is True

    assert world.staff.request("DELETE", f"{base}/{first['id']}").status_code == 204
    assert [s["id"] for s in world.staff.get(base).get_json()["samples"]] == [second["id"]]
    assert world.staff.request("PATCH", f"{base}/{first['id']}", json={"text": "Again."}).status_code == 404
    assert world.staff.request("DELETE", f"{base}/{first['id']}").status_code == 404
    # Training finished with a removed sample still counts; the next learner never gets it.
    state = training(world, learner)
    assert state["done"] == 1 and state["current"]["sample_id"] == second["id"]
    assert training(world, world.learners[1])["current"]["sample_id"] == second["id"]
    assert grade(world, world.learners[1], {"scope": 3, "risks": 1}, sample_id=first["id"]).status_code == 404
    events = world.staff.get(f"/api/courses/{world.course_id}/audit").get_json()["events"]
    assert {"training_sample.added", "training_sample.updated", "training_sample.removed"} <= {e["action"] for e in events}


def test_each_learner_sees_only_their_own_tries(app: Flask, client: FlaskClient) -> None:
    world = training_world(app, client)
    one, other = world.learners[0], world.learners[1]
    assert grade(world, one, {"scope": 0, "risks": 0}, comments={"scope": "My private note."}).status_code == 201
    theirs = training(world, other)
    assert theirs["samples"] == [] and theirs["current"]["tries_left"] == 3
    assert "My private note." not in str(theirs)


LEARNER_ENDPOINTS = [("GET", "/training", None), ("POST", "/training/tries", {"sample_id": "x", "scores": {"scope": 1, "risks": 1}})]
STAFF_ENDPOINTS = [
    ("GET", "/training/samples", None),
    ("POST", "/training/samples", SAMPLE),
    ("PATCH", "/training/samples/{sample}", {"text": "Changed."}),
    ("DELETE", "/training/samples/{sample}", None),
    ("GET", "/training/learners", None),
]


def _call(world: World, who: Caller | None, method: str, path: str, body: Any, sample_id: str) -> Any:
    url = f"/api/assignments/{world.assignment_id}{path.format(sample=sample_id)}"
    if who is None:
        return world.client.open(url, method=method, json=body)
    return who.request(method, url, json=body)


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ENDPOINTS)
def test_who_may_use_the_staff_endpoints(app: Flask, client: FlaskClient, method: str, path: str, body: Any) -> None:
    world = training_world(app, client)
    sample_id = world.staff.get(f"/api/assignments/{world.assignment_id}/training/samples").get_json()["samples"][0]["id"]
    other_staff = make_user(app, client, "otherstaff@example.org", "Other Staff")
    assert (
        world.admin.post(f"/api/courses/{world.other_course_id}/members", json={"user_id": other_staff.id, "role": "staff"}).status_code
        == 201
    )
    expected = {
        "learner": (world.learners[0], 404),  # the staff's points of a sample are not the learner's to see first
        "mentor": (world.mentor, 403),
        "outsider": (world.outsider, 404),
        "other course's staff": (other_staff, 404),
        "signed out": (None, 401),
    }
    for who, (caller, status) in expected.items():
        answer = _call(world, caller, method, path, body, sample_id)
        assert answer.status_code == status, (who, answer.get_json())
        assert SAMPLE["comments"]["scope"] not in answer.get_data(as_text=True), who
    allowed = _call(world, world.staff, method, path, body, sample_id)
    assert allowed.status_code in (200, 201, 204), allowed.get_json()


@pytest.mark.parametrize(("method", "path", "body"), LEARNER_ENDPOINTS)
def test_who_may_use_the_learner_endpoints(app: Flask, client: FlaskClient, method: str, path: str, body: Any) -> None:
    world = training_world(app, client)
    for who, caller, status in [
        ("staff", world.staff, 403),
        ("mentor", world.mentor, 403),
        ("outsider", world.outsider, 404),
        ("signed out", None, 401),
    ]:
        answer = _call(world, caller, method, path, body, "")
        assert answer.status_code == status, (who, answer.get_json())
    learner = _call(world, world.learners[0], method, path, body, "")
    assert learner.status_code in (200, 404)  # 404: sample_id "x" names no training sample

"""Every error code of docs/api.md, each with its status, its shape and a sentence; and no request gives a 500."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import World, build_world, essay, make_app


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and len(error["message"]) > 10
    assert isinstance(error["details"], dict)
    return error


def test_invalid_json(world: World) -> None:
    r = world.admin.post("/api/courses", data="{not json", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")
    r = world.learners[0].post(
        f"/api/assignments/{world.assignment_id}/submissions", data="{oops", headers={"Content-Type": "application/json"}
    )
    assert_error(r, 400, "invalid_json")


def test_unauthenticated(client: FlaskClient) -> None:
    assert_error(client.get("/api/courses/x/assignments"), 401, "unauthenticated")
    assert_error(client.get("/api/courses/x/assignments", headers={"Authorization": "Bearer nope"}), 401, "unauthenticated")
    assert_error(client.get("/api/courses/x/assignments", headers={"Authorization": "Basic abc"}), 401, "unauthenticated")


def test_submit_first(world: World) -> None:
    assert_error(world.claim(world.learners[0]), 403, "submit_first")


def test_nothing_to_review(world: World) -> None:
    assert world.submit(world.learners[0], n=0).status_code == 201
    assert_error(world.claim(world.learners[0]), 404, "nothing_to_review")


def test_method_not_allowed(world: World) -> None:
    r = world.admin.request("DELETE", "/api/courses")
    assert_error(r, 405, "method_not_allowed")
    assert "POST" in r.headers["Allow"]


def test_past_due(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, due_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    assert_error(world.submit(world.learners[0]), 409, "past_due")


def test_already_reviewed_and_claim_expired(world: World) -> None:
    a, b = world.learners[:2]
    assert world.submit(a, n=0).status_code == 201
    assert world.submit(b, n=1).status_code == 201
    claim = world.claim(b).get_json()
    assert world.review(b, claim["claim_id"]).status_code == 201
    assert_error(world.review(b, claim["claim_id"]), 409, "already_reviewed")


def test_already_claimed_and_conflict(world: World) -> None:
    assert world.submit(world.learners[0]).status_code == 201
    submission_id = world.learners[0].get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    report = world.learners[0].post(f"/api/submissions/{submission_id}/reports", json={"kind": "other", "message": "x"})
    assert report.status_code == 201, report.get_json()
    case_id = report.get_json()["case_id"]
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    assert_error(world.staff.post(f"/api/escalations/{case_id}/claim"), 409, "already_claimed")
    assert_error(world.admin.post("/api/users", json={"email": "staff@example.org", "name": "Dup"}), 409, "conflict")


def test_file_too_large(app: Flask, client: FlaskClient) -> None:
    app.config["MAX_FILE_BYTES"] = 1000
    world = build_world(app, client)
    r = world.learners[0].post(
        f"/api/assignments/{world.assignment_id}/submissions",
        data={"text": essay(0), "files": (io.BytesIO(b"x" * 1001), "big.txt")},
        content_type="multipart/form-data",
    )
    error = assert_error(r, 413, "file_too_large")
    assert error["details"]["max_bytes"] == 1000


def test_request_too_large_for_the_server(app: Flask, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2000
    world = build_world(app, client)
    r = world.learners[0].post(
        f"/api/assignments/{world.assignment_id}/submissions",
        data={"text": essay(0), "files": (io.BytesIO(b"x" * 5000), "big.txt")},
        content_type="multipart/form-data",
    )
    assert_error(r, 413, "file_too_large")


def test_unsupported_media_type(world: World) -> None:
    r = world.admin.post("/api/courses", data="title=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 415, "unsupported_media_type")
    r = world.admin.post("/api/courses", data="hello", headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")


def test_invalid_request_names_each_field(world: World) -> None:
    r = world.staff.post(
        f"/api/courses/{world.course_id}/assignments",
        json={"title": "", "rubric": {"criteria": [{"key": "Bad Key", "title": "T", "max_points": 0}]}, "reviews_required": "three"},
    )
    error = assert_error(r, 422, "invalid_request")
    fields = json.dumps(error["details"]["fields"])
    for name in ("title", "rubric", "reviews_required"):
        assert name in fields


def test_assignment_that_cannot_supply_its_reviews_is_refused(world: World) -> None:
    r = world.staff.post(
        f"/api/courses/{world.course_id}/assignments",
        json={
            "title": "T",
            "rubric": {"criteria": [{"key": "q", "title": "Q", "max_points": 4}]},
            "reviews_required": 3,
            "reviews_to_give": 3,
            "calibration_share": 0.2,
        },
    )
    error = assert_error(r, 422, "invalid_request")
    assert "reviews_to_give" in error["details"]["fields"]


def test_review_scores_validated_against_rubric(world: World) -> None:
    a, b = world.learners[:2]
    assert world.submit(a, n=0).status_code == 201
    assert world.submit(b, n=1).status_code == 201
    claim = world.claim(b).get_json()["claim_id"]
    out_of_range = assert_error(world.review(b, claim, {"scope": 9, "risks": 1}), 422, "invalid_request")
    assert "scores.scope" in out_of_range["details"]["fields"]
    missing = assert_error(world.review(b, claim, {"scope": 1}), 422, "invalid_request")
    assert "scores.risks" in missing["details"]["fields"]
    unknown = assert_error(world.review(b, claim, {"scope": 1, "risks": 1, "style": 2}), 422, "invalid_request")
    assert "scores.style" in unknown["details"]["fields"]
    wrong_type = b.post(f"/api/review-claims/{claim}/review", json={"scores": {"scope": "three", "risks": True}})
    assert_error(wrong_type, 422, "invalid_request")
    assert world.review(b, claim, {"scope": 1, "risks": 4}).status_code == 201


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("     \n\t  ", "empty"),
        ("....!!!!,,,,;;;; ---", "empty"),
        ("\u200b\u200b\u200b", "empty"),
        ("only four words here", "too_short"),
    ],
)
def test_submission_rejected_with_reasons(world: World, text: str, code: str) -> None:
    learner = world.learners[0]
    error = assert_error(
        world.submit(learner, text=text)
        if text
        else learner.post(f"/api/assignments/{world.assignment_id}/submissions", json={"text": ""}),
        422,
        "submission_rejected",
    )
    assert [r["code"] for r in error["details"]["reasons"]] == [code]
    assert all(r["message"] for r in error["details"]["reasons"])
    progress = learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()
    assert progress["attempts"] == 0 and progress["submission"] is None


def test_rejected_work_never_reaches_a_queue(world: World) -> None:
    a, b = world.learners[:2]
    assert world.submit(a, text="....").status_code == 422
    assert world.submit(b, n=1).status_code == 201
    assert_error(world.claim(b), 404, "nothing_to_review")


def test_file_checks(world: World) -> None:
    learner = world.learners[0]
    url = f"/api/assignments/{world.assignment_id}/submissions"
    empty = learner.post(url, data={"text": essay(0), "files": (io.BytesIO(b""), "empty.txt")}, content_type="multipart/form-data")
    assert [r["code"] for r in assert_error(empty, 422, "submission_rejected")["details"]["reasons"]] == ["file_empty"]
    many = learner.post(
        url,
        data={"text": essay(0), "files": [(io.BytesIO(b"notes %d" % i), f"f{i}.txt") for i in range(6)]},
        content_type="multipart/form-data",
    )
    assert [r["code"] for r in assert_error(many, 422, "submission_rejected")["details"]["reasons"]] == ["too_many_files"]
    ok = learner.post(url, data={"text": essay(0), "files": (io.BytesIO(b"appendix text"), "a.txt")}, content_type="multipart/form-data")
    assert ok.status_code == 201
    submission = learner.get(f"/api/submissions/{ok.get_json()['id']}").get_json()
    assert submission["files"][0]["filename"] == "a.txt"
    body = learner.get(submission["files"][0]["url"])
    assert body.status_code == 200 and body.data == b"appendix text"
    assert body.headers["X-Content-Type-Options"] == "nosniff"


def test_cooldown(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client, attempt_cooldown_hours=1)
    assert world.submit(world.learners[0], n=0).status_code == 201
    error = assert_error(world.submit(world.learners[0], text=essay(5)), 429, "cooldown")
    assert 3500 <= error["details"]["retry_after"] <= 3600


def test_rate_limited(template_db: Path, tmp_path: Path) -> None:
    shutil.copy(template_db, tmp_path / "db.sqlite")
    app = make_app(tmp_path / "db.sqlite", RATELIMIT_ENABLED=True, RATE_LIMIT_SUBMIT="2 per minute")
    world = build_world(app, app.test_client(), max_attempts=None)
    learner = world.learners[0]
    assert world.submit(learner, n=0).status_code == 201
    assert world.submit(learner, n=1).status_code == 201
    r = world.submit(learner, n=2)
    error = assert_error(r, 429, "rate_limited")
    assert error["details"]["retry_after"] >= 1
    assert int(r.headers["Retry-After"]) >= 1
    # The limit is per caller: another learner is unaffected.
    assert world.submit(world.learners[1], n=3).status_code == 201


def test_unavailable(world: World, app: Flask) -> None:
    assert world.client.get("/healthz").status_code == 200
    background = app.extensions["fairpeer.background"]

    def dead(timeout: float) -> bool:
        return False

    background.ping = dead
    error = assert_error(world.client.get("/healthz"), 503, "unavailable")
    assert error["details"]["checks"]["background"] != "ok"


MALFORMED_BODIES: list[Any] = [
    None,
    [],
    "text",
    42,
    True,
    {"unexpected": {"deep": [1, 2, {"x": None}]}},
    {"title": ["a"]},
    {"text": 5},
    {"scores": "all"},
    {"scores": {"scope": None}},
    {"kind": 1, "message": []},
    {"action": "explode"},
    {"email": "not-an-email", "name": 3},
    {"user_id": None, "role": "king"},
    {"text": "x" * 300_000},
]


def test_no_request_gives_a_500(world: World) -> None:
    """Every route of the app's URL map (API and pages), with real ids and with junk ones, by every role, with
    every method and malformed bodies: never a 500, and every API error in the contract's shape."""
    assert world.submit(world.learners[0], n=0).status_code == 201
    assert world.submit(world.learners[1], n=1).status_code == 201
    claimed = world.claim(world.learners[1])
    assert claimed.status_code == 201, claimed.get_json()
    claim = claimed.get_json()["claim_id"]
    submission = world.learners[1].get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    report = world.learners[1].post(f"/api/submissions/{submission}/reports", json={"kind": "other", "message": "?"})
    assert report.status_code == 201, report.get_json()
    case = report.get_json()["case_id"]
    real = {
        "course_id": world.course_id,
        "assignment_id": world.assignment_id,
        "claim_id": claim,
        "submission_id": submission,
        "case_id": case,
        "user_id": world.learners[1].id,
        "file_id": "nope",
        "secret": "guess",
    }
    junk = ["nope", "%00%ff", "x" * 5000]
    rules = [rule for rule in world.app.url_map.iter_rules() if rule.endpoint != "static"]
    assert len(rules) >= 40, [rule.rule for rule in rules]
    callers = [world.admin, world.staff, world.mentor, world.learners[1], world.outsider]
    visited = 0
    for rule in rules:
        for variant in ["real", *junk]:
            values = {arg: real.get(arg, "nope") if variant == "real" else variant for arg in rule.arguments}
            path = rule.rule
            for arg, value in values.items():
                path = path.replace(f"<{arg}>", value)
            is_api = path.startswith("/api")
            for caller in callers:
                for method in ("GET", "POST", "PUT", "DELETE"):
                    bodies = MALFORMED_BODIES if method == "POST" and is_api and variant == "real" else [None]
                    for body in bodies:
                        r = caller.request(method, path, data=json.dumps(body), headers={"Content-Type": "application/json"})
                        visited += 1
                        assert r.status_code < 500, (method, path, body, r.get_data(as_text=True)[:300])
                        if is_api and r.status_code >= 400:
                            assert "error" in r.get_json(), (method, path)
                r = caller.request("POST", path, data=b"\xff\xfe\x00garbage", headers={"Content-Type": "application/json"})
                assert r.status_code < 500, (path, r.get_data(as_text=True)[:300])
    assert visited > 2000
    r = world.staff.get(f"/api/courses/{world.course_id}/escalations?status=bogus")
    assert_error(r, 422, "invalid_request")


def test_rate_limits_on_claiming_and_signing_in(template_db: Path, tmp_path: Path) -> None:
    shutil.copy(template_db, tmp_path / "db.sqlite")
    app = make_app(tmp_path / "db.sqlite", RATELIMIT_ENABLED=True, RATE_LIMIT_CLAIM="3 per minute", RATE_LIMIT_SIGN_IN="2 per minute")
    client = app.test_client()
    world = build_world(app, client, n_learners=3)
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    learner = world.learners[0]
    statuses = [world.claim(learner).status_code for _ in range(4)]
    assert statuses[:3] == [201, 200, 200]
    assert_error(world.claim(learner), 429, "rate_limited")
    # Guessing sign-in links is limited per address.
    assert [client.get(f"/sign-in/guess-{i}").status_code for i in range(2)] == [400, 400]
    assert client.get("/sign-in/guess-3").status_code == 429
    app.extensions["fairpeer.db"][0].dispose()

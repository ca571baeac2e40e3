"""Every endpoint against every role: 401 for nobody, 404 for what the caller may not know about, 403 for what
their role may not do (docs/api.md, Visibility)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Caller, World, build_world

ROLES = ("anon", "outsider", "author", "reviewer", "other", "mentor", "staff", "admin")


@dataclass
class Scene:
    world: World
    submission_id: str
    file_id: str
    claim_id: str
    review_id: str
    case_id: str

    def caller(self, role: str) -> Caller:
        w = self.world
        if role == "anon":
            return Caller(w.client, "", "not-a-token")
        return {
            "outsider": w.outsider,
            "author": w.learners[0],
            "reviewer": w.learners[1],
            "other": w.learners[2],
            "mentor": w.mentor,
            "staff": w.staff,
            "admin": w.admin,
        }[role]


def build_scene(app: Flask, client: FlaskClient) -> Scene:
    w = build_world(app, client, n_learners=4)
    author, reviewer, other = w.learners[:3]
    sub = author.post(
        f"/api/assignments/{w.assignment_id}/submissions",
        data={
            "text": "My plan for a reading corner covers shelves, a borrowing notebook and volunteer shifts each week.",
            "files": (__import__("io").BytesIO(b"Appendix: the rota for volunteers."), "appendix.txt"),
        },
        content_type="multipart/form-data",
    )
    assert sub.status_code == 201, sub.get_json()
    submission_id = sub.get_json()["id"]
    # A finished review of the author's work (to appeal and discount): the fourth learner is shown it first.
    finisher = w.learners[3]
    assert w.submit(finisher, n=3).status_code == 201
    first_claim = w.claim(finisher)
    assert first_claim.status_code == 201, first_claim.get_json()
    first = first_claim.get_json()
    review = w.review(finisher, first["claim_id"]).get_json()
    assert "review_id" in review, review
    # The reviewer holds a live claim on the author's work: mark the finisher's work as already shown to them,
    # so the pick (fewest reviews first) can only give them the author's.
    assert w.submit(reviewer, n=1).status_code == 201
    with app.app_context():
        from reviews.allocation.models import Exposure
        from reviews.kernel.db import db
        from reviews.submissions.services import latest_submission

        finisher_work = latest_submission(db.session, w.assignment_id, finisher.id)
        assert finisher_work is not None
        db.session.add(Exposure(submission_id=finisher_work.id, viewer_id=reviewer.id))
        db.session.commit()
    claimed = w.claim(reviewer)
    assert claimed.status_code == 201, claimed.get_json()
    claim = claimed.get_json()
    assert claim["item"]["text"].startswith("My plan for a reading corner")
    file_id = claim["item"]["files"][0]["id"]
    assert w.submit(other, n=2).status_code == 201
    report = author.post(f"/api/submissions/{submission_id}/reports", json={"kind": "other", "message": "Please look."})
    assert report.status_code == 201, report.get_json()
    case = report.get_json()
    return Scene(w, submission_id, file_id, claim["claim_id"], review["review_id"], case["case_id"])


@dataclass
class Row:
    name: str
    method: str
    path: Callable[[Scene], str]
    expected: dict[str, int]
    body: Callable[[Scene], Any] | None = None
    before: Callable[[Scene], None] | None = None


ASSIGNMENT_BODY = {
    "title": "Another",
    "prompt": "Write.",
    "rubric": {"criteria": [{"key": "q", "title": "Quality", "max_points": 4}]},
    "reviews_required": 1,
    "reviews_to_give": 2,
    "calibration_share": 0.2,
}


def _mentor_claims(s: Scene) -> None:
    assert s.world.mentor.post(f"/api/escalations/{s.case_id}/claim").status_code == 200


def _any(expected: int, **overrides: int) -> dict[str, int]:
    out = dict.fromkeys(ROLES, expected)
    out["anon"] = 401
    out.update(overrides)
    return out


ROWS = [
    Row("create user", "POST", lambda s: "/api/users", _any(403, admin=201), lambda s: {"email": "new@example.org", "name": "New"}),
    Row(
        "sign-in link",
        "POST",
        lambda s: f"/api/users/{s.world.learners[0].id}/sign-in-links",
        _any(403, outsider=404, staff=201, admin=201),
    ),
    Row("create course", "POST", lambda s: "/api/courses", _any(403, admin=201), lambda s: {"title": "New course"}),
    Row(
        "add member",
        "POST",
        lambda s: f"/api/courses/{s.world.course_id}/members",
        _any(403, outsider=404, staff=201, admin=201),
        lambda s: {"user_id": s.world.outsider.id, "role": "learner"},
    ),
    Row("list assignments", "GET", lambda s: f"/api/courses/{s.world.course_id}/assignments", _any(200, outsider=404)),
    Row(
        "create assignment",
        "POST",
        lambda s: f"/api/courses/{s.world.course_id}/assignments",
        _any(403, outsider=404, staff=201, admin=201),
        lambda s: ASSIGNMENT_BODY,
    ),
    Row("get assignment", "GET", lambda s: f"/api/assignments/{s.world.assignment_id}", _any(200, outsider=404)),
    Row(
        "progress",
        "GET",
        lambda s: f"/api/assignments/{s.world.assignment_id}/progress",
        _any(200, outsider=404, mentor=403, staff=403, admin=403),
    ),
    Row(
        "calibration sample",
        "POST",
        lambda s: f"/api/assignments/{s.world.assignment_id}/calibration-samples",
        _any(403, outsider=404, staff=201, admin=201),
        lambda s: {"text": "A staff sample answer.", "scores": {"scope": 3, "risks": 2}},
    ),
    Row(
        "submit",
        "POST",
        lambda s: f"/api/assignments/{s.world.assignment_id}/submissions",
        _any(201, outsider=404, mentor=403, staff=403, admin=403),
        lambda s: {"text": "A fresh and honest attempt at the plan, with scope, risks and three milestones to check."},
    ),
    Row("get submission", "GET", lambda s: f"/api/submissions/{s.submission_id}", _any(404, author=200, mentor=200, staff=200, admin=200)),
    Row("get file", "GET", lambda s: f"/api/files/{s.file_id}", _any(404, author=200, reviewer=200, mentor=200, staff=200, admin=200)),
    Row(
        "received reviews",
        "GET",
        lambda s: f"/api/submissions/{s.submission_id}/reviews",
        _any(404, author=200, mentor=200, staff=200, admin=200),
    ),
    Row(
        "appeal",
        "POST",
        lambda s: f"/api/submissions/{s.submission_id}/reports",
        _any(404, author=201, mentor=201, staff=201, admin=201),
        lambda s: {"kind": "unfair_review", "message": "The review ignored my risks section.", "review_id": s.review_id},
    ),
    Row(
        "staff grade",
        "POST",
        lambda s: f"/api/submissions/{s.submission_id}/staff-grade",
        _any(404, author=403, mentor=403, staff=201, admin=201),
        lambda s: {"scores": {"scope": 4, "risks": 3}, "note": "Checked."},
    ),
    Row(
        "claim review",
        "POST",
        lambda s: f"/api/assignments/{s.world.assignment_id}/review-claims",
        _any(201, outsider=404, author=201, reviewer=200, mentor=403, staff=403, admin=403),
    ),
    Row(
        "send review",
        "POST",
        lambda s: f"/api/review-claims/{s.claim_id}/review",
        _any(404, reviewer=201),
        lambda s: {"scores": {"scope": 2, "risks": 2}},
    ),
    Row(
        "report claimed item",
        "POST",
        lambda s: f"/api/review-claims/{s.claim_id}/reports",
        _any(404, reviewer=201),
        lambda s: {"kind": "plagiarism", "message": "I wrote this."},
    ),
    Row(
        "escalation queue",
        "GET",
        lambda s: f"/api/courses/{s.world.course_id}/escalations?status=open",
        _any(403, outsider=404, mentor=200, staff=200, admin=200),
    ),
    Row("get case", "GET", lambda s: f"/api/escalations/{s.case_id}", _any(404, author=200, mentor=200, staff=200, admin=200)),
    Row("claim case", "POST", lambda s: f"/api/escalations/{s.case_id}/claim", _any(404, author=403, mentor=200, staff=200, admin=200)),
    Row(
        "resolve case",
        "POST",
        lambda s: f"/api/escalations/{s.case_id}/resolve",
        _any(404, author=403, mentor=200, staff=403, admin=403),
        lambda s: {"action": "dismiss", "note": "Nothing wrong."},
        _mentor_claims,
    ),
    Row("release", "POST", lambda s: f"/api/assignments/{s.world.assignment_id}/release", _any(403, outsider=404, staff=200, admin=200)),
    Row(
        "scores csv", "GET", lambda s: f"/api/assignments/{s.world.assignment_id}/scores.csv", _any(403, outsider=404, staff=200, admin=200)
    ),
    Row("audit", "GET", lambda s: f"/api/courses/{s.world.course_id}/audit", _any(403, outsider=404, staff=200, admin=200)),
    Row(
        "record",
        "GET",
        lambda s: f"/api/courses/{s.world.course_id}/learners/{s.world.learners[0].id}/record",
        _any(404, author=200, mentor=403, staff=200, admin=200),
    ),
    Row("openapi", "GET", lambda s: "/api/openapi.json", _any(200, anon=200)),
    Row("health", "GET", lambda s: "/healthz", _any(200, anon=200)),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
@pytest.mark.parametrize("role", ROLES)
def test_endpoint_role(app: Flask, client: FlaskClient, row: Row, role: str) -> None:
    scene = build_scene(app, client)
    if row.before:
        row.before(scene)
    caller = scene.caller(role)
    kwargs: dict[str, Any] = {}
    if row.body is not None:
        kwargs["json"] = row.body(scene)
    response = caller.request(row.method, row.path(scene), **kwargs)
    expected = row.expected[role]
    assert response.status_code == expected, (role, row.name, response.get_data(as_text=True)[:400])
    if expected >= 400:
        error = response.get_json()["error"]
        assert error["code"] == {401: "unauthenticated", 403: "forbidden", 404: "not_found"}[expected]
        assert error["message"]


def test_not_found_is_indistinguishable(world: World) -> None:
    """An id that exists in another course answers exactly like one that does not exist."""
    learner = world.learners[0]
    assert world.submit(learner).status_code == 201
    submission_id = learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    real = world.outsider.get(f"/api/submissions/{submission_id}")
    fake = world.outsider.get("/api/submissions/does-not-exist")
    assert real.status_code == fake.status_code == 404
    assert real.get_json() == fake.get_json()

"""Calibration samples for staff: add (text and files) from the page, list, correct the staff scores until a reviewer
is first served the sample (then 409 ``sample_served``), and how each reviewer scored it; none of it reaches a
learner or a mentor, through the pages or the API."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from reviews.kernel.audit import AuditEvent
from reviews.kernel.db import db
from reviews.submissions.models import STAFF_SAMPLE, StaffGrade, Submission
from tests.conftest import World, build_world
from tests.unit.scoring.pages_helpers import HTML, other_course_staff, page_client, post_form

SAMPLE_TEXT = "A community garden with a clear scope, named risks and dated milestones for the whole season."


@pytest.fixture
def sampled(app: Flask, client: FlaskClient) -> World:
    """Half of every reviewer's later claims are samples (and one among their first three)."""
    return build_world(app, client, n_learners=4, calibration_share=0.5, reviews_required=2, reviews_to_give=4)


def add_sample(world: World, text: str = SAMPLE_TEXT, scores: dict[str, float] | None = None) -> str:
    made = world.staff.post(
        f"/api/assignments/{world.assignment_id}/calibration-samples", json={"text": text, "scores": scores or {"scope": 4, "risks": 3}}
    )
    assert made.status_code == 201, made.get_json()
    return str(made.get_json()["id"])


def serve_every_learner(world: World) -> None:
    """Each learner submits, then claims and reviews three items: each of them is served the sample once."""
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    for learner in world.learners:
        for _ in range(3):
            claim = world.claim(learner)
            assert claim.status_code == 201
            points = {"scope": 2, "risks": 1} if claim.get_json()["item"]["text"] == SAMPLE_TEXT else {"scope": 3, "risks": 2}
            assert world.review(learner, claim.get_json()["claim_id"], points).status_code == 201


def test_add_a_sample_from_the_page_with_text_and_a_file(sampled: World) -> None:
    world = sampled
    client = page_client(world.app, world.staff.id)
    page = f"/assignments/{world.assignment_id}/samples"
    fields: dict[str, Any] = {
        "text": SAMPLE_TEXT,
        "scores.scope": "3",
        "scores.risks": "2.5",
        "files": (io.BytesIO(b"# Plan\n\nScope: one street. Risks: rain, and a late delivery of seeds.\n"), "plan.md"),
    }
    sent = post_form(client, page, page, "add-sample", fields, content_type="multipart/form-data")
    assert sent.status_code == 303
    html = client.get(page, headers=HTML).get_data(as_text=True)
    assert "Calibration sample added." in html and "Samples (1)" in html and "plan.md" in html
    listed = world.staff.get(f"/api/assignments/{world.assignment_id}/calibration-samples").get_json()["samples"]
    assert len(listed) == 1
    (sample,) = listed
    assert sample["text"] == SAMPLE_TEXT and sample["scores"] == {"scope": 3.0, "risks": 2.5}
    assert [f["filename"] for f in sample["files"]] == ["plan.md"] and sample["served"] is False
    with world.app.app_context():
        stored = db.session.get_one(Submission, sample["id"])
        assert stored.kind == STAFF_SAMPLE and stored.author_id == world.staff.id
        assert db.session.query(AuditEvent).filter_by(action="calibration_sample.added").count() == 1


def test_a_refused_sample_comes_back_with_the_sentences_beside_the_fields(sampled: World) -> None:
    world = sampled
    client = page_client(world.app, world.staff.id)
    page = f"/assignments/{world.assignment_id}/samples"
    cases = [
        ({"text": "", "scores.scope": "3", "scores.risks": "2"}, "text", "needs text or files"),
        ({"text": SAMPLE_TEXT, "scores.scope": "7", "scores.risks": "2"}, "scores-scope", "between 0 and 4"),
        ({"text": SAMPLE_TEXT, "scores.scope": "", "scores.risks": "2"}, "scores-scope", "Give the points for Scope"),
        (
            {"text": SAMPLE_TEXT, "scores.scope": "1", "scores.risks": "2", "files": (io.BytesIO(b"\x00\x01\x02binary"), "blob.bin")},
            "files",
            "",
        ),
    ]
    for fields, field, sentence in cases:
        sent = post_form(client, page, page, "add-sample", fields, content_type="multipart/form-data")
        assert sent.status_code == 303 and sent.headers["Location"].endswith("#form-add-sample")
        html = client.get(page, headers=HTML).get_data(as_text=True)
        error = re.search(rf'id="add-sample-{field}-error">([^<]+)<', html)
        assert error and sentence in error.group(1), (field, html[html.find("form-errors") : html.find("form-errors") + 400])
        if fields["text"]:
            assert SAMPLE_TEXT in html, "the typed text is kept"
    assert world.staff.get(f"/api/assignments/{world.assignment_id}/calibration-samples").get_json()["samples"] == []


def test_correct_a_samples_scores_before_it_is_served_then_never(sampled: World) -> None:
    world = sampled
    sample_id = add_sample(world)
    client = page_client(world.app, world.staff.id)
    page = f"/assignments/{world.assignment_id}/samples"
    sent = post_form(
        client, page, f"/calibration-samples/{sample_id}/scores", f"sample-{sample_id}", {"scores.scope": "2", "scores.risks": "1"}
    )
    assert sent.status_code == 303
    html = client.get(page, headers=HTML).get_data(as_text=True)
    assert "staff scores are corrected" in html
    patched = world.staff.request("PATCH", f"/api/calibration-samples/{sample_id}", json={"scores": {"scope": 1, "risks": 4}})
    assert patched.status_code == 200 and patched.get_json()["scores"] == {"scope": 1.0, "risks": 4.0}
    with world.app.app_context():
        events = db.session.query(AuditEvent).filter_by(action="calibration_sample.corrected").order_by(AuditEvent.created_at).all()
        assert [e.data["scores"] for e in events] == [{"scope": 2.0, "risks": 1.0}, {"scope": 1.0, "risks": 4.0}]
        assert events[0].data["previous"] == {"scope": 4.0, "risks": 3.0}

    serve_every_learner(world)
    listed = world.staff.get(f"/api/assignments/{world.assignment_id}/calibration-samples").get_json()["samples"]
    assert listed[0]["served"] is True and len(listed[0]["reviews"]) == len(world.learners)
    refused = world.staff.request("PATCH", f"/api/calibration-samples/{sample_id}", json={"scores": {"scope": 4, "risks": 4}})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "sample_served"
    assert "Add a new sample" in refused.get_json()["error"]["message"]
    html = client.get(page, headers=HTML).get_data(as_text=True)
    assert "can no longer change" in html and f'action="/calibration-samples/{sample_id}/scores"' not in html
    sent = post_form(
        client, page, f"/calibration-samples/{sample_id}/scores", f"sample-{sample_id}", {"scores.scope": "4", "scores.risks": "4"}
    )
    assert sent.status_code == 303
    assert "already been shown to a reviewer" in client.get(page, headers=HTML).get_data(as_text=True)
    with world.app.app_context():
        latest = db.session.query(StaffGrade).filter_by(submission_id=sample_id).order_by(StaffGrade.created_at.desc()).first()
        assert latest is not None and latest.scores == {"scope": 1.0, "risks": 4.0}


def test_the_samples_page_shows_each_reviewers_scores_next_to_the_staff_score(sampled: World) -> None:
    world = sampled
    sample_id = add_sample(world)
    serve_every_learner(world)
    html = page_client(world.app, world.staff.id).get(f"/assignments/{world.assignment_id}/samples", headers=HTML).get_data(as_text=True)
    section = html[html.index(f'id="sample-{sample_id}"') :]
    assert "Staff score" in section
    for i in range(len(world.learners)):
        assert f"Learner {i}" in section
    assert "(-2)" in section, "each reviewer's difference from the staff score (2 given where staff gave 4)"
    reviewers = (
        page_client(world.app, world.staff.id).get(f"/assignments/{world.assignment_id}/reviewers", headers=HTML).get_data(as_text=True)
    )
    assert 'Calibration sample</a> <strong class="tag">sample</strong>' in reviewers


def test_sample_api_refusals(sampled: World) -> None:
    world = sampled
    sample_id = add_sample(world)
    path = f"/api/calibration-samples/{sample_id}"
    bad = world.staff.request("PATCH", path, json={"scores": {"scope": 9, "risks": 1}})
    assert bad.status_code == 422 and "scores.scope" in bad.get_json()["error"]["details"]["fields"]
    assert world.staff.request("PATCH", path, json={}).status_code == 422
    assert world.submit(world.learners[0]).status_code == 201
    work_id = world.learners[0].get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    not_a_sample = world.staff.request("PATCH", f"/api/calibration-samples/{work_id}", json={"scores": {"scope": 1, "risks": 1}})
    assert not_a_sample.status_code == 404
    missing = world.staff.request("PATCH", "/api/calibration-samples/nothing-here", json={"scores": {"scope": 1, "risks": 1}})
    assert missing.status_code == 404


def test_no_learner_or_mentor_reaches_samples(sampled: World) -> None:
    world = sampled
    sample_id = add_sample(world)
    serve_every_learner(world)  # learners were served it: still nothing of it is theirs to see
    other_staff = other_course_staff(world)
    api_calls = [
        ("GET", f"/api/assignments/{world.assignment_id}/calibration-samples", None),
        ("PATCH", f"/api/calibration-samples/{sample_id}", {"scores": {"scope": 1, "risks": 1}}),
        ("GET", f"/api/submissions/{sample_id}", None),
    ]
    for caller, status in [(world.learners[0], 404), (world.outsider, 404), (other_staff, 404), (world.mentor, 403)]:
        for method, path, body in api_calls:
            if caller is world.mentor and path == f"/api/submissions/{sample_id}":
                continue  # mentors see submissions (a sample may be the subject of a case)
            answer = caller.request(method, path, json=body)
            assert answer.status_code == status, (caller.email, method, path, answer.status_code)
            assert SAMPLE_TEXT not in answer.get_data(as_text=True)
    pages = [f"/assignments/{world.assignment_id}/samples", f"/submissions/{sample_id}/work"]
    for user_id, status in [(world.learners[0].id, 404), (world.mentor.id, 403), (other_staff.id, 404), (world.outsider.id, 404)]:
        for path in pages:
            answer = page_client(world.app, user_id).get(path, headers=HTML)
            assert answer.status_code == status, (user_id, path)
            assert SAMPLE_TEXT not in answer.get_data(as_text=True)
    for path in pages:
        assert world.app.test_client().get(path, headers=HTML).status_code == 401
    assert world.admin.get(f"/api/assignments/{world.assignment_id}/calibration-samples").status_code == 200
    # A learner's page posts are refused alike and change nothing.
    learner = page_client(world.app, world.learners[1].id)
    token = re.search(r'name="csrf" value="([^"]+)"', learner.get("/", headers=HTML).get_data(as_text=True))
    assert token
    for action, form_id in [
        (f"/calibration-samples/{sample_id}/scores", f"sample-{sample_id}"),
        (f"/assignments/{world.assignment_id}/samples", "add-sample"),
    ]:
        answer = learner.post(
            action,
            data={"csrf": token.group(1), "form_id": form_id, "text": SAMPLE_TEXT, "scores.scope": "1", "scores.risks": "1"},
            headers=HTML,
        )
        assert answer.status_code == 404
    with world.app.app_context():
        assert db.session.query(Submission).filter_by(kind=STAFF_SAMPLE).count() == 1

"""Issue 12, acceptance 3 and the service's rules: a credential per released project (and per course record),
revoked by its status bit when the work is marked as copied, revoked and issued again when an appeal changes the
score, kept during a resubmission, issued once however often the task runs, readable only by its learner and staff."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import credentials
from reviews.credentials.issuing import iso
from reviews.credentials.models import IssuedCredential
from reviews.credentials.services import current_credentials
from reviews.credentials.tasks import issue_assignment_credentials
from reviews.kernel.db import db, utcnow
from tests.conftest import World
from tests.unit.credentials_service.helpers import credentials_of, current_project, released_world, status_bit, verify
from tests.unit.moderation.test_cases import appeal, claim_and_resolve
from tests.unit.records.test_previous_score import resubmit


def test_a_released_project_gets_a_signed_credential_that_verifies(world: World) -> None:
    ids = released_world(world)
    learner = world.learners[0]
    project = current_project(world, learner.id)
    assert project.submission_id == ids["submission_id"]
    document = json.loads(project.document)
    assert document["id"] == f"urn:uuid:{project.id}"
    assert {"VerifiableCredential", "OpenBadgeCredential"} <= set(document["type"])
    assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    subject = document["credentialSubject"]
    assert subject["name"] == "Learner 0" and subject["id"].startswith("urn:uuid:")
    assert learner.id not in json.dumps(document) and ids["submission_id"] not in json.dumps(document)  # no internal ids
    achievement = subject["achievement"]
    assert achievement["name"] == "Plan a small project"
    names = {d["id"]: d["name"] for d in achievement["resultDescription"]}
    results = {names[r["resultDescription"]]: r["value"] for r in subject["result"]}
    score = learner.get(f"/api/submissions/{ids['submission_id']}").get_json()["score"]
    assert float(results["Calibrated score"]) == pytest.approx(score["value"], abs=0.01)
    assert float(results["Lower bound of the 95% interval of the score"]) == pytest.approx(score["interval"][0], abs=0.01)
    assert results["Attempts used of those allowed"] == "1 of 2"
    assert results["Calibrated peer reviews"] == str(score["reviews"])
    assert "no case upheld" in results["Copy check"]
    score_description = next(d for d in achievement["resultDescription"] if d["name"] == "Calibrated score")
    assert score_description["valueMin"] == "0" and score_description["valueMax"] == "8"

    # Anyone may verify it, signed out; the status list is read from the database.
    answer = verify(world.app.test_client(), document)
    assert answer["status"] == "valid", answer
    assert [c["name"] for c in answer["checks"]] == ["json_ld", "schema", "signature", "key", "dates", "status"]

    # One course record per learner lists the project credential as evidence.
    (record,) = [c for c in credentials_of(world, learner.id) if c.kind == "course" and c.revoked_at is None]
    assert [e["id"] for e in json.loads(record.document)["evidence"]] == [document["id"]]
    assert verify(world.client, json.loads(record.document))["status"] == "valid"

    # The record's link: one query for any number of submissions.
    with world.app.app_context():
        links = current_credentials(db.session, [ids["submission_id"], "nonexistent"])
    assert links == {
        ids["submission_id"]: {
            "id": f"urn:uuid:{project.id}",
            "url": f"/api/credentials/{project.id}",
            "verify_url": f"/verify/{project.id}",
            "download_url": f"/credentials/{project.id}/download",
        }
    }


def test_marking_plagiarism_after_issue_revokes_through_the_status_bit_and_issues_nothing(world: World) -> None:
    ids = released_world(world)
    learner = world.learners[0]
    project = current_project(world, learner.id)
    document = json.loads(project.document)
    assert not status_bit(world, project)

    case_id = appeal(world, ids["submission_id"], kind="plagiarism")
    assert claim_and_resolve(world, case_id, {"action": "mark_plagiarism", "note": "Copied."}).status_code == 200

    assert status_bit(world, project)
    answer = verify(world.app.test_client(), document)
    assert answer["status"] == "revoked", answer
    rows = credentials_of(world, learner.id)
    assert [c for c in rows if c.kind == "project" and c.revoked_at is None] == []  # none issued for copied work
    assert next(c for c in rows if c.id == project.id).revoked_reason == "plagiarism"
    assert [c for c in rows if c.kind == "course" and c.revoked_at is None] == []  # the record lists no project now
    with world.app.app_context():
        assert current_credentials(db.session, [ids["submission_id"]]) == {}
    # The published list says so too, signed.
    published = world.client.get(f"/status/{project.status_list}")
    assert published.status_code == 200
    assert json.loads(published.get_data(as_text=True))["proof"]["cryptosuite"] == "eddsa-rdfc-2022"

    # Staff reopen the case: the work counts again, so a new credential is issued (the revoked one stays revoked).
    reopened = world.staff.post(f"/api/escalations/{case_id}/reopen", json={"note": "Not copied after all."})
    assert reopened.status_code == 200, reopened.get_json()
    again = current_project(world, learner.id)
    assert again.id != project.id and verify(world.client, json.loads(again.document))["status"] == "valid"
    assert verify(world.client, document)["status"] == "revoked"


def test_an_appeal_that_changes_the_score_revokes_the_old_credential_and_issues_a_new_one(world: World) -> None:
    ids = released_world(world)
    learner = world.learners[0]
    old = current_project(world, learner.id)
    case_id = appeal(world, ids["submission_id"])
    assert claim_and_resolve(world, case_id, {"action": "override_score", "score": 7.5, "note": "Fair."}).status_code == 200

    new = current_project(world, learner.id)
    assert new.id != old.id and new.series == old.series and new.sequence == old.sequence + 1
    new_document = json.loads(new.document)
    values = {r["value"] for r in new_document["credentialSubject"]["result"]}
    assert "7.5" in values
    assert verify(world.client, new_document)["status"] == "valid"
    assert verify(world.client, json.loads(old.document))["status"] == "revoked"
    revoked = next(c for c in credentials_of(world, learner.id) if c.id == old.id)
    assert revoked.revoked_reason == "score_changed"
    # The course record was issued again with the new project credential as its evidence.
    (record,) = [c for c in credentials_of(world, learner.id) if c.kind == "course" and c.revoked_at is None]
    assert [e["id"] for e in json.loads(record.document)["evidence"]] == [f"urn:uuid:{new.id}"]


def test_a_retried_issue_task_issues_once(world: World) -> None:
    released_world(world)
    before = {c.id for c in credentials_of(world, world.learners[0].id)}
    assert before
    with world.app.app_context():
        total = len(list(db.session.scalars(select(IssuedCredential.id))))
    for _ in range(3):  # a retry, a duplicate delivery, the sweep: nothing changed, nothing issued
        with world.app.app_context():
            assert issue_assignment_credentials(world.assignment_id) == {"issued": 0, "revoked": 0}
    with world.app.app_context():
        assert len(list(db.session.scalars(select(IssuedCredential.id)))) == total
    assert {c.id for c in credentials_of(world, world.learners[0].id)} == before


def test_two_runs_racing_to_issue_the_same_credential_cannot_both_commit(world: World) -> None:
    released_world(world)
    taken = current_project(world, world.learners[0].id)
    with world.app.app_context():
        duplicate = IssuedCredential(
            id="00000000-0000-4000-8000-000000000000",
            kind=taken.kind,
            series=taken.series,
            sequence=taken.sequence,  # the same place in the series: the second run's insert
            learner_id=taken.learner_id,
            course_id=taken.course_id,
            assignment_id=taken.assignment_id,
            submission_id=taken.submission_id,
            snapshot=taken.snapshot,
            document="{}",
            key_id=taken.key_id,
            status_list=taken.status_list,
            status_index=taken.status_index + 1000,
        )
        db.session.add(duplicate)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_during_a_resubmission_the_released_attempt_keeps_its_credential(world: World) -> None:
    ids = released_world(world)
    learner = world.learners[0]
    first = current_project(world, learner.id)
    resubmit(world, learner)  # attempt 2, not reviewed yet: the record keeps attempt 1
    kept = current_project(world, learner.id)
    assert kept.id == first.id and kept.submission_id == ids["submission_id"]
    assert verify(world.client, json.loads(first.document))["status"] == "valid"


def test_who_may_fetch_the_signed_json(world: World) -> None:
    released_world(world)
    learner, other = world.learners[0], world.learners[1]
    project = current_project(world, learner.id)
    path = f"/api/credentials/{project.id}"
    for caller in (learner, world.staff):
        answer = caller.get(path)
        assert answer.status_code == 200
        assert answer.get_data(as_text=True) == project.document  # byte for byte as issued
    for caller in (other, world.mentor, world.outsider):
        answer = caller.get(path)
        assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found", caller.email
    assert world.app.test_client().get(path).status_code == 404  # signed out
    assert learner.get("/api/credentials/not-a-uuid").status_code == 404
    assert learner.get("/api/credentials/00000000-0000-4000-8000-000000000000").status_code == 404


def test_verify_refuses_what_is_not_a_credential_and_never_answers_500(world: World) -> None:
    released_world(world)
    client = world.app.test_client()
    cases = [
        (b"not json", 400, "invalid_json"),
        (b"\xff\xfe", 400, "invalid_json"),
        (b"[1, 2]", 400, "not_a_credential"),
        (b'"a string"', 400, "not_a_credential"),
        (b'{"a": "' + b"x" * 300_000 + b'"}', 413, "credential_too_large"),
        (b"[" * 20_000 + b"]" * 20_000, 400, "invalid_json"),  # deep nesting within the size limit
    ]
    for body, status, code in cases:
        answer = client.post("/api/verify", data=body, content_type="application/json")
        assert answer.status_code == status, (body[:20], answer.get_data(as_text=True)[:200])
        assert answer.get_json()["error"]["code"] == code
    # A JSON object that is no credential, or a tampered one, is answered: invalid, with the checks that failed.
    assert verify(client, {})["status"] == "invalid"
    assert verify(client, {"@context": ["https://example.org/evil.jsonld"], "type": ["VerifiableCredential"]})["status"] == "invalid"
    document = json.loads(current_project(world, world.learners[0].id).document)
    for result in document["credentialSubject"]["result"]:
        if result["value"] and result["value"][0].isdigit():
            result["value"] = "8"
    answer = verify(client, document)
    assert answer["status"] == "invalid"
    assert next(c for c in answer["checks"] if c["name"] == "signature")["ok"] is False


def test_a_foreign_status_list_is_not_fetched_and_is_reported_as_unknown(world: World) -> None:
    key = credentials.SigningKey.from_seed(bytes(range(32)))
    issuer = {"id": key.did, "name": "Elsewhere"}
    document = credentials.achievement_credential(
        credential_id="urn:uuid:2f0c1e8e-5d7a-4c1b-9a3e-6b7c8d9e0f11",
        issuer=issuer,
        valid_from=iso(utcnow()),
        subject_id="urn:uuid:7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        achievement={
            "id": "urn:uuid:0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
            "name": "Elsewhere's badge",
            "description": "A badge from another issuer.",
            "criteria": {"id": "urn:uuid:0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e#criteria", "narrative": "Did it."},
        },
        results=[],
        status=credentials.status_entry(list_url="https://status.example.org/lists/1", index=3),
    )
    signed = credentials.sign(document, key, created=iso(utcnow()))
    answer = verify(world.client, signed)
    assert answer["status"] == "status_unknown", answer
    assert next(c for c in answer["checks"] if c["name"] == "status")["ok"] is None

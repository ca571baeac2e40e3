"""The public verify page, the status lists and the download, as each kind of visitor meets them."""

from __future__ import annotations

import json

from tests.conftest import World
from tests.unit.credentials_service.helpers import current_project, released_world
from tests.unit.moderation.test_cases import appeal, claim_and_resolve
from tests.unit.submissions.learner_world import HTML, browser, page, text_of


def test_the_verify_page_says_valid_to_anyone_then_revoked(world: World) -> None:
    ids = released_world(world)
    learner = world.learners[0]
    project = current_project(world, learner.id)
    signed_out = world.app.test_client()
    answer = signed_out.get(f"/verify/{project.id}", headers=HTML)
    assert answer.status_code == 200 and answer.headers["X-Robots-Tag"] == "noindex"
    words = text_of(answer.get_data(as_text=True))
    assert "Valid Every check passed" in words
    assert "Learner Learner 0" in words and "Project Plan a small project" in words
    assert json.loads(project.document)["issuer"]["id"] in words and "Key registered with this service since" in words
    assert "Signature passed" in words and "Not revoked (status list) passed" in words
    assert '<meta name="robots" content="noindex">' in answer.get_data(as_text=True)

    case_id = appeal(world, ids["submission_id"], kind="plagiarism")
    assert claim_and_resolve(world, case_id, {"action": "mark_plagiarism", "note": "Copied."}).status_code == 200
    words = text_of(page(signed_out, f"/verify/{project.id}"))
    assert "Revoked The signature holds, but the issuer has revoked" in words
    assert "Not revoked (status list) failed" in words and "Signature passed" in words


def test_unknown_credentials_and_lists_answer_404(world: World) -> None:
    client = world.app.test_client()
    for path in ("/verify/00000000-0000-4000-8000-000000000000", "/verify/not-an-id", "/status/999", "/credentials/x/download"):
        assert client.get(path, headers=HTML).status_code == 404, path


def test_the_status_list_is_public_and_signed(world: World) -> None:
    released_world(world)
    project = current_project(world, world.learners[0].id)
    answer = world.app.test_client().get(f"/status/{project.status_list}")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "public, max-age=60"
    listing = json.loads(answer.get_data(as_text=True))
    assert "BitstringStatusListCredential" in listing["type"] and listing["id"].endswith(f"/status/{project.status_list}")
    assert listing["issuer"]["id"] == json.loads(project.document)["issuer"]["id"]


def test_the_download_is_for_the_learner_and_staff(world: World) -> None:
    released_world(world)
    learner = world.learners[0]
    project = current_project(world, learner.id)
    path = f"/credentials/{project.id}/download"
    for user_id in (learner.id, world.staff.id):
        answer = browser(world, user_id).get(path, headers=HTML)
        assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
        assert answer.get_data(as_text=True) == project.document
    for user_id in (world.learners[1].id, world.mentor.id, world.outsider.id):
        assert browser(world, user_id).get(path, headers=HTML).status_code == 404
    assert world.app.test_client().get(path, headers=HTML).status_code == 404

"""What staff write for records (the skills an assignment assesses, what a course taught), through the API and the
staff pages, with their refusals; and how a record tells copied work: the case upheld, no score, no credential,
and never on a shared record as a credentialled project."""

from __future__ import annotations

from typing import Any

from tests.conftest import World
from tests.unit.moderation.test_cases import appeal, claim_and_resolve, scored_world
from tests.unit.submissions.learner_world import browser, field_error, page, post_form


def patch_assignment(world: World, caller: Any, body: dict[str, Any]) -> Any:
    return caller.request("PATCH", f"/api/assignments/{world.assignment_id}", json=body)


def summary_of(world: World) -> str:
    learner = world.learners[0]
    record = learner.get(f"/api/courses/{world.course_id}/learners/{learner.id}/record").get_json()
    return str(record["course"]["learning_summary"])


def test_skills_are_trimmed_and_bounded_with_their_own_codes(world: World) -> None:
    saved = patch_assignment(world, world.staff, {"skills": ["  Scoping  ", "", "Naming risks"]})
    assert saved.status_code == 200 and saved.get_json()["skills"] == ["Scoping", "Naming risks"]
    too_many = patch_assignment(world, world.staff, {"skills": [f"Skill {n}" for n in range(21)]})
    assert too_many.status_code == 422 and too_many.get_json()["error"]["code"] == "too_many_skills"
    assert "20" in too_many.get_json()["error"]["message"]
    too_long = patch_assignment(world, world.staff, {"skills": ["x" * 121]})
    assert too_long.status_code == 422 and too_long.get_json()["error"]["code"] == "skill_too_long"
    assert too_long.get_json()["error"]["details"]["fields"]["skills"]
    assert patch_assignment(world, world.staff, {"skills": ["x" * 120]}).status_code == 200
    assert patch_assignment(world, world.staff, {"skills": "Scoping"}).status_code == 422  # a list, not a string
    assert patch_assignment(world, world.mentor, {"skills": ["Mentor's"]}).status_code == 403
    assert patch_assignment(world, world.learners[0], {"skills": ["Mine"]}).status_code == 403
    assert world.learners[0].get(f"/api/assignments/{world.assignment_id}").get_json()["skills"] == ["x" * 120]


def test_the_learning_summary_is_trimmed_and_bounded(world: World) -> None:
    path = f"/api/courses/{world.course_id}"
    saved = world.staff.request("PATCH", path, json={"learning_summary": "  Planning and risk.  "})
    assert saved.status_code == 200 and saved.get_json()["learning_summary"] == "Planning and risk."
    # Trimmed before it is measured: 2000 characters with spaces around them are fine, 2001 are not.
    assert world.staff.request("PATCH", path, json={"learning_summary": " " + "y" * 2000 + " "}).status_code == 200
    refused = world.staff.request("PATCH", path, json={"learning_summary": "y" * 2001})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "summary_too_long"
    assert world.learners[0].request("PATCH", path, json={"learning_summary": "Mine"}).status_code == 403
    assert world.mentor.request("PATCH", path, json={"learning_summary": "Mine"}).status_code == 403


def test_staff_write_both_on_their_pages(world: World) -> None:
    staff = browser(world, world.staff.id)
    course_page = f"/courses/{world.course_id}"
    answer = post_form(staff, f"{course_page}/summary", course_page, "summary", {"learning_summary": "How to plan a small project."})
    assert answer.status_code == 303
    assert "How to plan a small project." in page(staff, course_page)
    assert summary_of(world) == "How to plan a small project."
    refused = post_form(staff, f"{course_page}/summary", course_page, "summary", {"learning_summary": "z" * 2100})
    assert refused.status_code == 303
    kept = page(staff, course_page)
    assert "z" * 2100 in kept and "At most 2000 characters" in field_error(kept, "summary", "learning_summary")
    # A learner or a mentor cannot send the form, even with their own good token.
    for who in (browser(world, world.learners[0].id), browser(world, world.mentor.id)):
        sent = post_form(who, f"{course_page}/summary", "/", "summary", {"learning_summary": "x"})
        assert sent.status_code in (403, 404), sent.status_code
    assert summary_of(world) == "How to plan a small project."
    patch_assignment(world, world.staff, {"skills": ["Scoping a project", "Naming risks"]})
    editor = page(staff, f"/assignments/{world.assignment_id}/edit")
    assert "Scoping a project\nNaming risks</textarea>" in editor


def test_copied_work_shows_as_upheld_and_earns_no_credential(world: World) -> None:
    ids = scored_world(world)
    learner = world.learners[0]
    record_path = f"/api/courses/{world.course_id}/learners/{learner.id}/record"
    case_id = appeal(world, ids["submission_id"], kind="plagiarism")
    assert claim_and_resolve(world, case_id, {"action": "mark_plagiarism", "note": "Copied."}).status_code == 200
    (project,) = learner.get(record_path).get_json()["projects"]
    assert project["integrity"]["upheld"] is True
    assert project["integrity"]["words"].endswith("a case of copying was upheld.")
    assert project["integrity"]["checked_against"] >= 1
    assert project["score_words"] == "Marked as copied work by a mentor: it earns no score."
    assert project["credential"] is None
    # Shown on a shared record, it says so and carries no score and no credential.
    learner.request("PUT", f"{record_path}/projects/{world.assignment_id}", json={"shared": True})
    token = learner.post(f"{record_path}/shares", json={}).get_json()["token"]
    (shown,) = world.app.test_client().get(f"/api/shared/{token}").get_json()["projects"]
    assert shown["integrity"]["upheld"] is True and shown["credential"] is None and shown["score"] is None

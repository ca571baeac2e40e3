"""What a record says and who sees it: the learner's annotations and choices, share links (made, listed, revoked),
the shared record and page for anyone with the link (only what was picked, no reviewer, no internal id, noindex),
every role's access, and the shared record's query count."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import ASSIGNMENT, World, essay
from tests.query_counts import counting_queries
from tests.unit.submissions.learner_world import HTML, browser, page, reviewed_world


def record_path(world: World, learner: Any) -> str:
    return f"/api/courses/{world.course_id}/learners/{learner.id}/record"


def second_assignment(world: World) -> str:
    created = world.staff.post(
        f"/api/courses/{world.course_id}/assignments",
        json={**ASSIGNMENT, "title": "Risk register", "prompt": "List the risks of your plan. " * 30, "skills": ["Risk analysis", "  "]},
    )
    assert created.status_code == 201, created.get_json()
    return str(created.get_json()["id"])


@pytest.fixture
def shared_world(world: World) -> World:
    assert (
        world.staff.request(
            "PATCH", f"/api/assignments/{world.assignment_id}", json={"skills": ["Scoping a project", "Writing for a client"]}
        ).status_code
        == 200
    )
    assert (
        world.staff.request(
            "PATCH", f"/api/courses/{world.course_id}", json={"learning_summary": "  Planning a small project.  "}
        ).status_code
        == 200
    )
    world.extra["second"] = second_assignment(world)
    reviewed_world(world)
    return world


def put_note(world: World, caller: Any, learner: Any, assignment_id: str, body: dict[str, Any]) -> Any:
    return caller.request("PUT", f"{record_path(world, learner)}/projects/{assignment_id}", json=body)


def test_the_record_says_what_an_employer_asked_for(shared_world: World) -> None:
    world, learner = shared_world, shared_world.learners[0]
    record = learner.get(record_path(world, learner)).get_json()
    assert record["course"]["learning_summary"] == "Planning a small project."
    first, second = record["projects"]
    assert first["skills"] == ["Scoping a project", "Writing for a client"]
    assert second["skills"] == ["Risk analysis"]  # a blank line is dropped
    assert len(second["asked"]) <= 300 and second["asked"].endswith("…")
    assert first["score"]["released"] is True
    assert first["score_words"].startswith(f"{first['score']['value']:.1f} out of {first['score']['max']:.1f}")
    assert first["reviews"] == first["score"]["reviews"] >= 2 and first["graded_by"] == "peers"
    assert first["attempts"] == 1 and len(first["attempt_dates"]) == 1
    assert first["integrity"]["upheld"] is False
    assert first["integrity"]["words"].startswith("Checked for copying against")
    assert second["integrity"] is None and second["score_words"] == "Not submitted."
    assert first["annotation"] is None and first["shared"] is False and first["text_public"] is False


def test_annotations_and_choices_are_the_learners_alone(shared_world: World) -> None:
    world, learner, other = shared_world, shared_world.learners[0], shared_world.learners[1]
    answer = put_note(world, learner, learner, world.assignment_id, {"annotation": "  I scoped the plan with a client.  ", "shared": True})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {
        "assignment_id": world.assignment_id,
        "annotation": "I scoped the plan with a client.",
        "shared": True,
        "text_public": False,
    }
    # Fields left out stay as they were.
    assert (
        put_note(world, learner, learner, world.assignment_id, {"text_public": True}).get_json()["annotation"]
        == "I scoped the plan with a client."
    )
    too_long = put_note(world, learner, learner, world.assignment_id, {"annotation": "x" * 1001})
    assert too_long.status_code == 422 and too_long.get_json()["error"]["code"] == "annotation_too_long"
    assert "1000" in too_long.get_json()["error"]["message"]
    assert put_note(world, learner, learner, world.assignment_id, {"shared": "yes"}).status_code == 422
    assert put_note(world, learner, learner, world.other_course_id, {"shared": True}).status_code == 404
    # Staff read the annotation but may not change it; others learn nothing.
    assert put_note(world, world.staff, learner, world.assignment_id, {"annotation": "Staff words"}).status_code == 403
    assert world.staff.get(record_path(world, learner)).get_json()["projects"][0]["annotation"] == "I scoped the plan with a client."
    assert put_note(world, other, learner, world.assignment_id, {"annotation": "Not mine"}).status_code == 404
    assert put_note(world, world.mentor, learner, world.assignment_id, {"annotation": "Mentor"}).status_code == 403
    assert put_note(world, world.outsider, learner, world.assignment_id, {"annotation": "Outsider"}).status_code == 404
    anonymous = world.client.put(f"{record_path(world, learner)}/projects/{world.assignment_id}", json={"shared": False})
    assert anonymous.status_code == 401


def make_share(world: World, learner: Any, **body: Any) -> dict[str, Any]:
    answer = learner.post(f"{record_path(world, learner)}/shares", json=body)
    assert answer.status_code == 201, answer.get_json()
    return dict(answer.get_json())


def test_a_share_link_shows_only_what_was_picked_to_anyone(shared_world: World) -> None:
    world, learner = shared_world, shared_world.learners[0]
    put_note(world, learner, learner, world.assignment_id, {"annotation": "My scoping work.", "shared": True, "text_public": True})
    put_note(world, learner, learner, world.extra["second"], {"annotation": "Not picked.", "shared": False})
    share = make_share(world, learner)
    token = share["token"]
    assert len(token) >= 32 and share["path"] == f"/shared/{token}" and share["allow_indexing"] is False

    anyone = world.app.test_client()
    shared = anyone.get(f"/api/shared/{token}")
    assert shared.status_code == 200
    body = shared.get_json()
    assert body["learner"] == {"name": "Learner 0"}
    assert [p["title"] for p in body["projects"]] == [ASSIGNMENT["title"]]
    assert body["projects"][0]["annotation"] == "My scoping work." and body["projects"][0]["text_public"] is True
    # No internal id and no reviewer anywhere in what anyone sees.
    with world.app.app_context():
        from sqlalchemy import select

        from reviews.allocation.models import Review
        from reviews.kernel.db import db

        reviewer_ids = set(db.session.scalars(select(Review.reviewer_id)))
        names = {f"Learner {i}" for i in range(1, 5)}
    html = anyone.get(f"/shared/{token}").get_data(as_text=True)
    text = shared.get_data(as_text=True) + html
    for secret in {world.assignment_id, world.course_id, learner.id, *reviewer_ids}:
        assert secret not in text
    assert not any(name in text for name in names)
    assert "Not picked." not in text and "My scoping work." in html and "own words" in html
    page_answer = anyone.get(f"/shared/{token}")
    assert page_answer.headers["X-Robots-Tag"] == "noindex" and '<meta name="robots" content="noindex">' in html
    # The project's own text, when public; its number is its position on the shared record.
    project = anyone.get(f"/shared/{token}/projects/1")
    assert project.status_code == 200 and essay(0)[:40] in project.get_data(as_text=True)
    assert anyone.get(f"/shared/{token}/projects/2").status_code == 404
    put_note(world, learner, learner, world.assignment_id, {"text_public": False})
    assert anyone.get(f"/shared/{token}/projects/1").status_code == 404


def test_a_learner_may_let_search_engines_index_a_link(shared_world: World) -> None:
    world, learner = shared_world, shared_world.learners[0]
    token = make_share(world, learner, allow_indexing=True)["token"]
    answer = world.app.test_client().get(f"/shared/{token}")
    assert answer.status_code == 200 and "X-Robots-Tag" not in answer.headers
    assert 'name="robots"' not in answer.get_data(as_text=True)


def test_revoked_and_unknown_links_answer_404(shared_world: World) -> None:
    world, learner = shared_world, shared_world.learners[0]
    share = make_share(world, learner)
    listed = learner.get(f"{record_path(world, learner)}/shares").get_json()["shares"]
    assert [s["id"] for s in listed] == [share["id"]] and "token" not in listed[0] and listed[0]["hint"] == share["token"][:6]
    assert world.staff.request("DELETE", f"{record_path(world, learner)}/shares/{share['id']}").status_code == 403
    assert world.learners[1].request("DELETE", f"{record_path(world, learner)}/shares/{share['id']}").status_code == 404
    revoked = learner.request("DELETE", f"{record_path(world, learner)}/shares/{share['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    anyone = world.app.test_client()
    for path in (f"/api/shared/{share['token']}", f"/shared/{share['token']}", f"/shared/{share['token']}/projects/1"):
        assert anyone.get(path).status_code == 404, path
    for token in ("x", "A" * 32, "../../etc/passwd", "%00" * 10, "a" * 500):
        assert anyone.get(f"/api/shared/{token}").status_code == 404
        assert anyone.get(f"/shared/{token}", headers=HTML).status_code == 404
    assert learner.get(f"{record_path(world, learner)}/shares").get_json()["shares"] == []


def test_shares_are_the_learners_alone(shared_world: World) -> None:
    world, learner = shared_world, shared_world.learners[0]
    path = f"{record_path(world, learner)}/shares"
    assert world.staff.post(path, json={}).status_code == 403
    assert world.staff.get(path).status_code == 403
    assert world.mentor.post(path, json={}).status_code == 403
    assert world.learners[1].post(path, json={}).status_code == 404
    assert world.outsider.get(path).status_code == 404
    assert world.client.post(path, json={}).status_code == 401
    assert learner.post(path, json={"allow_indexing": "sometimes"}).status_code == 422


def test_at_most_twenty_active_links(shared_world: World) -> None:
    world, learner = shared_world, shared_world.learners[0]
    for _ in range(20):
        make_share(world, learner)
    refused = learner.post(f"{record_path(world, learner)}/shares", json={})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "too_many_shares"


def test_the_shared_record_of_twenty_projects_runs_at_most_ten_queries(world: World) -> None:
    learner = world.learners[0]
    ids = [world.assignment_id] + [second_assignment(world) for _ in range(19)]
    for assignment_id in ids:
        assert (
            learner.post(f"/api/assignments/{assignment_id}/submissions", json={"text": essay(len(assignment_id) % 7)}).status_code == 201
        )
        put_note(world, learner, learner, assignment_id, {"annotation": "Mine.", "shared": True})
    token = make_share(world, learner)["token"]
    anyone = world.app.test_client()
    assert len(anyone.get(f"/api/shared/{token}").get_json()["projects"]) == 20
    with counting_queries(world.app) as api:
        assert anyone.get(f"/api/shared/{token}").status_code == 200
    with counting_queries(world.app) as html:
        assert anyone.get(f"/shared/{token}").status_code == 200
    assert len(api) <= 10, api.statements
    assert len(html) <= 10, html.statements


def test_the_learners_record_page_offers_the_forms_and_staff_see_none(shared_world: World) -> None:
    world, learner = shared_world, shared_world.learners[0]
    own = page(browser(world, learner.id), f"/records/{world.course_id}/{learner.id}")
    assert "Your words about this project" in own and "Make a new link" in own
    staff = page(browser(world, world.staff.id), f"/records/{world.course_id}/{learner.id}")
    assert "Your words about this project" not in staff and "Make a new link" not in staff
    assert "Scoping a project" in staff and "What the course taught" in staff
    page(browser(world, world.learners[1].id), f"/records/{world.course_id}/{learner.id}", status=404)


def test_the_page_forms_save_notes_and_make_and_revoke_links(shared_world: World) -> None:
    world, learner = shared_world, shared_world.learners[0]
    client = browser(world, learner.id)
    record_page = page(client, f"/records/{world.course_id}/{learner.id}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', record_page)
    assert csrf
    base = f"/records/{world.course_id}/{learner.id}"
    saved = client.post(
        f"{base}/projects/{world.assignment_id}",
        data={"csrf": csrf.group(1), "form_id": f"note-{world.assignment_id}", "annotation": "Page words.", "shared": "1"},
    )
    assert saved.status_code == 303
    assert learner.get(record_path(world, learner)).get_json()["projects"][0]["annotation"] == "Page words."
    refused = client.post(
        f"{base}/projects/{world.assignment_id}",
        data={"csrf": csrf.group(1), "form_id": f"note-{world.assignment_id}", "annotation": "y" * 1200},
    )
    assert refused.status_code == 303
    kept = page(client, f"{base}")
    assert "y" * 1200 in kept and "At most 1000 characters" in kept
    made = client.post(f"{base}/shares", data={"csrf": csrf.group(1), "form_id": "share"})
    assert made.status_code == 303
    shown = page(client, base)
    link = re.search(r"/shared/([A-Za-z0-9_-]{32})", shown)
    assert link, "the new link is shown once"
    assert world.app.test_client().get(f"/shared/{link.group(1)}").status_code == 200
    (share,) = learner.get(f"{record_path(world, learner)}/shares").get_json()["shares"]
    assert client.post(f"{base}/shares/{share['id']}/revoke", data={"csrf": csrf.group(1), "form_id": "share"}).status_code == 303
    assert world.app.test_client().get(f"/shared/{link.group(1)}").status_code == 404
    assert re.search(r"/shared/[A-Za-z0-9_-]{32}", page(client, base)) is None  # shown once only

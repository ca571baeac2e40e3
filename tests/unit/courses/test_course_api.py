"""The course API the staff pages stand on: removing members, changing an assignment, the filtered audit trail."""

from __future__ import annotations

from typing import Any

from reviews.kernel.audit import AuditEvent
from reviews.kernel.db import db
from tests.conftest import RUBRIC, World


def members(world: World) -> dict[str, str]:
    from reviews.courses.models import Membership

    with world.app.app_context():
        return {m.user_id: m.role for m in db.session.query(Membership).filter_by(course_id=world.course_id)}


# --- DELETE /api/courses/{id}/members/{user_id}


def test_staff_remove_a_member_and_it_is_audited(world: World) -> None:
    learner = world.learners[0]
    answer = world.staff.request("DELETE", f"/api/courses/{world.course_id}/members/{learner.id}")
    assert answer.status_code == 204
    assert learner.id not in members(world)
    events = world.staff.get(f"/api/courses/{world.course_id}/audit?action=member.removed").get_json()["events"]
    assert [(e["actor"], e["subject"], e["data"]) for e in events] == [(world.staff.id, f"user:{learner.id}", {"role": "learner"})]
    # The removed learner no longer sees the course.
    assert learner.get(f"/api/assignments/{world.assignment_id}").status_code == 404


def test_removing_someone_who_is_not_a_member_is_404(world: World) -> None:
    answer = world.staff.request("DELETE", f"/api/courses/{world.course_id}/members/{world.outsider.id}")
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"


def test_the_last_staff_member_cannot_be_removed(world: World) -> None:
    answer = world.admin.request("DELETE", f"/api/courses/{world.course_id}/members/{world.staff.id}")
    assert answer.status_code == 409
    error = answer.get_json()["error"]
    assert error["code"] == "last_staff" and "add another staff member first" in error["message"]
    assert members(world)[world.staff.id] == "staff"
    # With a second staff member, the first may go.
    assert (
        world.staff.post(f"/api/courses/{world.course_id}/members", json={"user_id": world.mentor.id, "role": "staff"}).status_code == 201
    )
    assert world.admin.request("DELETE", f"/api/courses/{world.course_id}/members/{world.staff.id}").status_code == 204


def test_who_may_remove_members(world: World) -> None:
    path = f"/api/courses/{world.course_id}/members/{world.learners[1].id}"
    assert world.learners[0].request("DELETE", path).status_code == 403
    assert world.mentor.request("DELETE", path).status_code == 403
    assert world.outsider.request("DELETE", path).status_code == 404
    assert world.client.delete(path).status_code == 401
    assert world.admin.request("DELETE", path).status_code == 204


# --- levels in the rubric


def levelled_rubric(levels: list[dict[str, Any]]) -> dict[str, Any]:
    criteria = [dict(RUBRIC["criteria"][0], levels=levels), RUBRIC["criteria"][1]]
    return {"criteria": criteria}


def test_level_descriptors_are_stored_and_returned(world: World) -> None:
    levels = [{"points": 0, "description": "Nothing said"}, {"points": 4, "description": "In and out both clear"}]
    created = world.staff.post(
        f"/api/courses/{world.course_id}/assignments", json={"title": "Levels", "rubric": levelled_rubric(levels), "calibration_share": 0}
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["rubric"]["criteria"][0]["levels"] == levels
    # Learners (who review) see them too.
    seen = world.learners[0].get(f"/api/assignments/{created.get_json()['id']}").get_json()
    assert seen["rubric"]["criteria"][0]["levels"] == levels
    assert "levels" not in seen["rubric"]["criteria"][1]


def test_level_points_must_lie_within_the_criterion_and_be_unique(world: World) -> None:
    path = f"/api/courses/{world.course_id}/assignments"
    outside = world.staff.post(path, json={"title": "x", "rubric": levelled_rubric([{"points": 5, "description": "Too many"}])})
    assert outside.status_code == 422
    assert outside.get_json()["error"]["details"]["fields"]["rubric"]["criteria"]["0"]["levels"] == [
        "Level points must lie between 0 and 4; 5 does not."
    ]
    twice = world.staff.post(
        path, json={"title": "x", "rubric": levelled_rubric([{"points": 2, "description": "a"}, {"points": 2, "description": "b"}])}
    )
    assert twice.status_code == 422
    assert "share one" in twice.get_json()["error"]["details"]["fields"]["rubric"]["criteria"]["0"]["levels"][0]


# --- PATCH /api/assignments/{id}


def test_patch_changes_only_what_is_given_and_is_audited(world: World) -> None:
    path = f"/api/assignments/{world.assignment_id}"
    before = world.staff.get(path).get_json()
    answer = world.staff.request("PATCH", path, json={"title": "A clearer title", "min_words": 30, "due_at": "2031-01-01T12:00:00+02:00"})
    assert answer.status_code == 200, answer.get_json()
    after = answer.get_json()
    assert after["title"] == "A clearer title" and after["min_words"] == 30
    assert after["due_at"].startswith("2031-01-01T10:00:00")
    assert {k: v for k, v in after.items() if k not in ("title", "min_words", "due_at")} == {
        k: v for k, v in before.items() if k not in ("title", "min_words", "due_at")
    }
    events = world.staff.get(f"/api/courses/{world.course_id}/audit?action=assignment.updated").get_json()["events"]
    assert [e["data"]["changed"] for e in events] == [["due_at", "min_words", "title"]]


def test_patch_keeps_the_create_rules(world: World) -> None:
    path = f"/api/assignments/{world.assignment_id}"
    short = world.staff.request("PATCH", path, json={"reviews_to_give": 1})  # 1 x (1 - 0) < reviews_required 2
    assert short.status_code == 422 and "reviews_to_give" in short.get_json()["error"]["details"]["fields"]
    early = world.staff.request("PATCH", path, json={"due_at": "2030-05-02T00:00:00Z", "review_due_at": "2030-05-01T00:00:00Z"})
    assert early.status_code == 422 and "review_due_at" in early.get_json()["error"]["details"]["fields"]
    typed = world.staff.request("PATCH", path, json={"max_attempts": "two"})
    assert typed.status_code == 422 and "max_attempts" in typed.get_json()["error"]["details"]["fields"]
    assert world.staff.get(path).get_json()["max_attempts"] == 2


def test_once_reviewed_the_rubric_points_and_reviews_required_are_locked(world: World) -> None:
    world.submit_and_review(world.learners[:3], reviews_each=1)
    path = f"/api/assignments/{world.assignment_id}"
    bigger = {"criteria": [dict(RUBRIC["criteria"][0], max_points=5), RUBRIC["criteria"][1]]}
    refused = world.staff.request("PATCH", path, json={"rubric": bigger})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "settings_locked" and "the rubric's criteria and their points" in error["message"]
    assert error["details"]["locked"] == ["rubric"]
    renamed = {"criteria": [dict(RUBRIC["criteria"][0], key="extent"), RUBRIC["criteria"][1]]}
    assert world.staff.request("PATCH", path, json={"rubric": renamed}).get_json()["error"]["code"] == "settings_locked"
    required = world.staff.request("PATCH", path, json={"reviews_required": 1})
    assert required.status_code == 409 and "number of reviews each submission needs" in required.get_json()["error"]["message"]
    # Words and level descriptors may still change, and so may the settings that do not judge past reviews.
    reworded = {
        "criteria": [
            dict(RUBRIC["criteria"][0], title="Scope and limits", levels=[{"points": 4, "description": "Clear"}]),
            RUBRIC["criteria"][1],
        ]
    }
    answer = world.staff.request("PATCH", path, json={"rubric": reworded, "reviews_required": 2, "reviews_to_give": 3})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["rubric"]["criteria"][0]["title"] == "Scope and limits"


def test_who_may_patch(world: World) -> None:
    path = f"/api/assignments/{world.assignment_id}"
    assert world.learners[0].request("PATCH", path, json={"title": "x"}).status_code == 403
    assert world.mentor.request("PATCH", path, json={"title": "x"}).status_code == 403
    assert world.outsider.request("PATCH", path, json={"title": "x"}).status_code == 404
    assert world.client.patch(path, json={"title": "x"}).status_code == 401
    assert world.admin.request("PATCH", path, json={"title": "By the admin"}).status_code == 200


# --- GET /api/courses/{id}/audit


def add_events(world: World, n: int, action: str = "test.event") -> None:
    from reviews.kernel.audit import record

    with world.app.app_context():
        for i in range(n):
            record(db.session, world.course_id, world.staff.id, action, f"thing:{i}", n=i)
        db.session.commit()


def test_audit_filters(world: World) -> None:
    base = f"/api/courses/{world.course_id}/audit"
    add_events(world, 3)
    by_action = world.staff.get(f"{base}?action=test.event").get_json()["events"]
    assert sorted(e["subject"] for e in by_action) == ["thing:0", "thing:1", "thing:2"]
    assert [e["subject"] for e in world.staff.get(f"{base}?subject=thing:1").get_json()["events"]] == ["thing:1"]
    by_email = world.staff.get(f"{base}?actor=STAFF@example.org").get_json()["events"]
    by_id = world.staff.get(f"{base}?actor={world.staff.id}").get_json()["events"]
    assert by_email == by_id and len(by_id) >= 3 and {e["actor"] for e in by_id} == {world.staff.id}
    assert world.staff.get(f"{base}?actor=nobody@example.org").get_json()["events"] == []
    with world.app.app_context():
        newest = max(e.created_at for e in db.session.query(AuditEvent).all())
    after = world.staff.get(base, query_string={"since": newest.isoformat()}).get_json()["events"]
    assert [e["subject"] for e in after] == ["thing:2"]
    before = world.staff.get(base, query_string={"until": newest.isoformat(), "action": "test.event"}).get_json()["events"]
    assert [e["subject"] for e in before] == ["thing:1", "thing:0"]


def test_audit_pages_are_stable_under_inserts(world: World) -> None:
    base = f"/api/courses/{world.course_id}/audit"
    add_events(world, 7, "paged.event")
    with world.app.app_context():
        # Several events in one instant: the id orders them, and the cursor carries it.
        same = db.session.query(AuditEvent).filter_by(action="paged.event").all()
        for event in same[:4]:
            event.created_at = same[0].created_at
        db.session.commit()
    everything = [e["id"] for e in world.staff.get(f"{base}?action=paged.event").get_json()["events"]]
    assert len(everything) == 7
    seen: list[str] = []
    cursor = None
    while True:
        query = {"action": "paged.event", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = world.staff.get(base, query_string=query).get_json()
        seen += [e["id"] for e in page["events"]]
        add_events(world, 1, "paged.event")  # newer events arrive between pages
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything


def test_a_bad_cursor_is_422_naming_it(world: World) -> None:
    answer = world.staff.get(f"/api/courses/{world.course_id}/audit?cursor=not-a-cursor")
    assert answer.status_code == 422 and "cursor" in answer.get_json()["error"]["details"]["fields"]


def test_who_may_read_the_audit_trail(world: World) -> None:
    path = f"/api/courses/{world.course_id}/audit"
    assert world.learners[0].get(path).status_code == 403
    assert world.mentor.get(path).status_code == 403
    assert world.outsider.get(path).status_code == 404
    assert world.client.get(path).status_code == 401
    assert world.admin.get(path).status_code == 200

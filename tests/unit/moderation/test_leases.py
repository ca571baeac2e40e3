"""A claim on a case is a lease: it runs out back to the queue, its holder renews or releases it, staff take a
case over, a sweep writes expired claims back; each of these is audited."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from reviews.moderation import leases
from tests.conftest import World
from tests.unit.moderation.lease_world import (
    events,
    expire_lease,
    hours_from_now,
    move_lease_end,
    open_case,
    other_course_staff,
    second_mentor,
    stored,
)
from tests.unit.submissions.learner_world import HTML, browser, page, post_form, text_of

SWEEP = "reviews.moderation.tasks.expire_case_leases"


def test_a_claim_is_a_lease_of_the_courses_length(world: World) -> None:
    case_id = open_case(world)
    claimed = world.mentor.post(f"/api/escalations/{case_id}/claim")
    assert claimed.status_code == 200
    body = claimed.get_json()
    assert body["status"] == "claimed" and body["claimed_by"] == world.mentor.id
    assert 3.98 < hours_from_now(body["lease_expires_at"]) <= 4.0
    (event,) = events(world, case_id, "case.claimed")
    assert event["actor"] == world.mentor.id and event["lease_expires_at"] == body["lease_expires_at"]


def test_the_lease_length_is_a_course_setting_only_staff_change(world: World) -> None:
    path = f"/api/courses/{world.course_id}"
    for caller, status in [(world.mentor, 403), (world.learners[0], 403), (world.outsider, 404), (other_course_staff(world), 404)]:
        refused = caller.request("PATCH", path, json={"case_lease_hours": 1})
        assert refused.status_code == status, refused.get_json()
    assert world.client.patch(path, json={"case_lease_hours": 1}).status_code == 401
    for bad in (0, 721, "soon", None):
        refused = world.staff.request("PATCH", path, json={"case_lease_hours": bad})
        assert refused.status_code == 422 and "case_lease_hours" in refused.get_json()["error"]["details"]["fields"]
    changed = world.staff.request("PATCH", path, json={"case_lease_hours": 1.5})
    assert changed.status_code == 200 and changed.get_json()["case_lease_hours"] == 1.5
    (event,) = events_of_course(world, "course.updated")
    assert event["changed"] == {"case_lease_hours": {"from": 4.0, "to": 1.5}}
    assert world.admin.request("PATCH", path, json={"case_lease_hours": 2}).status_code == 200
    renamed = world.staff.request("PATCH", path, json={"title": "Planning 102"})
    assert renamed.status_code == 200 and renamed.get_json()["title"] == "Planning 102" and renamed.get_json()["case_lease_hours"] == 2

    case_id = open_case(world)
    lease = world.mentor.post(f"/api/escalations/{case_id}/claim").get_json()["lease_expires_at"]
    assert 1.98 < hours_from_now(lease) <= 2.0

    made = world.admin.post("/api/courses", json={"title": "Night school", "case_lease_hours": 8})
    assert made.status_code == 201 and made.get_json()["case_lease_hours"] == 8


def events_of_course(world: World, action: str) -> list[dict[str, object]]:
    found = world.staff.get(f"/api/courses/{world.course_id}/audit?action={action}").get_json()["events"]
    return [e["data"] for e in found]


def test_an_expired_claim_is_open_everywhere_and_another_mentor_may_claim_it(world: World) -> None:
    case_id = open_case(world)
    other = second_mentor(world)
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    taken = other.post(f"/api/escalations/{case_id}/claim")
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "already_claimed"

    move_lease_end(world, case_id, timedelta(hours=3, minutes=59))  # a minute left: still held
    assert other.post(f"/api/escalations/{case_id}/claim").status_code == 409
    expire_lease(world, case_id)

    seen = world.mentor.get(f"/api/escalations/{case_id}").get_json()
    assert seen["status"] == "open" and seen["claimed_by"] is None and seen["lease_expires_at"] is None
    queue = f"/api/courses/{world.course_id}/escalations"
    assert [c["id"] for c in world.mentor.get(f"{queue}?status=open").get_json()["cases"]] == [case_id]
    assert world.mentor.get(f"{queue}?status=claimed").get_json()["cases"] == []
    assert world.learners[0].get(f"/api/escalations/{case_id}").get_json()["status"] == "open"

    # The holder whose claim ran out can no longer act on it, nor renew it.
    late = world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "Fine."})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "lease_expired"
    assert "Claim it again" in late.get_json()["error"]["message"]
    renewed = world.mentor.post(f"/api/escalations/{case_id}/renew")
    assert renewed.status_code == 409 and renewed.get_json()["error"]["code"] == "lease_expired"

    claimed = other.post(f"/api/escalations/{case_id}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["claimed_by"] == other.id
    assert 3.98 < hours_from_now(claimed.get_json()["lease_expires_at"]) <= 4.0
    assert other.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "Fine."}).status_code == 200


def test_the_holder_claims_again_after_expiry_with_a_fresh_lease(world: World) -> None:
    case_id = open_case(world)
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    expire_lease(world, case_id)
    again = world.mentor.post(f"/api/escalations/{case_id}/claim")
    assert again.status_code == 200 and again.get_json()["status"] == "claimed"
    assert hours_from_now(again.get_json()["lease_expires_at"]) > 3.98
    assert len(events(world, case_id, "case.claimed")) == 2


def test_the_holder_renews_and_nobody_else_may(world: World) -> None:
    case_id = open_case(world)
    other = second_mentor(world)
    path = f"/api/escalations/{case_id}/renew"
    assert world.mentor.post(path).status_code == 403  # nobody holds it yet
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    move_lease_end(world, case_id, timedelta(hours=3))
    for caller, status in [(other, 403), (world.staff, 403), (world.admin, 403), (world.learners[0], 403), (world.outsider, 404)]:
        refused = caller.post(path)
        assert refused.status_code == status, (caller.email, refused.get_json())
        assert len(refused.get_json()["error"]["message"]) > 20
    assert world.client.post(path).status_code == 401

    renewed = world.mentor.post(path)
    assert renewed.status_code == 200 and renewed.get_json()["claimed_by"] == world.mentor.id
    assert 3.98 < hours_from_now(renewed.get_json()["lease_expires_at"]) <= 4.0
    (event,) = events(world, case_id, "case.lease_renewed")
    assert event["actor"] == world.mentor.id and event["expires_at"] == renewed.get_json()["lease_expires_at"]


def test_the_holder_releases_the_case_back_to_the_queue(world: World) -> None:
    case_id = open_case(world)
    other = second_mentor(world)
    path = f"/api/escalations/{case_id}/release"
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    for caller, status in [(other, 403), (world.staff, 403), (world.learners[0], 403), (world.outsider, 404)]:
        assert caller.post(path).status_code == status, caller.email
    assert world.client.post(path).status_code == 401

    released = world.mentor.post(path)
    assert released.status_code == 200
    assert released.get_json()["status"] == "open" and released.get_json()["claimed_by"] is None
    assert stored(world, case_id)["lease_expires_at"] is None
    (event,) = events(world, case_id, "case.released")
    assert event["actor"] == world.mentor.id
    assert world.mentor.post(path).status_code == 403  # nothing left to release
    assert other.post(f"/api/escalations/{case_id}/claim").status_code == 200


def test_staff_take_a_case_over_and_mentors_may_not(world: World) -> None:
    case_id = open_case(world)
    other = second_mentor(world)
    path = f"/api/escalations/{case_id}/takeover"
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    for caller, status in [
        (other, 403),
        (world.mentor, 403),
        (world.learners[0], 403),
        (world.outsider, 404),
        (other_course_staff(world), 404),
    ]:
        refused = caller.post(path)
        assert refused.status_code == status, (caller.email, refused.get_json())
    assert world.client.post(path).status_code == 401
    assert stored(world, case_id)["claimed_by"] == world.mentor.id

    taken = world.staff.post(path)
    assert taken.status_code == 200
    assert taken.get_json()["claimed_by"] == world.staff.id and taken.get_json()["status"] == "claimed"
    assert hours_from_now(taken.get_json()["lease_expires_at"]) > 3.98
    (event,) = events(world, case_id, "case.taken_over")
    assert event["actor"] == world.staff.id and event["previous_holder"] == world.mentor.id
    # The mentor who held it can no longer act; the staff member can.
    assert world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss"}).status_code == 403
    assert world.admin.post(path).get_json()["claimed_by"] == world.admin.id  # admins count as staff
    assert world.admin.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "Done."}).status_code == 200
    finished = world.staff.post(path)
    assert finished.status_code == 409 and finished.get_json()["error"]["code"] == "conflict"


def test_the_sweep_puts_expired_claims_back_once_and_audits_each(world: World) -> None:
    first = open_case(world)
    sent = world.learners[0].post(
        f"/api/submissions/{stored_submission(world)}/reports", json={"kind": "junk", "message": "Another question about my marks."}
    )
    second = sent.get_json()["case_id"]
    for case_id in (first, second):
        assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    expire_lease(world, first)
    background = world.app.extensions["fairpeer.background"]
    results: list[dict[str, int]] = []
    threads = [threading.Thread(target=lambda: results.append(background.run_now(SWEEP, ()))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r["expired"] for r in results) == [0, 1]  # two sweeps at once: the case goes back once
    assert background.run_now(SWEEP, ()) == {"expired": 0}
    assert stored(world, first)["status"] == "open" and stored(world, first)["claimed_by"] is None
    assert stored(world, second)["status"] == "claimed" and stored(world, second)["claimed_by"] == world.mentor.id
    (event,) = events(world, first, "case.lease_expired")
    assert event["actor"] is None and event["previous_holder"] == world.mentor.id
    assert events(world, second, "case.lease_expired") == []


def stored_submission(world: World) -> str:
    return str(world.learners[0].get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"])


def test_the_sweep_is_on_the_periodic_schedule(world: World) -> None:
    from workers.celery_app import periodic_task_names

    assert SWEEP in periodic_task_names()
    assert world.app.extensions["celery"].conf.beat_schedule[SWEEP]["task"] == SWEEP


@pytest.mark.parametrize(
    ("ends", "words"),
    [
        (datetime(2026, 12, 3, 16, 30, tzinfo=UTC), "at 16:30 UTC on 3 December 2026, in 4 hours"),
        (datetime(2026, 12, 3, 14, 28, tzinfo=UTC), "at 14:28 UTC on 3 December 2026, in 1 hour 58 minutes"),
        (datetime(2026, 12, 3, 12, 30, 30, tzinfo=UTC), "at 12:30 UTC on 3 December 2026, in less than a minute"),
        (datetime(2026, 12, 3, 12, 0, tzinfo=UTC), "at 12:00 UTC on 3 December 2026, which has passed"),
    ],
)
def test_the_lease_end_in_words(ends: datetime, words: str) -> None:
    assert leases.lease_in_words(ends.isoformat(), now=datetime(2026, 12, 3, 12, 30, tzinfo=UTC)) == words


def test_the_case_page_shows_the_lease_and_its_buttons_by_role(world: World) -> None:
    case_id = open_case(world)
    url = f"/escalations/{case_id}"
    mentor = browser(world, world.mentor.id)
    assert post_form(mentor, f"{url}/claim", url, "claim", {"if_match": version_on(page(mentor, url))}).status_code == 303
    html = page(mentor, url)
    assert re.search(r"Your claim runs out at \d\d:\d\d UTC on \d+ \w+ \d{4}, in (3 hours 59 minutes|4 hours)", text_of(html))
    assert "Keep it for longer" in html and "Give it back to the queue" in html and "Take this case over" not in html

    staff = browser(world, world.staff.id)
    staff_view = page(staff, url)
    assert "Another mentor is working on this case. Their claim runs out" in text_of(staff_view)
    assert "Take this case over" in staff_view and "Keep it for longer" not in staff_view
    other = browser(world, second_mentor(world).id)
    assert "Take this case over" not in page(other, url)

    # A mentor who sends the takeover form anyway is refused with a sentence, and nothing changes.
    refused = post_form(other, f"{url}/takeover", url, "takeover", {"if_match": str(stored(world, case_id)["version"])})
    assert refused.status_code == 303
    assert "Only staff" in page(other, url) and stored(world, case_id)["claimed_by"] == world.mentor.id

    moved = post_form(mentor, f"{url}/renew", url, "renew", {"if_match": version_on(page(mentor, url))})
    assert moved.status_code == 303 and "Your claim was renewed." in page(mentor, url)
    assert len(events(world, case_id, "case.lease_renewed")) == 1

    taken = post_form(staff, f"{url}/takeover", url, "takeover", {"if_match": version_on(page(staff, url))})
    assert taken.status_code == 303 and stored(world, case_id)["claimed_by"] == world.staff.id
    assert "You hold this case" in page(staff, url)
    released = post_form(staff, f"{url}/release", url, "release", {"if_match": version_on(page(staff, url))})
    assert released.status_code == 303 and stored(world, case_id)["status"] == "open"
    assert "Nobody is working on this case." in text_of(page(staff, url))
    assert [len(events(world, case_id, a)) for a in ("case.taken_over", "case.released")] == [1, 1]

    # Learners never reach these forms: another learner finds no case, its author may not act on it.
    stranger = browser(world, world.learners[1].id)
    assert post_form(stranger, f"{url}/takeover", "/", "takeover", {}).status_code == 404
    author = browser(world, world.learners[0].id)
    assert post_form(author, f"{url}/claim", url, "claim", {}).status_code == 403
    signed_out = world.app.test_client()
    assert signed_out.post(f"{url}/takeover", data={"form_id": "takeover"}, headers=HTML).status_code == 401
    assert stored(world, case_id)["status"] == "open"


def version_on(html: str) -> str:
    found = re.search(r'name="if_match" value="(\d+)"', html)
    assert found, html[:500]
    return found.group(1)

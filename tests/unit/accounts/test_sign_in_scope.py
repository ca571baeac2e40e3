"""Attacks on sign-in links: staff getting a browser session as someone in courses the staff member is not in.

Staff mint links only for learners of their own course, and the session such a link starts sees that course only
(pages, files, claims, and the API, which never takes the cookie). Links for administrators, mentors and staff
are an administrator's to make.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from reviews.allocation.models import Review
from reviews.kernel.db import db
from tests.conftest import ASSIGNMENT, Caller, World, essay, make_user

HTML = {"Accept": "text/html"}


def link(caller: Caller, user_id: str, course_id: str | None = None) -> Any:
    query = f"?course_id={course_id}" if course_id else ""
    return caller.post(f"/api/users/{user_id}/sign-in-links{query}")


def browser_signed_in(world: World, url: str) -> FlaskClient:
    """A fresh browser (its own cookie jar) that opened ``url``."""
    client = world.app.test_client()
    opened = client.get(urlsplit(url).path, headers=HTML)
    assert opened.status_code == 302, opened.get_data(as_text=True)[:300]
    return client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def second_course_assignment(world: World) -> str:
    """An assignment in the world's other course (the admin counts as its staff)."""
    created = world.admin.post(f"/api/courses/{world.other_course_id}/assignments", json=dict(ASSIGNMENT, title="Other course work"))
    assert created.status_code == 201, created.get_json()
    return str(created.get_json()["id"])


def add(world: World, course_id: str, user: Caller, role: str) -> None:
    answer = world.admin.post(f"/api/courses/{course_id}/members", json={"user_id": user.id, "role": role})
    assert answer.status_code == 201, answer.get_json()


def test_staff_cannot_mint_a_link_for_a_learner_who_is_staff_or_mentor_in_another_course(world: World) -> None:
    learner = world.learners[0]
    add(world, world.other_course_id, learner, "staff")
    refused = link(world.staff, learner.id)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    assert "administrator" in refused.get_json()["error"]["message"]

    mentor_elsewhere = world.learners[1]
    add(world, world.other_course_id, mentor_elsewhere, "mentor")
    assert link(world.staff, mentor_elsewhere.id).status_code == 403
    # An administrator may.
    assert link(world.admin, learner.id).status_code == 201
    assert link(world.admin, mentor_elsewhere.id).status_code == 201


def test_staff_cannot_add_a_staff_member_of_another_course_as_learner_and_mint_their_link(world: World) -> None:
    other_staff = make_user(world.app, world.client, "other-staff@example.org", "Other Staff")
    add(world, world.other_course_id, other_staff, "staff")
    added = world.staff.post(f"/api/courses/{world.course_id}/members", json={"user_id": other_staff.id, "role": "learner"})
    assert added.status_code == 201
    refused = link(world.staff, other_staff.id)
    assert refused.status_code == 403 and "administrator" in refused.get_json()["error"]["message"]
    # Nor an administrator, added as a learner.
    added = world.staff.post(f"/api/courses/{world.course_id}/members", json={"user_id": world.admin.id, "role": "learner"})
    assert added.status_code == 201
    assert link(world.staff, world.admin.id).status_code == 403


def test_staff_cannot_mint_links_for_mentors_or_staff_of_their_own_course_but_admins_can(world: World) -> None:
    for target in (world.mentor, world.staff):
        refused = link(world.staff, target.id)
        assert refused.status_code == 403, target.email
        message = refused.get_json()["error"]["message"]
        assert message.startswith("Only an administrator may create sign-in links for administrators, mentors and staff")
        made = link(world.admin, target.id)
        assert made.status_code == 201 and made.get_json()["course_id"] is None
    # Someone who shares no course with the staff member stays unknown to them.
    assert link(world.staff, world.outsider.id).status_code == 404


def test_a_staff_link_opens_only_that_course_in_pages_and_the_api(world: World) -> None:
    learner = world.learners[0]
    add(world, world.other_course_id, learner, "learner")
    other_assignment = second_course_assignment(world)
    assert learner.post(f"/api/assignments/{other_assignment}/submissions", json={"text": essay(7)}).status_code == 201
    own_work = learner.get(f"/api/assignments/{other_assignment}/progress").get_json()["submission"]["id"]

    made = link(world.staff, learner.id)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["course_id"] == world.course_id
    browser = browser_signed_in(world, made.get_json()["url"])

    # The staff member's course opens.
    assert browser.get(f"/assignments/{world.assignment_id}", headers=HTML).status_code == 200
    assert browser.get(f"/records/{world.course_id}/{learner.id}", headers=HTML).status_code == 200
    home = browser.get("/", headers=HTML).get_data(as_text=True)
    assert "Planning 101" in home and "Other course" not in home
    # The learner's other course does not: as if they were not in it.
    assert browser.get(f"/assignments/{other_assignment}", headers=HTML).status_code == 404
    assert browser.get(f"/records/{world.other_course_id}/{learner.id}", headers=HTML).status_code == 404
    csrf = csrf_of(home)
    submitted = browser.post(f"/assignments/{other_assignment}/submit", data={"csrf": csrf, "text": essay(8)}, headers=HTML)
    assert submitted.status_code == 404
    appealed = browser.post(f"/submissions/{own_work}/appeal", data={"csrf": csrf, "message": "Unfair."}, headers=HTML)
    assert appealed.status_code == 404
    claimed = browser.post(f"/assignments/{other_assignment}/claim", data={"csrf": csrf}, headers=HTML)
    assert claimed.status_code == 404
    # The cookie is no credential for the API at all.
    assert browser.get(f"/api/courses/{world.other_course_id}/assignments").status_code == 401
    assert browser.get(f"/api/submissions/{own_work}").status_code == 401
    assert learner.get(f"/api/submissions/{own_work}").status_code == 200  # the learner's own token: unscoped

    # The same learner signed in through an administrator's link sees both courses.
    unscoped = browser_signed_in(world, link(world.admin, learner.id).get_json()["url"])
    assert unscoped.get(f"/assignments/{other_assignment}", headers=HTML).status_code == 200
    assert "Other course" in unscoped.get("/", headers=HTML).get_data(as_text=True)


def test_a_scoped_session_cannot_send_or_report_a_review_claimed_in_another_course(world: World) -> None:
    learner, author = world.learners[0], world.learners[1]
    for person in (learner, author):
        add(world, world.other_course_id, person, "learner")
    other_assignment = second_course_assignment(world)
    for n, person in enumerate((learner, author)):
        assert person.post(f"/api/assignments/{other_assignment}/submissions", json={"text": essay(20 + n)}).status_code == 201
    claim = learner.post(f"/api/assignments/{other_assignment}/review-claims")
    assert claim.status_code == 201, claim.get_json()
    claim_id = claim.get_json()["claim_id"]

    browser = browser_signed_in(world, link(world.staff, learner.id).get_json()["url"])
    csrf = csrf_of(browser.get("/", headers=HTML).get_data(as_text=True))
    review = {"csrf": csrf, "score_scope": "4", "score_risks": "4", "overall_comment": "Sent through someone else's session."}
    assert browser.post(f"/review-claims/{claim_id}/review", data=review, headers=HTML).status_code == 404
    assert browser.post(f"/review-claims/{claim_id}/report", data={"csrf": csrf, "kind": "junk"}, headers=HTML).status_code == 404
    with world.app.app_context():
        assert db.session.query(Review).filter_by(claim_id=claim_id).count() == 0


def test_staff_of_two_of_the_learners_courses_name_the_course(world: World) -> None:
    learner = world.learners[0]
    add(world, world.other_course_id, learner, "learner")
    add(world, world.other_course_id, world.staff, "staff")
    ambiguous = link(world.staff, learner.id)
    assert ambiguous.status_code == 422
    assert "course_id" in ambiguous.get_json()["error"]["details"]["fields"]
    named = link(world.staff, learner.id, world.other_course_id)
    assert named.status_code == 201 and named.get_json()["course_id"] == world.other_course_id
    assert link(world.staff, learner.id, "not-a-course").status_code == 403


def test_a_staff_link_is_void_once_its_learner_became_mentor_or_staff(world: World) -> None:
    learner = world.learners[0]
    made = link(world.staff, learner.id)
    assert made.status_code == 201
    add(world, world.other_course_id, learner, "mentor")
    client = world.app.test_client()
    opened = client.get(urlsplit(made.get_json()["url"]).path, headers=HTML)
    assert opened.status_code == 400
    assert "used or expired" in opened.get_data(as_text=True)
    assert client.get(f"/assignments/{world.assignment_id}", headers=HTML).status_code == 401

"""The staff pages of a course: who may open them, and what each action does (through the API's services)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from reviews.accounts.callers import SESSION_KEY
from reviews.accounts.services import start_web_session
from reviews.courses.models import Assignment, Membership
from reviews.kernel.db import db
from reviews.submissions.models import Submission
from tests.conftest import World, make_user

HTML = {"Accept": "text/html"}


class Browser:
    """A signed-in browser on the pages (the test client with a live page session)."""

    def __init__(self, world: World, user_id: str | None, course_id: str | None = None) -> None:
        self.client = world.app.test_client()
        if user_id is not None:
            with world.app.app_context():
                secret = start_web_session(db.session, user_id, course_id, hours=1)
                db.session.commit()
            with self.client.session_transaction() as session:
                session[SESSION_KEY] = secret

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=HTML, **kw)

    def text(self, path: str) -> str:
        answer = self.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        return str(answer.get_data(as_text=True))

    def post(self, path: str, data: dict[str, Any], page: str | None = None) -> Any:
        """Send a form as the page at ``page`` (or ``path``) would, with its CSRF token, and follow to the next page."""
        source = self.text(page or path)
        token = re.search(r'name="csrf" value="([^"]+)"', source)
        assert token
        answer = self.client.post(path, data={"csrf": token.group(1), **data}, headers=HTML)
        assert answer.status_code == 303, (answer.status_code, answer.get_data(as_text=True)[:500])
        return answer

    def post_and_follow(self, path: str, data: dict[str, Any], page: str | None = None) -> str:
        answer = self.post(path, data, page)
        return self.text(urlsplit(answer.headers["Location"]).path)


def staff_browser(world: World) -> Browser:
    return Browser(world, world.staff.id)


def role_browsers(world: World) -> dict[str, Browser]:
    return {
        "learner": Browser(world, world.learners[0].id),
        "mentor": Browser(world, world.mentor.id),
        "outsider": Browser(world, world.outsider.id),
        "signed out": Browser(world, None),
    }


def staff_pages(world: World) -> list[str]:
    return [
        f"/courses/{world.course_id}",
        f"/courses/{world.course_id}/assignments/new",
        f"/assignments/{world.assignment_id}/edit",
        f"/courses/{world.course_id}/audit",
    ]


# --- who may see what


@pytest.mark.parametrize("path_index", range(4))
def test_staff_pages_by_role(world: World, path_index: int) -> None:
    path = staff_pages(world)[path_index]
    assert staff_browser(world).get(path).status_code == 200
    assert Browser(world, world.admin.id).get(path).status_code == 200
    expected = {"learner": 403, "mentor": 403, "outsider": 404, "signed out": 401}
    for role, browser in role_browsers(world).items():
        answer = browser.get(path)
        assert answer.status_code == expected[role], (role, path, answer.status_code)
        assert answer.mimetype == "text/html"
    # Another course's staff see nothing of this one.
    other_staff = make_user(world.app, world.client, "other.staff@example.org", "Other Staff")
    assert (
        world.admin.post(f"/api/courses/{world.other_course_id}/members", json={"user_id": other_staff.id, "role": "staff"}).status_code
        == 201
    )
    assert Browser(world, other_staff.id).get(path).status_code == 404


def test_a_course_limited_session_of_an_admin_is_not_an_admin(world: World) -> None:
    limited = Browser(world, world.admin.id, course_id=world.other_course_id)
    assert limited.get(f"/courses/{world.course_id}").status_code == 404
    assert limited.get("/admin/courses").status_code == 403


def test_admin_courses_page_by_role(world: World) -> None:
    assert Browser(world, world.admin.id).get("/admin/courses").status_code == 200
    assert staff_browser(world).get("/admin/courses").status_code == 403
    for role, browser in role_browsers(world).items():
        assert browser.get("/admin/courses").status_code == (401 if role == "signed out" else 403), role


def test_page_actions_refuse_other_roles(world: World) -> None:
    learner = Browser(world, world.learners[0].id)
    token = re.search(r'name="csrf" value="([^"]+)"', learner.text("/")).group(1)  # type: ignore[union-attr]
    posts = [
        (f"/courses/{world.course_id}/members", {"email": "mentor@example.org", "role": "staff"}),
        (f"/courses/{world.course_id}/members/{world.learners[1].id}/remove", {}),
        (f"/courses/{world.course_id}/members/{world.learners[1].id}/sign-in-link", {}),
        (f"/courses/{world.course_id}/assignments/new", {"title": "x"}),
        (f"/assignments/{world.assignment_id}/edit", {"title": "x"}),
        ("/admin/courses", {"title": "x"}),
    ]
    for path, data in posts:
        assert learner.client.post(path, data={"csrf": token, **data}, headers=HTML).status_code == 403, path
    assert members_of(world)[world.learners[1].id] == "learner"


def members_of(world: World) -> dict[str, str]:
    with world.app.app_context():
        return {m.user_id: m.role for m in db.session.query(Membership).filter_by(course_id=world.course_id)}


# --- the course page


def test_the_course_page_lists_members_and_assignments_with_their_numbers(world: World) -> None:
    world.submit_and_review(world.learners[:3], reviews_each=2)
    page = staff_browser(world).text(f"/courses/{world.course_id}")
    assert "Planning 101" in page and "Learner 0" in page and "learner0@example.org" in page and "Mentor" in page
    row = re.search(r"<tr>\s*<td data-label=\"Assignment\">Plan a small project</td>(.*?)</tr>", page, re.S)
    assert row, page
    cells = dict(re.findall(r'data-label="([^"]+)">(.*?)</td>', row.group(0), re.S))
    assert cells["Phase"].strip() == "Open for submissions"
    assert cells["Submissions"] == "3"
    # Two reviews each; a score still too uncertain on so few grades has asked for one more (adaptive count).
    with world.app.app_context():
        work = db.session.scalars(select(Submission).where(Submission.assignment_id == world.assignment_id))
        targets = [s.reviews_target or 2 for s in work]
    assert cells["Reviews done / needed"] == f"6 / {sum(targets)}"
    assert cells["Open cases"] == "0"
    assert cells["Scores released"] == "3 of 3"  # each has its 2 required reviews and gave 2
    assert f'/assignments/{world.assignment_id}/edit"' in cells["Pages"] and f'/assignments/{world.assignment_id}"' in cells["Pages"]


def test_phases(world: World) -> None:
    browser = staff_browser(world)
    world.staff.request("PATCH", f"/api/assignments/{world.assignment_id}", json={"due_at": "2001-01-01T00:00:00Z"})
    assert "Reviewing" in browser.text(f"/courses/{world.course_id}")
    assert world.staff.post(f"/api/assignments/{world.assignment_id}/release").status_code == 200
    assert ">Released<" in browser.text(f"/courses/{world.course_id}")


def test_add_a_member_by_email(world: World) -> None:
    newcomer = make_user(world.app, world.client, "new.person@example.org", "New Person")
    page = staff_browser(world).post_and_follow(
        f"/courses/{world.course_id}/members",
        {"form_id": "add-member", "email": "New.Person@example.org", "role": "mentor"},
        page=f"/courses/{world.course_id}",
    )
    assert "New Person is now mentor in this course." in page
    assert members_of(world)[newcomer.id] == "mentor"


def test_adding_an_unknown_email_says_so_beside_the_field_and_keeps_it(world: World) -> None:
    browser = staff_browser(world)
    page = browser.post_and_follow(
        f"/courses/{world.course_id}/members",
        {"form_id": "add-member", "email": "nobody@example.org", "role": "learner"},
        page=f"/courses/{world.course_id}",
    )
    error = re.search(r'<span class="field-error" id="add-member-email-error">([^<]+)</span>', page)
    assert error and "No one has an account with nobody@example.org" in error.group(1)
    assert 'value="nobody@example.org"' in page
    bad = browser.post_and_follow(
        f"/courses/{world.course_id}/members",
        {"form_id": "add-member", "email": "not an address", "role": "learner"},
        page=f"/courses/{world.course_id}",
    )
    assert "Give an email address, like name@example.org." in bad


def test_remove_a_member_and_the_last_staff_member_is_kept(world: World) -> None:
    browser = staff_browser(world)
    course_page = f"/courses/{world.course_id}"
    page = browser.post_and_follow(f"/courses/{world.course_id}/members/{world.learners[2].id}/remove", {"form_id": "members"}, course_page)
    assert "Learner 2 is no longer in this course." in page
    assert world.learners[2].id not in members_of(world)
    refused = browser.post_and_follow(f"/courses/{world.course_id}/members/{world.staff.id}/remove", {"form_id": "members"}, course_page)
    assert "only staff member: add another staff member first" in refused
    assert members_of(world)[world.staff.id] == "staff"
    with world.app.app_context():
        from reviews.kernel.audit import AuditEvent

        assert db.session.query(AuditEvent).filter_by(action="member.removed").count() == 1


def test_a_learner_sign_in_link_is_shown_once_and_signs_in_to_this_course_only(world: World) -> None:
    browser = staff_browser(world)
    course_page = f"/courses/{world.course_id}"
    page = browser.post_and_follow(
        f"/courses/{world.course_id}/members/{world.learners[1].id}/sign-in-link", {"form_id": "members"}, course_page
    )
    found = re.search(r'id="minted-url"[^>]*value="([^"]+)"', page)
    assert found and "Sign-in link for Learner 1" in page
    assert "minted-url" not in browser.text(course_page)  # shown only once
    opened = world.app.test_client().get(urlsplit(found.group(1)).path, headers=HTML)
    assert opened.status_code == 302
    # No button for mentors or staff, and the service refuses them to staff.
    assert f"/members/{world.mentor.id}/sign-in-link" not in page
    refused = browser.post_and_follow(
        f"/courses/{world.course_id}/members/{world.mentor.id}/sign-in-link", {"form_id": "members"}, course_page
    )
    assert "Only an administrator may create sign-in links" in refused and "minted-url" not in refused


# --- the assignment editor


def editor_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "form_id": "assignment",
        "title": "Write a risk register",
        "prompt": "List the risks of your project and how you meet them.",
        "template": "",
        "lineage": "risk-register",
        "rubric.criteria.0.title": "Risks named",
        "rubric.criteria.0.key": "",
        "rubric.criteria.0.description": "Are the main risks there?",
        "rubric.criteria.0.max_points": "4",
        "rubric.criteria.0.levels": "4: Every main risk\n2: Some risks\n0: None",
        "rubric.criteria.1.title": "Plans",
        "rubric.criteria.1.key": "plans",
        "rubric.criteria.1.description": "",
        "rubric.criteria.1.max_points": "3",
        "rubric.criteria.1.levels": "",
        "rubric.criteria.2.title": "",
        "rubric.criteria.2.key": "",
        "rubric.criteria.2.description": "",
        "rubric.criteria.2.max_points": "",
        "rubric.criteria.2.levels": "",
        "reviews_required": "2",
        "reviews_to_give": "3",
        "calibration_share": "20",
        "max_attempts": "",
        "attempt_cooldown_hours": "1.5",
        "min_words": "25",
        "due_at": "2030-06-30T23:59",
        "review_due_at": "2030-07-07T12:00",
    }
    data.update(overrides)
    return data


def assignments(world: World) -> dict[str, Assignment]:
    with world.app.app_context():
        return {a.title: a for a in db.session.query(Assignment).all()}


def test_create_an_assignment_with_every_setting(world: World) -> None:
    browser = staff_browser(world)
    new = f"/courses/{world.course_id}/assignments/new"
    page = browser.post_and_follow(new, editor_form(), new)
    assert "The assignment is created." in page
    made = assignments(world)["Write a risk register"]
    assert made.rubric == {
        "criteria": [
            {
                "key": "risks_named",
                "title": "Risks named",
                "description": "Are the main risks there?",
                "max_points": 4,
                "levels": [
                    {"points": 4, "description": "Every main risk"},
                    {"points": 2, "description": "Some risks"},
                    {"points": 0, "description": "None"},
                ],
            },
            {"key": "plans", "title": "Plans", "description": "", "max_points": 3},
        ]
    }
    assert (made.reviews_required, made.reviews_to_give, made.calibration_share) == (2, 3, 0.2)
    assert (made.max_attempts, made.attempt_cooldown_hours, made.min_words, made.lineage) == (None, 1.5, 25, "risk-register")
    assert made.due_at is not None and made.due_at.isoformat() == "2030-06-30T23:59:00+00:00"
    assert made.review_due_at is not None and made.review_due_at.isoformat() == "2030-07-07T12:00:00+00:00"
    # The editor shows it again as it was typed.
    assert 'value="2030-06-30T23:59"' in page and "4: Every main risk\n2: Some risks\n0: None" in page


def test_editor_errors_sit_beside_their_fields_in_words(world: World) -> None:
    browser = staff_browser(world)
    new = f"/courses/{world.course_id}/assignments/new"
    page = browser.post_and_follow(
        new,
        editor_form(**{"rubric.criteria.1.max_points": "lots", "rubric.criteria.0.levels": "9: Too many", "reviews_to_give": "1"}),
        new,
    )

    def error(field_id: str) -> str:
        found = re.search(rf'id="{field_id}-error">([^<]+)<', page)
        assert found, (field_id, page)
        return found.group(1)

    assert error("assignment-rubric-criteria-1-max-points") == "Give a whole number."
    assert "Level points must lie between 0 and 4; 9 does not." in error("assignment-rubric-criteria-0-levels")
    assert "Write a risk register" in page and "9: Too many" in page  # the typed text is kept
    assert "Write a risk register" not in assignments(world)
    # The settings' own rule, in words and without field names.
    short = browser.post_and_follow(new, editor_form(reviews_to_give="1", reviews_required="2", calibration_share="0"), new)
    message = re.search(r'id="assignment-reviews-to-give-error">([^<]+)<', short)
    assert message and "fewer than the 2 reviews every submission needs" in message.group(1)
    shown = " ".join(re.findall(r'class="(?:field-error|form-errors)"[^>]*>(.*?)</(?:span|div)>', short, re.S))
    assert shown and not re.search(r"reviews_to_give|calibration_share|reviews_required|due_at", shown)
    early = browser.post_and_follow(new, editor_form(review_due_at="2030-06-01T00:00"), new)
    assert "The review deadline must not come before the submission deadline." in early
    badlevels = browser.post_and_follow(new, editor_form(**{"rubric.criteria.0.levels": "four points: great"}), new)
    assert 'Line 1 should read like "4: what work worth 4 points does".' in badlevels.replace("&#34;", '"')
    empty = browser.post_and_follow(
        new,
        editor_form(**{f"rubric.criteria.{i}.{p}": "" for i in range(2) for p in ("title", "key", "description", "max_points", "levels")}),
        new,
    )
    assert "Give the rubric at least one criterion." in empty


def test_add_more_rows_keeps_the_text_and_adds_rows(world: World) -> None:
    browser = staff_browser(world)
    new = f"/courses/{world.course_id}/assignments/new"
    page = browser.text(new)
    assert "rubric.criteria.1.title" in page and "rubric.criteria.2.title" not in page
    more = browser.post_and_follow(new, editor_form(more_rows="1"), new)
    assert "rubric.criteria.4.title" in more and "rubric.criteria.5.title" not in more
    assert 'value="Write a risk register"' in more
    assert "Write a risk register" not in assignments(world)


def test_edit_an_assignment(world: World) -> None:
    browser = staff_browser(world)
    edit = f"/assignments/{world.assignment_id}/edit"
    page = browser.text(edit)
    assert 'value="Plan a small project"' in page and 'value="scope"' in page and "locked" not in page.lower().split("<form")[0]
    form = editor_form(
        title="Plan a project",
        **{
            "rubric.criteria.0.title": "Scope",
            "rubric.criteria.0.key": "scope",
            "rubric.criteria.0.max_points": "5",
            "rubric.criteria.0.levels": "5: Clear\n0: Missing",
            "rubric.criteria.1.title": "Risks",
            "rubric.criteria.1.key": "risks",
            "rubric.criteria.1.max_points": "4",
        },
    )
    saved = browser.post_and_follow(edit, form, edit)
    assert "The assignment is saved." in saved
    changed = assignments(world)["Plan a project"]
    assert changed.criteria[0]["max_points"] == 5 and changed.criteria[0]["levels"] == [
        {"points": 5, "description": "Clear"},
        {"points": 0, "description": "Missing"},
    ]
    events = world.staff.get(f"/api/courses/{world.course_id}/audit?action=assignment.updated").get_json()["events"]
    assert len(events) == 1 and "rubric" in events[0]["data"]["changed"]


def test_once_reviewed_the_editor_shows_the_locked_settings(world: World) -> None:
    world.submit_and_review(world.learners[:3], reviews_each=1)
    browser = staff_browser(world)
    edit = f"/assignments/{world.assignment_id}/edit"
    page = browser.text(edit)
    assert "Some settings are locked." in page
    assert 'name="rubric.criteria.0.max_points" value="4"' in page and 'type="hidden" name="reviews_required"' in page
    assert "Add more rows" not in page
    # A changed description is saved; a forged point change is refused, in words, beside the rubric.
    fields = {
        "rubric.criteria.0.title": "Scope",
        "rubric.criteria.0.key": "scope",
        "rubric.criteria.0.max_points": "4",
        "rubric.criteria.0.description": "What is in, what is out?",
        "rubric.criteria.1.title": "Risks",
        "rubric.criteria.1.key": "risks",
        "rubric.criteria.1.max_points": "4",
        "reviews_required": "2",
        "reviews_to_give": "2",
        "calibration_share": "0",
        "due_at": "",
        "review_due_at": "",
    }
    saved = browser.post_and_follow(edit, editor_form(**fields), edit)
    assert "The assignment is saved." in saved
    assert assignments(world)["Write a risk register"].criteria[0]["description"] == "What is in, what is out?"
    refused = browser.post_and_follow(edit, editor_form(**{**fields, "rubric.criteria.0.max_points": "10", "reviews_required": "1"}), edit)
    assert "Reviews exist for this assignment, so the rubric&#39;s criteria and their points and the number of reviews" in refused
    assert re.search(
        r'id="assignment-rubric-error">Reviews exist, so the rubric&#39;s criteria and their points can no longer change', refused
    )
    assert assignments(world)["Write a risk register"].criteria[0]["max_points"] == 4


# --- the audit trail page


def test_the_audit_page_filters_and_pages(world: World) -> None:
    from reviews.kernel.audit import record

    with world.app.app_context():
        for i in range(60):
            record(db.session, world.course_id, world.staff.id, "member.role_set", f"user:x{i}", role="learner", previous=None)
        db.session.commit()
    browser = staff_browser(world)
    base = f"/courses/{world.course_id}/audit"
    page = browser.text(base)
    assert "Staff (staff@example.org)" in page and "Member added or role changed" in page
    assert page.count("<tr>") == 51  # the header and 50 rows
    older = re.search(r'<a href="([^"]+)">Older</a>', page)
    assert older
    second = browser.text(older.group(1).replace("&amp;", "&"))
    assert "Newest" in second and second.count("<tr>") > 1
    filtered = browser.text(f"{base}?action=assignment.created")
    assert "Assignment created" in filtered and "user:x1" not in filtered and "Older" not in filtered
    by_actor = browser.text(f"{base}?actor=admin@example.org")
    assert "Course created" in by_actor and "user:x1<" not in by_actor
    bad = browser.text(f"{base}?since=yesterday")
    assert "Give a date and a time." in bad


# --- the admin's courses page


def test_admin_creates_a_course_and_adds_its_staff(world: World) -> None:
    browser = Browser(world, world.admin.id)
    page = browser.post_and_follow("/admin/courses", {"form_id": "new-course", "title": "Writing 201", "slug": ""})
    assert "The course Writing 201 is created." in page
    course_id = re.search(r'<a href="/courses/([^"]+)">Writing 201</a>', page).group(1)  # type: ignore[union-attr]
    added = browser.post_and_follow(
        "/admin/courses/staff", {"form_id": "course-staff", "course_id": course_id, "email": "mentor@example.org"}, "/admin/courses"
    )
    assert "Mentor is now staff of Writing 201." in added
    with world.app.app_context():
        assert db.session.query(Membership).filter_by(course_id=course_id, user_id=world.mentor.id).one().role == "staff"
    duplicate = browser.post_and_follow("/admin/courses", {"form_id": "new-course", "title": "Writing 201", "slug": ""})
    assert "exists already" in duplicate
    unknown = browser.post_and_follow(
        "/admin/courses/staff", {"form_id": "course-staff", "course_id": course_id, "email": "who@example.org"}, "/admin/courses"
    )
    assert "No one has an account with who@example.org" in unknown


# --- the home page


def test_home_says_what_to_do_next_for_each_role(world: World) -> None:
    staff = staff_browser(world).text("/")
    assert f'href="/courses/{world.course_id}">Manage course</a>' in staff
    assert f"/assignments/{world.assignment_id}/edit" in staff
    mentor = Browser(world, world.mentor.id).text("/")
    assert f"/courses/{world.course_id}/escalations" in mentor and "Manage course" not in mentor
    learner = Browser(world, world.learners[0].id).text("/")
    assert "Submit your work" in learner and "Manage course" not in learner
    loner = make_user(world.app, world.client, "root@example.org", "Root", admin=True)
    admin = Browser(world, loner.id).text("/")
    assert 'href="/admin/courses">Courses</a>' in admin and "You are not in any course yet." in admin

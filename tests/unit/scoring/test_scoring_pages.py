"""The staff's scoring pages: the gradebook (sort, filter, staff grade, release, scores.csv), a learner's work, and
the reviewer view; who may open each of them, and what each action leaves behind."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from reviews.kernel.audit import AuditEvent
from reviews.kernel.db import db
from reviews.scoring.gradebook import explain
from reviews.scoring.models import ReviewerStat
from reviews.submissions.models import Submission
from tests.conftest import World
from tests.unit.scoring.pages_helpers import HTML, other_course_staff, page_client, post_form


@pytest.fixture
def scored(world: World) -> World:
    """Learners 0-3 submitted and gave two reviews each (calibrated at once); learner 4 never submitted."""
    world.submit_and_review(world.learners[:4])
    return world


def submission_of(world: World, learner: Any) -> str:
    return str(learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"])


def row_html(html: str, learner_id: str) -> str:
    found = re.search(rf'<tr data-learner-id="{learner_id}".*?</tr>', html, re.S)
    assert found, "the learner has a row"
    return found.group(0)


def staff_pages(world: World) -> list[str]:
    sid = submission_of(world, world.learners[0])
    aid = world.assignment_id
    return [
        f"/assignments/{aid}/gradebook",
        f"/assignments/{aid}/reviewers",
        f"/assignments/{aid}/samples",
        f"/assignments/{aid}/scores.csv",
        f"/submissions/{sid}/work",
    ]


def test_every_role_on_every_staff_page(scored: World) -> None:
    """Staff and admins read them; a learner finds nothing (404); a mentor is told they are staff's (403);
    another course's staff and outsiders find nothing; a signed-out browser is asked to sign in."""
    world = scored
    other_staff = other_course_staff(world)
    expected = {
        world.staff.id: 200,
        world.admin.id: 200,
        world.learners[0].id: 404,  # the author of the work page's submission too
        world.learners[4].id: 404,
        world.mentor.id: 403,
        other_staff.id: 404,
        world.outsider.id: 404,
    }
    for path in staff_pages(world):
        for user_id, status in expected.items():
            answer = page_client(world.app, user_id).get(path, headers=HTML)
            assert answer.status_code == status, (path, user_id, answer.status_code)
            if status != 200:
                assert "<html" in answer.get_data(as_text=True).lower(), "an error page, never JSON"
        assert world.app.test_client().get(path, headers=HTML).status_code == 401


def test_staff_actions_refuse_learners_and_mentors(scored: World) -> None:
    world = scored
    sid = submission_of(world, world.learners[0])
    aid = world.assignment_id
    actions = [
        (f"/submissions/{sid}/staff-grade", f"grade-{sid}", {"scores.scope": "3", "scores.risks": "3"}),
        (f"/assignments/{aid}/release", "release", {}),
    ]
    for user_id, status in [(world.learners[0].id, 404), (world.mentor.id, 403), (world.outsider.id, 404)]:
        client = page_client(world.app, user_id)
        home = client.get("/", headers=HTML).get_data(as_text=True)
        token = re.search(r'name="csrf" value="([^"]+)"', home)
        assert token
        for action, form_id, fields in actions:
            answer = client.post(action, data={"csrf": token.group(1), "form_id": form_id, **fields}, headers=HTML)
            assert answer.status_code == status, (action, user_id)
    with world.app.app_context():
        assert db.session.query(AuditEvent).filter(AuditEvent.action.in_(("score.staff_graded", "scores.released"))).count() == 0


def test_gradebook_rows_say_each_learners_state(scored: World) -> None:
    world = scored
    html = page_client(world.app, world.staff.id).get(f"/assignments/{world.assignment_id}/gradebook", headers=HTML).get_data(as_text=True)
    progress = world.learners[0].get(f"/api/assignments/{world.assignment_id}/progress").get_json()
    first = row_html(html, world.learners[0].id)
    assert "Learner 0" in first and "learner0@example.org" in first
    received = len(world.staff.get(f"/api/submissions/{progress['submission']['id']}/reviews").get_json()["reviews"])
    with world.app.app_context():
        # Two reviews required; a score still too uncertain asked for more (the adaptive count), which the row shows.
        needed = db.session.get_one(Submission, progress["submission"]["id"]).reviews_target or 2
    assert "Attempt 1" in first and f'data-label="Reviews received">{received} of {needed}<' in first
    score = world.staff.get(f"/api/submissions/{progress['submission']['id']}").get_json()["score"]
    assert f"{score['value']:.1f}".removesuffix(".0") in first
    assert "95% interval" in first
    assert progress["score"]["released"] is True and "Released" in first
    missing = row_html(html, world.learners[4].id)
    assert "No submission" in missing and "(2 owed)" in missing
    assert "Open the work" not in missing and "Give a staff grade" not in missing


def test_gradebook_sorts_and_filters(scored: World) -> None:
    world = scored
    client = page_client(world.app, world.staff.id)
    base = f"/assignments/{world.assignment_id}/gradebook"

    def order(query: str) -> list[str]:
        html = client.get(f"{base}?{query}", headers=HTML).get_data(as_text=True)
        return re.findall(r'<tr data-learner-id="([^"]+)"', html)

    ids = [learner.id for learner in world.learners]
    assert order("sort=name") == ids
    assert order("sort=name&order=desc") == ids[::-1]
    assert order("state=no_submission") == [ids[4]]
    assert order("q=LEARNER3@") == [ids[3]]
    assert order("q=nobody") == []
    values = {}
    for learner in world.learners[:4]:
        values[learner.id] = world.staff.get(f"/api/submissions/{submission_of(world, learner)}").get_json()["score"]["value"]
    by_score = order("sort=score&order=desc")
    assert by_score[:4] == sorted(values, key=lambda i: -values[i]) and by_score[4] == ids[4], "unscored rows last"
    assert order("sort=nonsense&state=nonsense") == ids  # unknown choices fall back to the defaults


def test_a_staff_grade_from_the_gradebook(scored: World) -> None:
    world = scored
    learner = world.learners[1]
    sid = submission_of(world, learner)
    client = page_client(world.app, world.staff.id)
    page = f"/assignments/{world.assignment_id}/gradebook?sort=score"
    sent = post_form(
        client, page, f"/submissions/{sid}/staff-grade", f"grade-{sid}", {"scores.scope": "4", "scores.risks": "2.5", "note": "Checked."}
    )
    assert sent.status_code == 303 and sent.headers["Location"].endswith(page)
    html = client.get(page, headers=HTML).get_data(as_text=True)
    assert "Staff grade of 6.5 / 8 given to Learner 1" in html
    row = row_html(html, learner.id)
    assert "Staff grade" in row and "6.5" in row
    score = world.staff.get(f"/api/submissions/{sid}").get_json()["score"]
    assert score["method"] == "staff" and score["value"] == 6.5
    with world.app.app_context():
        (event,) = db.session.query(AuditEvent).filter_by(action="score.staff_graded").all()
        assert event.actor_id == world.staff.id and event.data["note"] == "Checked."


def test_a_refused_staff_grade_comes_back_with_the_sentence_beside_the_field(scored: World) -> None:
    world = scored
    sid = submission_of(world, world.learners[1])
    client = page_client(world.app, world.staff.id)
    page = f"/assignments/{world.assignment_id}/gradebook"
    for fields, field_name, sentence in [
        ({"scores.scope": "9", "scores.risks": "2"}, "scope", "Must be between 0 and 4"),  # the rubric's rule (service)
        ({"scores.scope": "many", "scores.risks": "2"}, "scope", "Give the points as a number"),
        ({"scores.scope": "2"}, "risks", "Give the points for Risks"),
    ]:
        sent = post_form(client, page, f"/submissions/{sid}/staff-grade", f"grade-{sid}", {**fields, "note": "typed note"})
        assert sent.status_code == 303
        html = client.get(page, headers=HTML).get_data(as_text=True)
        field_id = f"grade-{sid}-scores-{field_name}".replace("_", "-")
        error = re.search(rf'<span class="field-error" id="{re.escape(field_id)}-error">([^<]*)</span>', html)
        assert error and sentence in error.group(1), html[:200]
        assert f'aria-describedby="{field_id}-error"' in html
        assert "typed note" in html, "the typed note is kept"
        assert re.search(r'<details class="grade" open>', html), "the row's form is open"
    assert world.staff.get(f"/api/submissions/{sid}").get_json()["score"]["method"] != "staff"


def test_release_from_the_gradebook(world: World) -> None:
    world.submit_and_review(world.learners[:2], reviews_each=1)  # short of reviews: not released by the rule
    learner = world.learners[0]
    before = learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["score"]
    assert before == {"released": False}
    client = page_client(world.app, world.staff.id)
    page = f"/assignments/{world.assignment_id}/gradebook"
    assert "Scored (not released)" in row_html(client.get(page, headers=HTML).get_data(as_text=True), learner.id)
    assert post_form(client, page, f"/assignments/{world.assignment_id}/release", "release", {}).status_code == 303
    html = client.get(page, headers=HTML).get_data(as_text=True)
    assert "Scores released" in html and "Scores were released on" in html and "Release scores</button>" not in html
    assert "Released" in row_html(html, learner.id)
    assert learner.get(f"/api/assignments/{world.assignment_id}/progress").get_json()["score"]["released"] is True


def test_scores_csv_from_the_page_is_the_apis(scored: World) -> None:
    world = scored
    path = f"/assignments/{world.assignment_id}/scores.csv"
    page = page_client(world.app, world.staff.id).get(path)
    api = world.staff.get(f"/api{path}")
    assert page.status_code == api.status_code == 200
    assert page.mimetype == "text/csv" and page.headers["Content-Disposition"].startswith("attachment")
    assert page.get_data(as_text=True) == api.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(page.get_data(as_text=True))))
    assert sorted(r["email"] for r in rows) == [f"learner{i}@example.org" for i in range(4)]


def test_the_work_page_shows_the_work_and_its_reviews_with_their_reviewers(scored: World) -> None:
    world = scored
    sid = submission_of(world, world.learners[2])
    html = page_client(world.app, world.staff.id).get(f"/submissions/{sid}/work", headers=HTML).get_data(as_text=True)
    text = world.staff.get(f"/api/submissions/{sid}").get_json()["text"]
    assert "Learner 2's work" in html and text.split(".")[0] in html
    reviews = world.staff.get(f"/api/submissions/{sid}/reviews").get_json()["reviews"]
    assert len(reviews) == 2
    for review in reviews:
        assert f'data-review-id="{review["id"]}"' in html
    names = {f"Learner {i}" for i in range(4)}
    assert sum(name in html for name in names - {"Learner 2"}) >= 1, "staff see who reviewed"
    assert f'action="/submissions/{sid}/staff-grade"' in html


def test_reviewer_view_explains_each_reviewer_in_words(scored: World) -> None:
    world = scored
    html = page_client(world.app, world.staff.id).get(f"/assignments/{world.assignment_id}/reviewers", headers=HTML).get_data(as_text=True)
    with world.app.app_context():
        stats = db.session.query(ReviewerStat).filter_by(assignment_id=world.assignment_id).all()
        assert {s.reviewer_id for s in stats} == {learner.id for learner in world.learners[:4]}
    for learner in world.learners[:4]:
        assert f'id="reviewer-{learner.id}"' in html
    assert "Grades" in html and "of a typical review" in html and "Their reviews" in html
    assert html.count("<h1") == 1
    # Two reviews each: every reliability here is mostly the calibration's prior, and the page says so.
    assert "(mostly the prior: too few grades)" in html and "Too few grades yet (2)" in html


def test_explain_in_words() -> None:
    stat = ReviewerStat(bias=1.2, reliability=4.0, low_effort=0.7, weight=0.3, grades=5, samples_seen=1)
    words = " ".join(explain(stat, "Scope", 4.0, anchored=True))
    assert "Grades about 1.2 points above careful graders on Scope." in words
    assert "Somewhat inconsistent" in words or "Fairly consistent" in words
    assert "Probably did not read the work closely (70% likely)." in words
    assert "counts for about 30% of a typical review" in words
    calm = " ".join(explain(ReviewerStat(bias=-0.01, reliability=400.0, low_effort=0.0, weight=1.0), "Risks", 4.0, anchored=False))
    assert "Grades Risks in line with the other reviewers." in calm and "Very consistent" in calm
    below = " ".join(explain(ReviewerStat(bias=-1.0, reliability=None, low_effort=None, weight=None), "Risks", 4.0, anchored=True))
    assert "about 1 point below careful graders" in below
    # Two grades: the reliability is the prior's, so the words make no claim of consistency either way.
    few = " ".join(explain(ReviewerStat(bias=0.0, reliability=400.0, low_effort=0.0, weight=1.0, grades=2), "Risks", 4.0, anchored=True))
    assert "Too few grades yet (2) to tell how consistent they are." in few and "consistent:" not in few

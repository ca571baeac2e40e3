"""The learner's side of cases on the pages: the appeal form names a review or a criterion, a released score's
note is said on the assignment page and the record, staff reopen a decided case from its page, and the learner's
contest and answer forms send the version of the case they showed; each for every role."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from reviews.moderation.leases import STALE_VERSION
from reviews.moderation.rules import ALREADY_CONTESTED
from reviews.scoring.released import SHORT_NOTE
from tests.conftest import RUBRIC, World
from tests.unit.moderation.test_contest import WHY, decided
from tests.unit.moderation.test_rules import other_staff, report, reported_by_a_reviewer, scored
from tests.unit.scoring.pages_helpers import HTML, csrf_of, page_client

STALE = STALE_VERSION.split(":")[0]


def words(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def open_page(world: World, person: Any, path: str, status: int = 200) -> str:
    r = page_client(world.app, person.id).get(path, headers=HTML)
    assert r.status_code == status, (path, r.status_code)
    return r.get_data(as_text=True)


def send(world: World, person: Any, page: str, action: str, form_id: str, fields: dict[str, Any]) -> tuple[int, str]:
    """Open ``page`` as the person's browser, send the form, and read where it goes (the status when it does not)."""
    browser = page_client(world.app, person.id)
    opened = browser.get(page, headers=HTML)
    assert opened.status_code == 200, opened.status_code
    data = {"csrf": csrf_of(opened.get_data(as_text=True)), "form_id": form_id, "back": page, **fields}
    r = browser.post(action, data=data, headers=HTML)
    if r.status_code != 303:
        return r.status_code, r.get_data(as_text=True)
    return 303, browser.get(r.headers["Location"], headers=HTML).get_data(as_text=True)


def hidden_version(html: str, action: str) -> str:
    form = re.search(rf'<form method="post" action="{re.escape(action)}">(.*?)</form>', html, re.S)
    assert form, f"a form sent to {action}"
    found = re.search(r'name="if_match" value="([^"]*)"', form.group(1))
    assert found, f"the form sent to {action} carries the case's version"
    return found.group(1)


def field_error(html: str, field_id: str) -> str:
    found = re.search(rf'<span class="field-error" id="{field_id}-error">(.*?)</span>', html, re.S)
    return unescape(found.group(1)) if found else ""


def cases_of(world: World) -> list[dict[str, Any]]:
    return list(world.mentor.get(f"/api/courses/{world.course_id}/escalations?status=all").get_json()["cases"])


# --- the appeal form: a review or a criterion ----------------------------------------------------------------


def test_the_appeal_form_offers_each_review_and_each_criterion_by_its_title(world: World) -> None:
    ids = scored(world)
    author, back = world.learners[0], f"/assignments/{world.assignment_id}"
    html = open_page(world, author, back)
    form = re.search(r'<details id="appeal".*?</details>', html, re.S)
    assert form, "the appeal form under the reviews received"
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', form.group(0))
    titles = {c["key"]: c["title"] for c in RUBRIC["criteria"]}
    assert options == [
        ("", "Choose a review or a criterion"),
        *[(rid, f"Review {n}") for n, rid in enumerate(ids["reviews"], 1)],
        *[(f"criterion:{key}", f"Criterion: {title}") for key, title in titles.items()],
    ]
    assert '<label for="appeal-about">What your appeal is about</label>' in form.group(0)
    action = f"/submissions/{ids['work']}/appeal"

    status, page = send(world, author, back, action, "appeal", {"about": ids["reviews"][1], "message": WHY})
    assert status == 303 and "Your appeal was sent to a mentor." in page
    status, page = send(world, author, back, action, "appeal", {"about": "criterion:risks", "message": WHY})
    assert status == 303 and "Your appeal was sent to a mentor." in page
    by_review, by_criterion = sorted(cases_of(world), key=lambda c: c["criterion_key"] or "")
    assert by_review["evidence"]["review_id"] == ids["reviews"][1] and by_review["criterion_key"] is None
    assert by_criterion["criterion_key"] == "risks" and "review_id" not in by_criterion["evidence"]
    assert "Appeal of an unfair review: Review 2" in words(page)
    # The same review again: the open appeal stands, and the page says so instead of "sent".
    status, page = send(world, author, back, action, "appeal", {"about": ids["reviews"][1], "message": WHY})
    assert status == 303 and "that appeal is still open" in page and "Your appeal was sent" not in page
    assert len(cases_of(world)) == 2


def test_appeal_refusals_are_said_beside_the_choice_and_the_message(world: World) -> None:
    ids = scored(world)
    author, back, action = world.learners[0], f"/assignments/{world.assignment_id}", f"/submissions/{ids['work']}/appeal"
    refusals = [
        ({"about": "", "message": WHY}, "appeal-about", "Choose the review you disagree with, or the criterion."),
        ({"about": "criterion:style", "message": WHY}, "appeal-about", "Not a criterion of this assignment"),
        ({"about": "no-such-review", "message": WHY}, "appeal-about", "Not a review of this submission."),
        ({"about": ids["reviews"][0], "message": "ok"}, "appeal-message", "says nothing specific"),
    ]
    for fields, field_id, sentence in refusals:
        status, page = send(world, author, back, action, "appeal", fields)
        assert status == 303
        assert sentence in field_error(page, field_id), (fields, field_id)
        assert '<details id="appeal" open>' in page, "the form comes back open"
        assert f">{fields['message']}</textarea>" in page, "the message is kept"
    # The choice made is kept too.
    assert f'<option value="{ids["reviews"][0]}" selected>' in page
    assert cases_of(world) == []


def test_only_the_author_appeals_from_the_page(world: World) -> None:
    ids = scored(world)
    action, body = f"/submissions/{ids['work']}/appeal", {"about": ids["reviews"][0], "message": WHY}
    home = f"/assignments/{world.assignment_id}"
    for person, expected in [(world.mentor, 403), (world.staff, 403), (world.learners[1], 404), (world.outsider, 404)]:
        assert action not in open_page(world, person, home, 404 if person is world.outsider else 200)
        status, _page = send(world, person, "/", action, "appeal", body)
        assert status == expected, person.email
    stranger = other_staff(world)
    assert send(world, stranger, "/", action, "appeal", body)[0] == 404
    signed_out = world.app.test_client().post(action, data={"form_id": "appeal", **body}, headers=HTML)
    assert signed_out.status_code == 401
    assert cases_of(world) == []


# --- a released score's note ----------------------------------------------------------------------------------


def test_a_released_scores_note_is_said_on_the_assignment_page_and_the_record(world: World) -> None:
    ids = scored(world)
    author, back = world.learners[0], f"/assignments/{world.assignment_id}"
    record = f"/records/{world.course_id}/{author.id}"
    assert SHORT_NOTE not in open_page(world, author, back) and SHORT_NOTE not in open_page(world, author, record)
    before = author.get(f"/api/submissions/{ids['work']}").get_json()["score"]
    for review_id in ids["reviews"][: before["reviews"] - 1]:  # one review fewer than the two required is left
        case_id = report(author, ids["work"], review_id=review_id).get_json()["case_id"]
        assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
        resolved = world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "discount_review", "review_id": review_id})
        assert resolved.status_code == 200
    score = author.get(f"/api/submissions/{ids['work']}").get_json()["score"]
    assert score["released"] is True and score["note"] == SHORT_NOTE
    assignment_page = open_page(world, author, back)
    score_part = re.search(r'<div id="score">.*?</div>', assignment_page, re.S)
    assert score_part and f'<p class="score-note">{SHORT_NOTE}</p>' in unescape(score_part.group(0))
    assert f"Your score is {score['value']:.1f}" in words(score_part.group(0))
    row = re.search(r"<tr data-assignment-id=.*?</tr>", open_page(world, author, record), re.S)
    assert row and SHORT_NOTE in unescape(row.group(0)) and f"{score['value']:.1f}" in row.group(0)
    # Staff read the same note on the learner's record; another learner reaches neither page's score.
    assert SHORT_NOTE in unescape(open_page(world, world.staff, record))
    assert SHORT_NOTE not in unescape(open_page(world, world.learners[1], back))
    open_page(world, world.learners[1], record, status=404)


# --- staff reopen a decided case from its page ------------------------------------------------------------------


def marked_as_plagiarism(world: World) -> tuple[str, dict[str, Any]]:
    ids = scored(world)
    case_id = report(world.learners[0], ids["work"], kind="other").get_json()["case_id"]
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    r = world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "mark_plagiarism", "note": "Copied from a blog."})
    assert r.status_code == 200
    return case_id, ids


def test_staff_reopen_a_plagiarism_case_from_its_page(world: World) -> None:
    case_id, ids = marked_as_plagiarism(world)
    case_page, action = f"/escalations/{case_id}", f"/escalations/{case_id}/reopen"
    author = world.learners[0]
    staff_page = open_page(world, world.staff, case_page)
    version = world.staff.get(case_page.replace("/escalations", "/api/escalations")).get_json()["version"]
    assert "Reopen this case" in staff_page and hidden_version(staff_page, action) == str(version)
    assert "its author can submit another attempt" in words(staff_page)
    assert '<label for="reopen-note">' in staff_page
    # Nobody else is offered it, and nobody else may do it.
    assert "Reopen this case" not in open_page(world, world.mentor, case_page)
    assert "Reopen this case" not in open_page(world, author, case_page)
    for person, expected in [(world.mentor, 403), (author, 403), (world.learners[2], 404), (other_staff(world), 404)]:
        status, _page = send(world, person, "/", action, "reopen", {"if_match": str(version), "note": "Let me look again."})
        assert status == expected, person.email
    signed_out = world.app.test_client().post(action, data={"form_id": "reopen", "if_match": str(version)}, headers=HTML)
    assert signed_out.status_code == 401
    assert world.staff.get(f"/api/escalations/{case_id}").get_json()["status"] == "resolved"

    # A page out of date is refused with the note kept.
    status, page = send(world, world.staff, case_page, action, "reopen", {"if_match": str(version + 5), "note": "The blog copied them."})
    assert status == 303 and STALE in page and ">The blog copied them.</textarea>" in page
    assert world.staff.get(f"/api/escalations/{case_id}").get_json()["status"] == "resolved"
    assert world.submit(author, n=9).status_code == 409

    status, page = send(world, world.staff, case_page, action, "reopen", {"if_match": str(version), "note": "The blog copied them."})
    assert status == 303 and "The case is open again and back in the queue." in page
    assert "Reopen this case" not in page and "Claim this case" in page
    case = world.staff.get(f"/api/escalations/{case_id}").get_json()
    assert case["status"] == "open" and case["evidence"]["earlier_outcomes"][0]["action"] == "mark_plagiarism"
    assert author.get(f"/api/submissions/{ids['work']}").get_json()["status"] == "active"
    events = world.staff.get(f"/api/courses/{world.course_id}/audit").get_json()["events"]
    assert [e["data"].get("note") for e in events if e["action"] == "case.reopened"] == ["The blog copied them."]
    # Sent again from the page that offered it: the case is no longer decided, and the page says so.
    status, page = send(world, world.staff, case_page, action, "reopen", {"if_match": str(case["version"])})
    assert status == 303 and "This case is not decided yet" in page and "The case was not reopened." in page
    assert world.submit(author, n=9).status_code == 201


# --- the learner's contest and answer send the case's version ------------------------------------------------


def test_the_learners_contest_form_sends_the_cases_version(world: World) -> None:
    case_id, _ids = decided(world)
    learner, case_page, action = world.learners[0], f"/escalations/{case_id}", f"/escalations/{case_id}/contest"
    html = open_page(world, learner, case_page)
    version = int(hidden_version(html, action))
    assert version == world.mentor.get(f"/api/escalations/{case_id}").get_json()["version"]
    assert "version" not in learner.get(f"/api/escalations/{case_id}").get_json(), "the learner's view stays reduced"

    status, page = send(world, learner, case_page, action, "contest", {"if_match": str(version - 1), "message": WHY})
    assert status == 303 and STALE in field_error(page, "contest-message") and f">{WHY}</textarea>" in page
    assert [c for c in cases_of(world) if c["kind"] == "contested_decision"] == []

    status, page = send(world, learner, case_page, action, "contest", {"if_match": str(version), "message": WHY})
    assert status == 303 and "Your contest was sent" in page
    (contest,) = [c for c in cases_of(world) if c["kind"] == "contested_decision"]
    # The same page sent again (another tab): refused with the reason, the text kept; no second contest.
    browser = page_client(world.app, learner.id)
    csrf = csrf_of(browser.get("/", headers=HTML).get_data(as_text=True))
    again = "I still think the decision is wrong."
    form = {"csrf": csrf, "form_id": "contest", "back": case_page, "if_match": str(version), "message": again}
    sent = browser.post(action, data=form, headers=HTML)
    assert sent.status_code == 303
    page = browser.get(sent.headers["Location"], headers=HTML).get_data(as_text=True)
    assert ALREADY_CONTESTED in unescape(page) and again in page and contest["id"] in page
    assert [c["id"] for c in cases_of(world) if c["kind"] == "contested_decision"] == [contest["id"]]
    # Nobody but that learner contests from a page: the others are told why, or learn nothing of the case.
    for person in (world.mentor, world.staff):
        status, page = send(world, person, "/", action, "contest", {"if_match": str(version), "message": WHY})
        assert status == 403 and "Only the learner who opened this case" in words(page), person.email
    for person in (world.learners[3], world.outsider):
        assert send(world, person, "/", action, "contest", {"message": WHY})[0] == 404, person.email
    assert world.app.test_client().post(action, data={"form_id": "contest", "message": WHY}, headers=HTML).status_code == 401
    assert [c["id"] for c in cases_of(world) if c["kind"] == "contested_decision"] == [contest["id"]]


def test_the_authors_answer_form_sends_the_cases_version(world: World) -> None:
    case_id, author, reporter = reported_by_a_reviewer(world)
    case_page, action = f"/escalations/{case_id}", f"/escalations/{case_id}/responses"
    html = open_page(world, author, case_page)
    version = int(hidden_version(html, action))
    assert version == world.mentor.get(f"/api/escalations/{case_id}").get_json()["version"]
    answer = "My drafts from March show how I wrote it."
    status, page = send(world, author, case_page, action, "respond", {"if_match": str(version + 1), "message": answer})
    assert status == 303 and STALE in field_error(page, "respond-message") and f">{answer}</textarea>" in page
    assert world.mentor.get(f"/api/escalations/{case_id}").get_json()["responses"] == []
    status, page = send(world, author, case_page, action, "respond", {"if_match": str(version), "message": answer})
    assert status == 303 and "Your answer was added to the case." in page and answer in page
    # A mentor claims it meanwhile: the author's old page is out of date, and the answer comes back kept.
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    more = "One more thing: my notes are in the attached drafts."
    status, page = send(world, author, "/", action, "respond", {"if_match": str(version), "message": more})
    assert status == 303 and STALE in field_error(page, "respond-message") and f">{more}</textarea>" in page
    assert len(world.mentor.get(f"/api/escalations/{case_id}").get_json()["responses"]) == 1
    # Nobody but the author answers: the others are told why, or learn nothing of the case.
    current = str(world.mentor.get(f"/api/escalations/{case_id}").get_json()["version"])
    status, page = send(world, reporter, "/", action, "respond", {"if_match": current, "message": answer})
    assert status == 303 and "Only the author of the work" in words(page) and answer in page
    for person in (world.mentor, world.staff):
        status, page = send(world, person, "/", action, "respond", {"if_match": current, "message": answer})
        assert status == 403 and "Only the author of the work" in words(page), person.email
    for person in (world.learners[2], world.outsider):
        assert send(world, person, "/", action, "respond", {"message": answer})[0] == 404, person.email
    assert len(world.mentor.get(f"/api/escalations/{case_id}").get_json()["responses"]) == 1

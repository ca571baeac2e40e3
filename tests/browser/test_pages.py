"""The pages in headless Chromium against a real ``fairpeer serve``: a learner, a mentor and a newcomer click through.

Each persona signs in through its own single-use link in its own browser context (its own cookies), and every
figure read on a page is checked against what the API reports for the same object.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Live
from tests.conftest import ASSIGNMENT, essay

pytestmark = pytest.mark.browser

ATTACHMENT = b"# Plan\n\nScope: one street. Risks: the supplier fails; a second farm stays on call.\n"
# Per-reviewer points, so the released score comes from real, differing reviews.
REVIEWER_POINTS = [
    {"scope": 3, "risks": 2},
    {"scope": 4, "risks": 3},
    {"scope": 2, "risks": 2},
    {"scope": 3, "risks": 1},
    {"scope": 4, "risks": 3},
]


@dataclass
class Person:
    id: str
    token: str
    name: str


@dataclass
class Scenario:
    course_id: str
    assignment_id: str
    assignment_title: str
    mentor: Person
    staff: Person
    learners: list[Person]
    newcomer: Person
    appeal_case_id: str


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def new_person(live: Live, email: str, name: str) -> Person:
    body = live.post("/api/users", live.admin_token, {"email": email, "name": name}, expect=201)
    return Person(body["id"], body["token"], name)


def sign_in_url(live: Live, person: Person) -> str:
    url = live.post(f"/api/users/{person.id}/sign-in-links", live.admin_token, expect=201)["url"]
    assert url.startswith(live.base_url + "/sign-in/"), url
    return str(url)


@pytest.fixture(scope="module")
def scenario(live: Live) -> Scenario:
    """A course where learner 0's score is released and learner 0 has appealed one of their reviews."""
    admin = live.admin_token
    staff = new_person(live, "staff@browser.test", "Sam Staff")
    mentor = new_person(live, "mentor@browser.test", "Mia Mentor")
    learners = [new_person(live, f"learner{i}@browser.test", f"Learner {i}") for i in range(5)]
    newcomer = new_person(live, "newcomer@browser.test", "Nia Newcomer")
    course = live.post("/api/courses", admin, {"title": "Browser Planning 101"}, expect=201)
    live.post(f"/api/courses/{course['id']}/members", admin, {"user_id": staff.id, "role": "staff"}, expect=201)
    for person, role in [(mentor, "mentor"), *[(p, "learner") for p in [*learners, newcomer]]]:
        live.post(f"/api/courses/{course['id']}/members", staff.token, {"user_id": person.id, "role": role}, expect=201)
    settings = dict(ASSIGNMENT)
    assignment = live.post(f"/api/courses/{course['id']}/assignments", staff.token, settings, expect=201)
    aid = assignment["id"]
    for i, learner in enumerate(learners):
        live.post(f"/api/assignments/{aid}/submissions", learner.token, {"text": essay(i)}, expect=201)
    for i, learner in enumerate(learners):
        for _ in range(2):
            claim = live.post(f"/api/assignments/{aid}/review-claims", learner.token, expect=201)
            review = {"scores": REVIEWER_POINTS[i], "comments": {"scope": "Clear."}, "overall_comment": "Solid work."}
            live.post(f"/api/review-claims/{claim['claim_id']}/review", learner.token, review, expect=201)

    first = learners[0]
    all_reviews = 2 * len(learners)

    def settled() -> dict[str, Any] | None:
        """A recalibration has run over every review (so no later run changes the scores) and learner 0's is released."""
        events = live.get(f"/api/courses/{course['id']}/audit", staff.token)["events"]
        runs = [e["data"].get("reviews") for e in events if e["action"] == "scores.recalibrated" and e["subject"] == f"assignment:{aid}"]
        if all_reviews not in runs:
            return None
        progress = live.get(f"/api/assignments/{aid}/progress", first.token)
        score = progress["score"]
        return progress if score and score.get("released") and score.get("value") is not None else None

    # The embedded background thread recalibrates (debounced) after the reviews; wait for the run that saw them all.
    try:
        progress = wait_until(settled, 30, "a recalibration over all reviews and learner 0's released score (embedded background work)")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- server log ---\n{live.log_tail()}") from None
    submission_id = progress["submission"]["id"]
    received = live.get(f"/api/submissions/{submission_id}/reviews", first.token)
    assert received["released"] is True and received["reviews"]
    appeal = live.post(
        f"/api/submissions/{submission_id}/reports",
        first.token,
        {"kind": "unfair_review", "message": "This review ignored my risks section.", "review_id": received["reviews"][0]["id"]},
        expect=201,
    )
    return Scenario(course["id"], aid, settings["title"], mentor, staff, learners, newcomer, appeal["case_id"])


def sign_in(page: Any, live: Live, person: Person) -> None:
    from playwright.sync_api import expect

    page.goto(sign_in_url(live, person))
    expect(page).to_have_url(live.base_url + "/")
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
    expect(page.locator("header")).to_contain_text(person.name)


def record_score(live: Live, scenario: Scenario, learner: Person) -> dict[str, Any]:
    record = live.get(f"/api/courses/{scenario.course_id}/learners/{learner.id}/record", learner.token)
    (project,) = [p for p in record["projects"] if p["assignment_id"] == scenario.assignment_id]
    return dict(project, score=project["score"])


def check_record_row(page: Any, scenario: Scenario, project: dict[str, Any]) -> None:
    """The record table shows exactly the API's score and interval (to one decimal; <data> holds the exact value)."""
    from playwright.sync_api import expect

    score = project["score"]
    row = page.locator(f'#record tr[data-assignment-id="{scenario.assignment_id}"]')
    expect(row.locator("td.project")).to_have_text(scenario.assignment_title)
    score_cell = row.locator("td.score")
    expect(score_cell).to_contain_text(f"{score['value']:.1f} / {score['max']:.1f}")
    assert float(score_cell.locator("data").get_attribute("value")) == score["value"]
    low, high = score["interval"]
    interval = row.locator("td.interval data")
    expect(interval).to_have_count(2)
    assert [float(v) for v in interval.evaluate_all("els => els.map(e => e.value)")] == [low, high]
    expect(row.locator("td.interval")).to_have_text(f"{low:.1f}–{high:.1f}")
    expect(row.locator("td.reviews")).to_have_text(str(score["reviews"]))
    expect(row.locator("td.attempts")).to_have_text(f"{project['attempts']} of {project['max_attempts']}")


def test_learner_reads_released_score_on_record_page(live: Live, scenario: Scenario, new_page: Callable[[], Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    learner = scenario.learners[0]
    project = record_score(live, scenario, learner)
    assert project["score"]["released"] is True and project["score"]["value"] is not None

    page = new_page()
    sign_in(page, live, learner)
    page.get_by_role("link", name="Your record").click()
    expect(page).to_have_url(f"{live.base_url}/records/{scenario.course_id}/{learner.id}")
    check_record_row(page, scenario, project)
    page.screenshot(path=str(tmp_path / "learner-record.png"), full_page=True)

    # A sign-in link works once.
    second = new_page()
    link = sign_in_url(live, learner)
    second.goto(link)
    expect(second.get_by_role("heading", name="Your courses")).to_be_visible()
    again = new_page()
    response = again.goto(link)
    assert response is not None and response.status == 400
    expect(again.locator("body")).to_contain_text("used or expired")


def test_mentor_claims_and_resolves_case_by_clicking(live: Live, scenario: Scenario, new_page: Callable[[], Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    learner = scenario.learners[0]
    case_id = scenario.appeal_case_id
    before = record_score(live, scenario, learner)["score"]
    new_total = 7.5 if before["value"] != 7.5 else 6.5

    page = new_page()
    sign_in(page, live, scenario.mentor)
    page.get_by_role("link", name="Escalation queue").click()
    expect(page).to_have_url(f"{live.base_url}/courses/{scenario.course_id}/escalations")
    row = page.locator(f'#cases tr[data-case-id="{case_id}"]')
    expect(row).to_contain_text("Appeal of a review")
    expect(row.locator('td[data-label="Kind"] .muted')).to_have_text("Open")
    row.get_by_role("link", name="Open case").click()
    expect(page).to_have_url(f"{live.base_url}/escalations/{case_id}")
    expect(page.get_by_role("heading", name="Appeal of a review")).to_be_visible()
    expect(page.locator("#case-status")).to_have_text("open")
    expect(page.locator("body")).to_contain_text("This review ignored my risks section.")
    expect(page.locator("#case-score")).to_contain_text(f"{before['value']:.1f} / {before['max']:.1f}")
    expect(page.locator("#case-reviews")).to_contain_text("(appealed)")

    page.get_by_role("button", name="Claim this case").click()
    expect(page.locator(".flash.ok")).to_have_text("You claimed this case.")
    expect(page.locator("#case-status")).to_have_text("claimed")
    assert live.get(f"/api/escalations/{case_id}", scenario.mentor.token)["claimed_by"] == scenario.mentor.id

    page.get_by_label("Action").select_option("override_score")
    page.get_by_label("New total score").fill(f"{new_total}")
    page.get_by_label("Note").fill("The appealed review missed the risks section; total set from the rubric.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator(".flash.ok")).to_have_text("Case updated.")
    expect(page.locator("#case-status")).to_have_text("resolved")
    expect(page.locator("#case-outcome")).to_have_text("override_score")
    expect(page.locator("#case-score")).to_contain_text(f"{new_total:.1f} / {before['max']:.1f}")
    expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "mentor-case.png"), full_page=True)

    case = live.get(f"/api/escalations/{case_id}", scenario.mentor.token)
    assert case["status"] == "resolved"
    assert case["outcome"]["action"] == "override_score" and case["outcome"]["score"] == new_total
    followed = live.get(f"/api/escalations/{case_id}", learner.token)
    assert followed["status"] == "resolved" and followed["outcome"]["action"] == "override_score"
    after = record_score(live, scenario, learner)
    assert after["score"]["value"] == new_total and after["score"]["method"] == "override"
    assert after["score"]["value"] != before["value"]

    # The learner's record page shows the mentor's decision.
    learner_page = new_page()
    sign_in(learner_page, live, learner)
    learner_page.goto(f"{live.base_url}/records/{scenario.course_id}/{learner.id}")
    check_record_row(learner_page, scenario, after)
    expect(learner_page.locator(f'#record tr[data-assignment-id="{scenario.assignment_id}"] td.score')).to_contain_text("set by a mentor")


def test_learner_submits_through_the_form_and_sees_rejection_reasons(
    live: Live, scenario: Scenario, new_page: Callable[[], Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    newcomer = scenario.newcomer
    aid = scenario.assignment_id
    junk = "....... ....."
    # What the API says about this junk is what the page must tell the learner.
    refused = live.post(f"/api/assignments/{aid}/submissions", newcomer.token, {"text": junk}, expect=422)
    assert refused["error"]["code"] == "submission_rejected"
    reasons = [r["message"] for r in refused["error"]["details"]["reasons"]]
    assert reasons

    page = new_page()
    sign_in(page, live, newcomer)
    page.get_by_role("link", name=scenario.assignment_title).click()
    expect(page).to_have_url(f"{live.base_url}/assignments/{aid}")
    expect(page.locator("body")).to_contain_text("Attempts used: 0 of 2")

    answer = page.get_by_label("Your answer")
    answer.fill(junk)
    page.get_by_role("button", name="Submit", exact=True).click()
    # The reasons sit beside the answer box, which keeps the learner's text to be fixed, not thrown away.
    expect(page).to_have_url(f"{live.base_url}/assignments/{aid}#form-submit")
    expect(page.locator("#submit-text-error")).to_have_text(" ".join(reasons))
    expect(answer).to_have_value(junk)
    expect(page.locator("body")).to_contain_text("Attempts used: 0 of 2")

    answer.fill(essay(42))
    page.get_by_label("Files").set_input_files(files=[{"name": "plan.md", "mimeType": "text/markdown", "buffer": ATTACHMENT}])
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.locator(".flash.ok")).to_have_text("Attempt 1 submitted.")
    expect(page.locator(".flash.error")).to_have_count(0)
    expect(page).to_have_url(f"{live.base_url}/assignments/{aid}")
    expect(page.locator("body")).to_contain_text("Attempts used: 1 of 2")
    own = page.locator("#own-submission")
    expect(own).to_contain_text("Attempt 1")
    expect(own.locator("pre")).to_have_text(essay(42))
    expect(page.get_by_role("heading", name="Submit a new attempt")).to_be_visible()
    page.screenshot(path=str(tmp_path / "newcomer-assignment.png"), full_page=True)

    # The attached file opens from the page with the browser's session (the API itself wants a bearer token).
    href = own.get_by_role("link", name="plan.md").get_attribute("href")
    assert href and not href.startswith("/api/")
    download = page.context.request.get(live.base_url + href)
    assert download.status == 200 and download.body() == ATTACHMENT
    assert page.context.request.get(f"{live.base_url}/files/no-such-file").status == 404

    progress = live.get(f"/api/assignments/{aid}/progress", newcomer.token)
    assert progress["attempts"] == 1  # the rejected junk burned no attempt
    submission = live.get(f"/api/submissions/{progress['submission']['id']}", newcomer.token)
    assert submission["text"] == essay(42) and submission["attempt"] == 1
    assert [f["filename"] for f in submission["files"]] == ["plan.md"]


def test_pages_pass_their_content_security_policy(
    live: Live, scenario: Scenario, new_page: Callable[[], Any], csp_violations: list[str], tmp_path: Path
) -> None:
    """The main pages load under the strict CSP with nothing blocked: the stylesheet applies, no console report."""
    from playwright.sync_api import expect

    learner, mentor = scenario.learners[0], scenario.mentor
    page = new_page()
    sign_in(page, live, learner)
    for path in ("/", f"/assignments/{scenario.assignment_id}", f"/records/{scenario.course_id}/{learner.id}"):
        response = page.goto(live.base_url + path)
        assert response is not None and response.status == 200, path
        headers = response.all_headers()
        assert "script-src 'self'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer" and headers["x-content-type-options"] == "nosniff"
        # The stylesheet (the only style the policy allows) applied.
        assert page.evaluate("getComputedStyle(document.body).maxWidth") == "1024px", path
    expect(page.locator("body")).to_contain_text("Learner 0")
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # no script reads the session

    staff_page = new_page()
    sign_in(staff_page, live, mentor)
    for path in (f"/courses/{scenario.course_id}/escalations", f"/escalations/{scenario.appeal_case_id}"):
        response = staff_page.goto(live.base_url + path)
        assert response is not None and response.status == 200, path
    staff_page.screenshot(path=str(tmp_path / "mentor-case-under-csp.png"), full_page=True)
    assert csp_violations == []

    # The listener is not hollow: an inline style added to a page is blocked and reported.
    page.evaluate("() => { const s = document.createElement('style'); s.textContent = 'body { color: red; }'; document.head.append(s); }")
    wait_until(lambda: csp_violations, 5, "Chromium's report of the blocked inline style")
    assert "style-src" in csp_violations[0]
    csp_violations.clear()

    # `fairpeer serve` logged the sign-in requests without their secrets.
    log = live.log_path.read_text(errors="replace")
    assert "/sign-in/[redacted]" in log
    assert "/sign-in/sl_" not in log

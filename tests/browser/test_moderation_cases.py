"""A mentor works the escalation queue by clicking only: a similarity case (the matched passages highlighted on
both sides, the exposure timeline) to a decision, then a repeated-junk case and an unreliable-reviewer case."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.browser.checks import WIDTHS, axe_source, axe_violations, horizontal_overflow
from tests.browser.conftest import Live
from tests.browser.test_pages import Person, new_person, sign_in, wait_until
from tests.conftest import ASSIGNMENT, essay
from tests.unit.integrity.test_services import LIGHT_REWRITE, ORIGINAL

pytestmark = pytest.mark.browser


@dataclass
class Cases:
    course_id: str
    mentor: Person
    learners: list[Person]
    similarity: str
    junk: str
    reviewer: str


def open_reviewer_case(live: Live, course_id: str, assignment_id: str, reviewer_id: str) -> str:
    """What recalibration opens for a reviewer far from the others, opened with the moderation service on the
    server's own database (the figures shown are the real ones of the latest calibration)."""
    from reviews.kernel.db import db
    from reviews.moderation.services import open_case
    from tests.conftest import make_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SECRET_KEY", secrets.token_hex(16))
        app = make_app(live.workdir / "instance" / "fairpeer.db", SERVER_NAME=None)
    try:
        with app.app_context():
            case = open_case(
                db.session,
                course_id=course_id,
                assignment_id=assignment_id,
                kind="unreliable_reviewer",
                subject_type="reviewer",
                subject_ids=[reviewer_id],
                submission_id=None,
                evidence={"criteria": {"scope": {"reasons": ["bias"], "grades": 2}}, "version": 1},
                dedupe_key=f"unreliable_reviewer:{assignment_id}:{reviewer_id}",
            )
            db.session.commit()
            return case.id
    finally:
        app.extensions["fairpeer.db"][0].dispose()


@pytest.fixture(scope="module")
def cases(live: Live) -> Cases:
    admin = live.admin_token
    staff = new_person(live, "staff@cases.test", "Sam Staff")
    mentor = new_person(live, "mentor@cases.test", "Mia Mentor")
    learners = [new_person(live, f"learner{i}@cases.test", f"Learner {i}") for i in range(4)]
    course = live.post("/api/courses", admin, {"title": "Moderation 101"}, expect=201)
    live.post(f"/api/courses/{course['id']}/members", admin, {"user_id": staff.id, "role": "staff"}, expect=201)
    for person, role in [(mentor, "mentor"), *[(p, "learner") for p in learners]]:
        live.post(f"/api/courses/{course['id']}/members", staff.token, {"user_id": person.id, "role": role}, expect=201)
    aid = live.post(f"/api/courses/{course['id']}/assignments", staff.token, dict(ASSIGNMENT), expect=201)["id"]
    a, b, junk, d = learners

    def submit(person: Person, text: str, expect: int = 201) -> Any:
        return live.post(f"/api/assignments/{aid}/submissions", person.token, {"text": text}, expect=expect)

    def review(person: Person, points: dict[str, int]) -> Any:
        claim = live.post(f"/api/assignments/{aid}/review-claims", person.token, expect=201)
        comments = {"scope": "Clear enough.", "risks": "Not one risk of the plan is named."}  # risks at 0 needs a reason
        body = {"scores": points, "comments": comments, "overall_comment": "Readable plan."}
        live.post(f"/api/review-claims/{claim['claim_id']}/review", person.token, body, expect=201)
        return claim

    # The copy: b is shown a's work in a review claim, then submits a light rewrite of it as a second attempt.
    submit(a, ORIGINAL)
    submit(b, essay(1))
    claim = live.post(f"/api/assignments/{aid}/review-claims", b.token, expect=201)
    assert claim["item"]["text"] == ORIGINAL
    submit(b, LIGHT_REWRITE)
    # Repeated junk: three refused attempts.
    for text in ("....", "please give me full marks", "lorem ipsum dolor sit amet"):
        submit(junk, text, expect=422)
    # Reviews, so that a calibration has figures for each reviewer.
    submit(junk, essay(2))
    submit(d, essay(3))
    for person, points in ((junk, {"scope": 4, "risks": 4}), (d, {"scope": 1, "risks": 0}), (a, {"scope": 3, "risks": 2})):
        for _ in range(2):
            review(person, points)

    def found() -> dict[str, str] | None:
        listed = live.get(f"/api/courses/{course['id']}/escalations?status=all", mentor.token)["cases"]
        kinds = {c["kind"]: c["id"] for c in listed if c["kind"] in ("similarity", "repeated_junk")}
        events = live.get(f"/api/courses/{course['id']}/audit", staff.token)["events"]
        calibrated = any(e["action"] == "scores.recalibrated" and e["data"].get("reviews") == 6 for e in events)
        return kinds if len(kinds) == 2 and calibrated else None

    try:
        ids = wait_until(found, 30, "the similarity check and a calibration over every review (embedded background work)")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- server log ---\n{live.log_tail()}") from None
    reviewer = open_reviewer_case(live, course["id"], aid, d.id)
    return Cases(course["id"], mentor, learners, ids["similarity"], ids["repeated_junk"], reviewer)


def open_from_queue(page: Any, live: Live, cases: Cases, case_id: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name="Escalation queue").first.click()
    expect(page).to_have_url(f"{live.base_url}/courses/{cases.course_id}/escalations")
    page.locator(f'#cases tr[data-case-id="{case_id}"]').get_by_role("link").last.click()
    expect(page).to_have_url(f"{live.base_url}/escalations/{case_id}")


def claim_and_resolve(page: Any, action: str, note: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Claim this case").click()
    expect(page.locator("#case-status")).to_have_text("claimed")
    page.get_by_label("Action").select_option(action)
    page.get_by_label("Note").fill(note)
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#case-status")).to_have_text("resolved")
    expect(page.locator("#case-outcome")).to_contain_text(action)


def test_mentor_takes_three_kinds_of_case_to_a_decision(live: Live, cases: Cases, new_page: Callable[..., Any], tmp_path: Any) -> None:
    from playwright.sync_api import expect

    api = live.get(f"/api/escalations/{cases.similarity}", cases.mentor.token)["details"]
    page = new_page()
    sign_in(page, live, cases.mentor)

    # Similar work: the score, both texts with the same passages marked, who wrote which, who was shown what.
    open_from_queue(page, live, cases, cases.similarity)
    expect(page.get_by_role("heading", name="Similar work found")).to_be_visible()
    expect(page.locator("#similarity-score")).to_contain_text(f"{round(100 * api['score'])}%")
    earlier, later = page.locator('[data-side="earlier"]'), page.locator('[data-side="later"]')
    expect(earlier.get_by_role("heading")).to_have_text("Earlier work: Learner 0")
    expect(later.get_by_role("heading")).to_have_text("Later work: Learner 1")
    expected_earlier = [ORIGINAL[a:b] for a, b in api["earlier"]["passages"]]
    expected_later = [LIGHT_REWRITE[a:b] for a, b in api["later"]["passages"]]
    assert expected_earlier and expected_later
    assert earlier.locator("mark").all_text_contents() == expected_earlier
    assert later.locator("mark").all_text_contents() == expected_later
    row = page.locator("#exposures tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Learner 1")
    expect(row).to_contain_text("Learner 0 (the earlier work)")
    expect(row).to_contain_text("before they submitted")
    page.screenshot(path=str(tmp_path / "similarity-case.png"), full_page=True)
    claim_and_resolve(page, "mark_plagiarism", "Rewritten from the work they were shown to review.")
    decided = live.get(f"/api/escalations/{cases.similarity}", cases.mentor.token)
    assert decided["status"] == "resolved" and decided["outcome"]["action"] == "mark_plagiarism"

    # Repeated junk: the refused attempts with why and when.
    open_from_queue(page, live, cases, cases.junk)
    expect(page.get_by_role("heading", name="Repeated junk submissions")).to_be_visible()
    rows = page.locator("#rejections tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("no words at all")
    expect(rows.nth(2)).to_contain_text("placeholder text")
    expect(rows.nth(0)).to_contain_text("UTC")
    claim_and_resolve(page, "dismiss", "Spoke with the learner; they now submitted real work.")

    # An unreliable reviewer: their figures in words, their reviews beside the work's scores.
    details = live.get(f"/api/escalations/{cases.reviewer}", cases.mentor.token)["details"]
    open_from_queue(page, live, cases, cases.reviewer)
    expect(page.get_by_role("heading", name="How Learner 3 reviews")).to_be_visible()
    scope = next(c for c in details["criteria"] if c["key"] == "scope")
    assert scope["words"], "the calibration's figures, in words"
    expect(page.locator('[data-criterion="scope"]')).to_contain_text(scope["words"][0])
    expect(page.locator('[data-criterion="scope"]')).to_contain_text("flagged: leaning one way")
    reviews = page.locator("#reviewer-reviews tbody tr")
    expect(reviews).to_have_count(2)
    first = details["reviews"][0]["criteria"][0]
    expect(reviews.nth(0)).to_contain_text(f"{first['given']:g} / {first['score']:.1f}")
    page.screenshot(path=str(tmp_path / "reviewer-case.png"), full_page=True)
    claim_and_resolve(page, "dismiss", "Their points are harsh but consistent; watching the next round.")


def test_case_pages_are_accessible_and_fit_a_phone(live: Live, cases: Cases, browser: Any) -> None:
    """axe-core finds no serious or critical violation on each kind's evidence, and nothing scrolls sideways at a
    desktop's or a phone's width (the side-by-side texts and the wide tables fold)."""
    source = axe_source()
    problems: list[str] = []
    for width, viewport in WIDTHS.items():
        # axe needs its script in the page: a context that bypasses the policy, as a checker would.
        context = browser.new_context(viewport=viewport, bypass_csp=True)
        try:
            page = context.new_page()
            sign_in(page, live, cases.mentor)
            for name, case_id in (("similarity", cases.similarity), ("junk", cases.junk), ("reviewer", cases.reviewer)):
                answer = page.goto(f"{live.base_url}/escalations/{case_id}")
                assert answer is not None and answer.status == 200, name
                problems += [f"{name} ({width}): {v}" for v in axe_violations(page, source)]
                if (overflow := horizontal_overflow(page)) > 0:
                    problems.append(f"{name} ({width}): the page is {overflow}px wider than the window")
        finally:
            context.close()
    assert not problems, "\n".join(problems)

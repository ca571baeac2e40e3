"""One appeal of a decision: the learner contests a mentor's outcome once, within the window; a different mentor
or staff decide, and that decision is final."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from reviews.kernel.db import utcnow
from tests.conftest import World
from tests.unit.moderation.test_rules import error, other_staff, report, scored, second_mentor, send_form
from tests.unit.scoring.pages_helpers import HTML, page_client

WHY = "The mentor did not read my risks section at all."


def decided(world: World) -> tuple[str, dict[str, Any]]:
    """Learner 0 appeals a review; the mentor dismisses the appeal."""
    ids = scored(world)
    case_id = report(world.learners[0], ids["work"], review_id=ids["reviews"][0]).get_json()["case_id"]
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    r = world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "The review is fair."})
    assert r.status_code == 200
    return case_id, ids


def contest(caller: Any, case_id: str, message: str = WHY) -> Any:
    return caller.post(f"/api/escalations/{case_id}/contest", json={"message": message})


def test_contest_once_decided_finally_by_another_mentor(world: World) -> None:
    case_id, _ids = decided(world)
    learner = world.learners[0]
    view = learner.get(f"/api/escalations/{case_id}").get_json()
    assert view["contest_until"] > view["outcome"]["at"]
    r = contest(learner, case_id)
    assert r.status_code == 201
    contest_id = r.get_json()["case_id"]
    assert contest_id != case_id
    handled = world.mentor.get(f"/api/escalations/{contest_id}").get_json()
    assert handled["kind"] == "contested_decision" and handled["contests_case_id"] == case_id
    assert handled["evidence"]["contested_outcome"]["action"] == "dismiss" and handled["message"] == WHY
    assert world.mentor.get(f"/api/escalations/{case_id}").get_json()["contest_case_id"] == contest_id
    first = learner.get(f"/api/escalations/{case_id}").get_json()
    assert first["contest_case_id"] == contest_id and "contest_until" not in first
    # A second contest, and a contest of the contest, are refused with their reasons.
    status, code, sentence = error(contest(learner, case_id, "I still think the decision is wrong."))
    assert (status, code) == (409, "already_contested") and "only once" in sentence
    # The first decider may not decide the contest; another mentor does, and says it is final.
    status, code, sentence = error(world.mentor.post(f"/api/escalations/{contest_id}/claim"))
    assert (status, code) == (403, "forbidden") and "different mentor" in sentence
    mentor2 = second_mentor(world)
    assert mentor2.post(f"/api/escalations/{contest_id}/claim").status_code == 200
    r = mentor2.post(f"/api/escalations/{contest_id}/resolve", json={"action": "dismiss", "note": "Read it again: fair."})
    assert r.status_code == 200 and r.get_json()["outcome"]["final"] is True
    own = learner.get(f"/api/escalations/{contest_id}").get_json()
    assert own["outcome"]["final"] is True and own["contests_case_id"] == case_id and "contest_until" not in own
    status, code, sentence = error(contest(learner, contest_id, "I want to contest this one too."))
    assert (status, code) == (409, "decision_final") and "final" in sentence


def test_staff_may_decide_a_contest(world: World) -> None:
    case_id, _ = decided(world)
    contest_id = contest(world.learners[0], case_id).get_json()["case_id"]
    assert world.staff.post(f"/api/escalations/{contest_id}/claim").status_code == 200
    r = world.staff.post(f"/api/escalations/{contest_id}/resolve", json={"action": "dismiss", "note": "Fair."})
    assert r.status_code == 200 and r.get_json()["outcome"]["final"] is True


def test_who_may_contest(world: World) -> None:
    case_id, _ = decided(world)
    outsider_staff = other_staff(world)
    for caller, expected in [
        (world.learners[1], 404),
        (world.outsider, 404),
        (outsider_staff, 404),
        (world.mentor, 403),
        (world.staff, 403),
        (world.admin, 403),
    ]:
        assert contest(caller, case_id).status_code == expected, caller.email
    world.client.post("/api/auth/sign-out")
    assert world.client.post(f"/api/escalations/{case_id}/contest", json={"message": WHY}).status_code == 401
    assert contest(world.learners[0], case_id).status_code == 201


def test_a_contest_needs_a_decision_and_real_words(world: World) -> None:
    ids = scored(world)
    learner = world.learners[0]
    case_id = report(learner, ids["work"], review_id=ids["reviews"][0]).get_json()["case_id"]
    status, code, sentence = error(contest(learner, case_id))
    assert (status, code) == (409, "not_decided") and "Wait for its outcome" in sentence
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    assert world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss"}).status_code == 200
    for message in ("", "no", "..."):
        assert error(contest(learner, case_id, message))[:2] == (422, "message_rejected"), message
    assert contest(learner, case_id).status_code == 201


def test_a_contest_after_the_window_is_refused(world: World) -> None:
    from reviews.kernel.db import db
    from reviews.moderation.models import Case

    case_id, _ = decided(world)
    with world.app.app_context():
        case = db.session.get_one(Case, case_id)
        case.outcome = {**(case.outcome or {}), "at": (utcnow() - timedelta(days=7, minutes=1)).isoformat()}
        db.session.commit()
    assert "contest_until" not in world.learners[0].get(f"/api/escalations/{case_id}").get_json()
    status, code, sentence = error(contest(world.learners[0], case_id))
    assert (status, code) == (409, "contest_window_closed") and "within 7 days" in sentence


@pytest.mark.parametrize("app_config", [{"CONTEST_WINDOW_DAYS": 1}])
def test_the_window_is_a_setting(world: World) -> None:
    from reviews.kernel.db import db
    from reviews.moderation.models import Case

    case_id, _ = decided(world)
    with world.app.app_context():
        case = db.session.get_one(Case, case_id)
        case.outcome = {**(case.outcome or {}), "at": (utcnow() - timedelta(days=2)).isoformat()}
        db.session.commit()
    assert error(contest(world.learners[0], case_id))[:2] == (409, "contest_window_closed")


def test_the_case_page_has_the_contest_form_and_refuses_a_second_contest(world: World) -> None:
    case_id, _ = decided(world)
    learner = world.learners[0]
    case_page = f"/escalations/{case_id}"
    page = page_client(world.app, learner.id).get(case_page, headers=HTML).get_data(as_text=True)
    assert "Contest the decision" in page and '<label for="contest-message">' in page
    page = send_form(world, learner, case_page, f"{case_page}/contest", "contest", {"message": "ok"})
    assert "says nothing specific" in page and 'id="contest-message-error"' in page
    page = send_form(world, learner, case_page, f"{case_page}/contest", "contest", {"message": WHY})
    assert "Your contest was sent" in page and "an earlier decision" in page
    first = page_client(world.app, learner.id).get(case_page, headers=HTML).get_data(as_text=True)
    assert 'id="case-contested"' in first and "contest-message" not in first
    # A second contest sent anyway (an old tab) is refused, with the reason beside the form.
    browser = page_client(world.app, learner.id)
    with browser.session_transaction() as session:
        session["csrf"] = "token"
    r = browser.post(f"{case_page}/contest", data={"csrf": "token", "form_id": "contest", "back": case_page, "message": WHY}, headers=HTML)
    assert r.status_code == 303
    again = browser.get(r.headers["Location"], headers=HTML).get_data(as_text=True)
    assert "only once" in again

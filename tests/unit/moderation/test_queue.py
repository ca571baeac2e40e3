"""The escalation queue: ageing at one rate, targets and breaches, escalation to staff, filters, stable cursor
pages, bulk claim and dismiss (one audit event per case, refusals per case), the reporter's record, who may see
and do what, the page, and the staff console's numbers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from reviews.accounts.models import User
from reviews.allocation.models import Review
from reviews.kernel.audit import AuditEvent
from reviews.kernel.db import db, utcnow
from reviews.moderation import queue, ranking
from reviews.moderation.models import Case
from reviews.moderation.services import open_case, report_submission
from reviews.submissions.models import Submission
from tests.conftest import World
from tests.query_counts import counting_queries
from tests.unit.moderation.lease_world import second_mentor
from tests.unit.scoring.pages_helpers import HTML, other_course_staff, page_client, post_form


def submitted(world: World, n: int = 3) -> list[str]:
    """Learners 0..n-1 submit; their submission ids."""
    ids = []
    for i in range(n):
        answer = world.submit(world.learners[i], n=i)
        assert answer.status_code == 201, answer.get_json()
        ids.append(answer.get_json()["id"])
    return ids


def make_case(
    world: World,
    kind: str = "other",
    hours_ago: float = 0,
    submission_id: str | None = None,
    opened_by: str | None = None,
    message: str = "",
    course_id: str | None = None,
    status: str | None = None,
    outcome: dict[str, Any] | None = None,
) -> str:
    """A case opened ``hours_ago`` (its rank follows its opening time)."""
    with world.app.app_context():
        case = open_case(
            db.session,
            course_id=course_id or world.course_id,
            assignment_id=world.assignment_id if course_id is None else None,
            kind=kind,
            subject_type="submission",
            subject_ids=[submission_id] if submission_id else [],
            submission_id=submission_id,
            evidence={},
            opened_by=db.session.get(User, opened_by) if opened_by else None,
            message=message,
        )
        if hours_ago:
            case.created_at = utcnow() - timedelta(hours=hours_ago)
        if status:
            case.status = status
            case.outcome = outcome
        db.session.commit()
        return case.id


def queue_of(world: World, caller: Any = None, **params: Any) -> Any:
    caller = caller or world.mentor
    answer = caller.get(f"/api/courses/{world.course_id}/escalations", query_string=params)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def events(world: World, action: str) -> list[dict[str, Any]]:
    found = world.staff.get(f"/api/courses/{world.course_id}/audit", query_string={"action": action}).get_json()["events"]
    return list(found)


# --- ageing and targets


def test_priority_rises_with_age_at_one_rate_and_the_order_never_changes() -> None:
    now = utcnow()
    old_other = (30, now - timedelta(hours=60))  # 30 + 60 = 90 by now
    new_copy = (80, now - timedelta(hours=1))  # 80 + 1 = 81
    assert ranking.urgency(*old_other, now) == 90 and ranking.urgency(*new_copy, now) == 81
    assert ranking.queue_rank(*old_other) > ranking.queue_rank(*new_copy)
    # Any later moment keeps the same order, and the gap between the two urgencies stays what it was.
    for later in (now + timedelta(hours=5), now + timedelta(days=30)):
        assert ranking.urgency(*old_other, later) - ranking.urgency(*new_copy, later) == 9
    # Equal urgency today means equal rank: the stored key is urgency shifted by the same amount for all cases.
    a, b = (30, now - timedelta(hours=10)), (40, now)
    assert ranking.queue_rank(*a) == ranking.queue_rank(*b)


def test_the_queue_orders_by_age_and_kind_and_marks_breaches(world: World) -> None:
    fresh_copy = make_case(world, "plagiarism", hours_ago=1)
    stale_other = make_case(world, "other", hours_ago=130)  # past other's 120-hour target
    fresh_other = make_case(world, "other", hours_ago=2)
    page = queue_of(world)
    assert [c["id"] for c in page["cases"]] == [stale_other, fresh_copy, fresh_other]
    rows = {c["id"]: c for c in page["cases"]}
    assert rows[stale_other]["breached"] is True and rows[stale_other]["age"] == "5 days"
    assert rows[fresh_copy]["breached"] is False and rows[fresh_copy]["age"] == "1 hour"
    assert rows[stale_other]["urgency"] == 30 + 130 and rows[fresh_copy]["urgency"] == 81
    assert page["breached_total"] == 1
    assert [c["id"] for c in queue_of(world, breached=True)["cases"]] == [stale_other]


def test_targets_come_from_the_settings(world: World) -> None:
    world.app.config["CASE_SLA_HOURS"] = {**world.app.config["CASE_SLA_HOURS"], "plagiarism": 1}
    case_id = make_case(world, "plagiarism", hours_ago=2)
    row = queue_of(world)["cases"][0]
    assert row["id"] == case_id and row["breached"] is True


def test_old_cases_go_to_staff_once_and_none_is_dismissed(world: World) -> None:
    far = make_case(world, "other", hours_ago=250)  # past twice the 120-hour target
    past = make_case(world, "other", hours_ago=130)  # past the target, not far past it
    done = make_case(world, "other", hours_ago=400, status="resolved", outcome={"action": "dismiss", "note": "", "at": "x"})
    from reviews.moderation.tasks import escalate_overdue_cases

    with world.app.app_context():
        assert escalate_overdue_cases.run() == {"escalated": 1}
        assert escalate_overdue_cases.run() == {"escalated": 0}
        statuses = {c.id: c.status for c in db.session.scalars(select(Case))}
    assert statuses == {far: "staff_review", past: "open", done: "resolved"}
    escalated = events(world, "case.escalated")
    assert [e["subject"] for e in escalated] == [f"case:{far}"] and escalated[0]["data"]["target_hours"] == 120
    staff_row = queue_of(world, world.staff, status="staff_review")["cases"][0]
    assert staff_row["id"] == far and staff_row["holder"] is None and staff_row["breached"] is True


# --- filters and pages


def test_every_filter(world: World) -> None:
    ids = submitted(world, 2)
    copy = make_case(world, "plagiarism", submission_id=ids[0], opened_by=world.learners[1].id, message="My essay, copied.")
    junk = make_case(world, "junk", submission_id=ids[1])
    old = make_case(world, "other", hours_ago=200)
    elsewhere = make_case(world, "other", course_id=world.other_course_id)
    assert world.mentor.post(f"/api/escalations/{junk}/claim").status_code == 200

    def ids_of(**params: Any) -> set[str]:
        return {c["id"] for c in queue_of(world, **params)["cases"]}

    assert ids_of() == {copy, old}  # open, the default
    assert ids_of(status="claimed") == {junk}
    assert ids_of(status="all") == {copy, junk, old}
    assert ids_of(status="unresolved") == {copy, junk, old}
    assert ids_of(kind="plagiarism") == {copy}
    assert ids_of(assignment_id=world.assignment_id, status="all") == {copy, junk, old}
    assert ids_of(assignment_id=world.extra.get("none", "nothing"), status="all") == set()
    assert ids_of(mine="true") == {junk}
    assert {c["id"] for c in queue_of(world, world.staff, mine="true")["cases"]} == set()
    assert ids_of(breached="true") == {old}
    assert ids_of(kind="junk", mine="true", status="all") == {junk}
    assert elsewhere not in ids_of(status="all")
    bad = world.mentor.get(f"/api/courses/{world.course_id}/escalations?kind=nonsense")
    assert bad.status_code == 422 and "kind" in bad.get_json()["error"]["details"]["fields"]
    bad = world.mentor.get(f"/api/courses/{world.course_id}/escalations?status=later")
    assert bad.status_code == 422
    bad = world.mentor.get(f"/api/courses/{world.course_id}/escalations?cursor=bm9wZQ")
    assert bad.status_code == 422 and "cursor" in bad.get_json()["error"]["details"]["fields"]
    bad = world.mentor.get(f"/api/courses/{world.course_id}/escalations?limit=0")
    assert bad.status_code == 422


def test_rows_say_whose_work_which_assignment_why_how_old_and_who_holds_it(world: World) -> None:
    ids = submitted(world, 2)
    case_id = make_case(world, "plagiarism", hours_ago=3, submission_id=ids[0], opened_by=world.learners[1].id, message="My essay, copied.")
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    row = queue_of(world, status="claimed")["cases"][0]
    assert row["learner"] == {"id": world.learners[0].id, "name": "Learner 0"}
    assert row["assignment"]["id"] == world.assignment_id and row["assignment"]["title"]
    assert row["message"] == "My essay, copied." and row["age"] == "3 hours"
    assert row["holder"] == {"id": world.mentor.id, "name": "Mentor"}
    assert row["reporter_record"] == {"decided": 0, "upheld": 0, "share": None}
    service = queue_of(world, status="all", kind="other")
    assert service["cases"] == []


def test_cursor_pages_stay_stable_while_cases_are_added(world: World) -> None:
    first = [make_case(world, kind, hours_ago=h) for kind, h in [("other", 10), ("junk", 5), ("plagiarism", 2), ("abusive", 30)] * 3]
    expected = [c["id"] for c in queue_of(world, limit=200)["cases"]]
    assert set(expected) == set(first)
    seen: list[str] = []
    page = queue_of(world, limit=5)
    seen += [c["id"] for c in page["cases"]]
    # Cases arrive between pages: the most urgent kind, and ones that rank below everything.
    added = [make_case(world, "plagiarism"), make_case(world, "other"), make_case(world, "abusive", hours_ago=1)]
    while page["next_cursor"]:
        page = queue_of(world, limit=5, cursor=page["next_cursor"])
        seen += [c["id"] for c in page["cases"]]
    old_seen = [i for i in seen if i in first]
    assert old_seen == expected, "every earlier case once, in the same order"
    assert len(seen) == len(set(seen))
    assert set(seen) - set(first) <= set(added)


# --- bulk actions


def test_bulk_claim_one_event_per_case_and_refusals_per_case(world: World) -> None:
    ids = submitted(world, 2)
    mine_to_take = [make_case(world, "other", hours_ago=i) for i in range(3)]
    opened_by_mentor = make_case(world, "junk", opened_by=world.mentor.id)
    held_by_staff = make_case(world, "junk")
    assert world.staff.post(f"/api/escalations/{held_by_staff}/claim").status_code == 200
    resolved = make_case(world, "other", status="resolved", outcome={"action": "dismiss", "note": "", "at": "x"})
    elsewhere = make_case(world, "other", course_id=world.other_course_id)
    del ids
    sent = [*mine_to_take, opened_by_mentor, held_by_staff, resolved, elsewhere, "no-such-case", mine_to_take[0]]
    answer = world.mentor.post(f"/api/courses/{world.course_id}/escalations/bulk", json={"action": "claim", "case_ids": sent})
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()
    assert result["done"] == mine_to_take
    skipped = {s["case_id"]: s["code"] for s in result["skipped"]}
    assert skipped == {
        opened_by_mentor: "forbidden",
        held_by_staff: "already_claimed",
        resolved: "conflict",
        elsewhere: "not_found",
        "no-such-case": "not_found",
    }
    assert all(s["message"] for s in result["skipped"])
    claimed = events(world, "case.claimed")
    assert sorted(e["subject"] for e in claimed if e["actor"] == world.mentor.id) == sorted(f"case:{i}" for i in mine_to_take)
    rows = {c["id"]: c for c in queue_of(world, status="all")["cases"]}
    assert all(rows[i]["holder"]["id"] == world.mentor.id for i in mine_to_take)
    assert rows[held_by_staff]["holder"]["id"] == world.staff.id and rows[opened_by_mentor]["status"] == "open"


def test_bulk_dismiss_needs_a_note_and_records_one_event_per_case(world: World) -> None:
    ids = submitted(world, 2)
    open_ones = [make_case(world, "other", hours_ago=i, opened_by=world.learners[2].id) for i in range(2)]
    mine = make_case(world, "junk")
    assert world.mentor.post(f"/api/escalations/{mine}/claim").status_code == 200
    for_staff = make_case(world, "junk", submission_id=ids[0], status="staff_review")
    url = f"/api/courses/{world.course_id}/escalations/bulk"
    no_note = world.mentor.post(url, json={"action": "dismiss", "case_ids": open_ones, "note": "  "})
    assert no_note.status_code == 422 and "note" in no_note.get_json()["error"]["details"]["fields"]
    assert world.mentor.post(url, json={"action": "shred", "case_ids": open_ones}).status_code == 422
    assert world.mentor.post(url, json={"action": "claim", "case_ids": []}).status_code == 422
    assert world.mentor.post(url, json={"action": "claim", "case_ids": ["x"] * 201}).status_code == 422
    answer = world.mentor.post(
        url, json={"action": "dismiss", "case_ids": [*open_ones, mine, for_staff], "note": "Duplicates of one report."}
    )
    result = answer.get_json()
    assert answer.status_code == 200 and result["done"] == [*open_ones, mine]
    assert [(s["case_id"], s["code"]) for s in result["skipped"]] == [(for_staff, "forbidden")]
    dismissed = events(world, "case.dismiss")
    assert sorted(e["subject"] for e in dismissed) == sorted(f"case:{i}" for i in [*open_ones, mine])
    assert not [e for e in events(world, "case.claimed") if e["subject"] in {f"case:{i}" for i in open_ones}]
    seen = world.learners[2].get(f"/api/escalations/{open_ones[0]}").get_json()
    assert seen["status"] == "resolved" and seen["outcome"]["note"] == "Duplicates of one report."
    # Staff settle the case waiting for them.
    by_staff = world.staff.post(url, json={"action": "dismiss", "case_ids": [for_staff], "note": "Graded already."})
    assert by_staff.get_json()["done"] == [for_staff]


@pytest.mark.parametrize("who", ["learner", "author", "outsider", "other_staff", "signed_out"])
def test_who_may_not_see_or_act_on_the_queue(world: World, who: str) -> None:
    ids = submitted(world, 1)
    case_id = make_case(world, "plagiarism", submission_id=ids[0], opened_by=world.learners[1].id)
    callers = {
        "learner": world.learners[1],
        "author": world.learners[0],
        "outsider": world.outsider,
        "other_staff": None,
        "signed_out": None,
    }
    caller = other_course_staff(world) if who == "other_staff" else callers[who]
    listing = f"/api/courses/{world.course_id}/escalations"
    bulk = f"{listing}/bulk"
    body = {"action": "claim", "case_ids": [case_id]}
    if caller is None:
        seen, acted = world.client.get(listing), world.client.post(bulk, json=body)
        assert seen.status_code == 401 and acted.status_code == 401
    else:
        seen, acted = caller.get(listing), caller.post(bulk, json=body)
        expected = 403 if who in ("learner", "author") else 404
        assert seen.status_code == expected and acted.status_code == expected
    with world.app.app_context():
        assert db.session.get(Case, case_id).claimed_by_id is None  # type: ignore[union-attr]


def test_staff_and_admins_work_the_queue(world: World) -> None:
    case_id = make_case(world, "other")
    for caller in (world.staff, world.admin):
        assert [c["id"] for c in queue_of(world, caller)["cases"]] == [case_id]
    answer = world.admin.post(f"/api/courses/{world.course_id}/escalations/bulk", json={"action": "claim", "case_ids": [case_id]})
    assert answer.status_code == 200 and answer.get_json()["done"] == [case_id]


# --- the reporter's record


def _report(world: World, reporter: Any, submission_id: str) -> str:
    answer = reporter.post(
        f"/api/submissions/{submission_id}/reports", json={"kind": "plagiarism", "message": "This copies my essay word for word."}
    )
    assert answer.status_code == 201, answer.get_json()
    return str(answer.get_json()["case_id"])


@pytest.mark.parametrize(("outcome", "points"), [("mark_plagiarism", 10), ("dismiss", -10)])
def test_a_reporters_record_moves_their_new_reports(world: World, outcome: str, points: int) -> None:
    ids = submitted(world, 4)
    reporter_id = world.learners[0].id
    for i in range(3):
        make_case(
            world, "plagiarism", submission_id=ids[i + 1], opened_by=reporter_id, status="resolved", outcome={"action": outcome, "note": ""}
        )
    case_id = _report(world, world.learners[0], ids[0])  # through the API: the service that opens reports
    with world.app.app_context():
        case = db.session.get_one(Case, case_id)
        assert case.priority == 80 + points
        assert case.evidence["reporter_record"] == {"decided": 3, "upheld": 3 if points > 0 else 0, "points": points}
    # Another learner with no record: the kind's priority as it is.
    with world.app.app_context():
        fresh = report_submission(
            db.session, db.session.get_one(Submission, ids[0]), db.session.get_one(User, world.staff.id), "staff", "junk", "Junk.", None
        )
        db.session.commit()
        assert fresh.priority == 50 and fresh.evidence["reporter_record"]["points"] == 0
    row = next(c for c in queue_of(world)["cases"] if c["id"] == case_id)
    assert row["reporter_record"]["decided"] == 3 and row["reporter_record"]["share"] == (1.0 if points > 0 else 0.0)


def test_a_short_record_changes_nothing() -> None:
    assert ranking.record_points(2, 2) == 0 and ranking.record_points(4, 2) == 0
    assert ranking.record_points(4, 3) == 5 and ranking.record_points(3, 0) == -10


# --- the page


def test_the_queue_page_shows_rows_filters_and_acts_in_bulk(world: World) -> None:
    ids = submitted(world, 2)
    copy = make_case(world, "plagiarism", hours_ago=200, submission_id=ids[0], opened_by=world.learners[1].id, message="Copied from me.")
    other = make_case(world, "other")
    mentor = page_client(world.app, world.mentor.id)
    page = f"/courses/{world.course_id}/escalations"
    html = mentor.get(page, headers=HTML).get_data(as_text=True)
    assert "Learner 0" in html and "Copied from me." in html and "8 days" in html and "past its target" in html
    assert "1 case past its target time" in html and 'class="reflow"' in html
    assert 'for="pick-' in html and "Claim the chosen cases" in html
    filtered = mentor.get(f"{page}?kind=other", headers=HTML).get_data(as_text=True)
    assert other in filtered and copy not in filtered
    odd = mentor.get(f"{page}?kind=nonsense&cursor=zzz", headers=HTML).get_data(as_text=True)
    assert "left out" in odd and "no longer known" in odd and copy in odd
    refused = post_form(mentor, page, f"{page}/bulk", "bulk", {"case_id": [copy, other], "action": "dismiss", "note": ""})
    assert refused.status_code == 303
    again = mentor.get(page, headers=HTML).get_data(as_text=True)
    assert "Say why these cases need no action." in again
    assert f'value="{copy}" id="pick-{copy}" checked' in again  # the ticked boxes come back ticked
    done = post_form(mentor, page, f"{page}/bulk", "bulk", {"case_id": [copy, other], "action": "claim"})
    assert done.status_code == 303
    after = mentor.get(page + "?mine=1", headers=HTML).get_data(as_text=True)
    assert "You claimed 2 cases." in after and copy in after and ">you<" in after
    learner = page_client(world.app, world.learners[1].id)
    assert learner.get(page, headers=HTML).status_code == 403


def test_queue_queries_do_not_grow_with_cases(world: World) -> None:
    mentor = page_client(world.app, world.mentor.id)
    submitted(world, 3)
    counts = []
    for n in (10, 60):
        while len(queue_of(world, status="all", limit=200)["cases"]) < n:
            make_case(world, "other", opened_by=world.learners[len(counts) + 1].id, message="See the second paragraph.")
        with counting_queries(world.app) as api:
            queue_of(world, status="all", limit=200)
        with counting_queries(world.app) as page:
            assert mentor.get(f"/courses/{world.course_id}/escalations?status=all", headers=HTML).status_code == 200
        counts.append((len(api), len(page)))
    assert counts[0] == counts[1], counts


# --- the staff console


def test_the_course_page_shows_case_numbers(world: World) -> None:
    ids = submitted(world, 4)
    make_case(world, "plagiarism", submission_id=ids[0])
    make_case(world, "unfair_review", submission_id=ids[1], hours_ago=100)  # past its 72-hour target
    decided = make_case(world, "other", hours_ago=10)
    with world.app.app_context():
        case = db.session.get_one(Case, decided)
        case.status, case.outcome = "resolved", {"action": "dismiss", "note": ""}
        db.session.commit()
        case.resolved_at = case.created_at + timedelta(hours=6)
        db.session.commit()
        numbers = queue.console_numbers(db.session, world.course_id, queue.targets(world.app.config))
    assert numbers.open_by_kind == [("plagiarism", 1), ("unfair_review", 1)]
    assert numbers.median_hours_to_resolve == 6.0 and numbers.resolved == 1 and numbers.breaches == 1
    assert numbers.appeals == {world.assignment_id: 1} and numbers.appeal_rate(world.assignment_id, 4) == 0.25
    staff = page_client(world.app, world.staff.id)
    html = staff.get(f"/courses/{world.course_id}", headers=HTML).get_data(as_text=True)
    assert "Reported copying" in html and "6.0 hours" in html and "25%" in html
    assert 'id="case-breaches"' in html


def test_resolving_records_when(world: World) -> None:
    case_id = make_case(world, "other")
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    assert world.mentor.post(f"/api/escalations/{case_id}/resolve", json={"action": "dismiss", "note": "Fine."}).status_code == 200
    with world.app.app_context():
        row = db.session.get_one(Case, case_id)
        assert row.resolved_at is not None and row.resolved_at >= row.created_at
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.subject == f"case:{case_id}", AuditEvent.action == "case.dismiss"))


def _cases_the_mentor_may_not_act_on(world: World) -> dict[str, str]:
    """A case of each kind of stake the mentor has, with the sentence acting on it alone answers."""
    world.submit_and_review(world.learners[:3])
    with world.app.app_context():
        work = {s.author_id: s for s in db.session.scalars(select(Submission).where(Submission.assignment_id == world.assignment_id))}
        mine = work[world.learners[0].id]
        mine.author_id = world.mentor.id  # the mentor's own work (as if they had submitted it)
        review = db.session.scalars(select(Review).where(Review.submission_id == work[world.learners[1].id].id)).first()
        assert review is not None
        review.reviewer_id = world.mentor.id  # and a review they wrote
        mine_id, review_id, review_of = mine.id, review.id, review.submission_id
        db.session.commit()
    cases = {
        "opened": make_case(world, "other", opened_by=world.mentor.id),
        "own_work": make_case(world, "plagiarism", submission_id=mine_id),
        "about_them": make_case(world, "unreliable_reviewer"),
        "own_review": make_case(world, "unfair_review", submission_id=review_of, opened_by=world.learners[1].id),
        "for_staff": make_case(world, "junk", status="staff_review"),
    }
    outcome = {"action": "dismiss", "note": "", "at": utcnow().isoformat(), "by": world.mentor.id}
    decided = make_case(world, "other", status="resolved", outcome=outcome)
    cases["decided_first"] = make_case(world, "contested_decision", opened_by=world.learners[2].id)
    with world.app.app_context():
        about = db.session.get_one(Case, cases["about_them"])
        about.subject_type, about.subject_ids = "reviewer", [world.mentor.id]
        db.session.get_one(Case, cases["own_review"]).evidence = {"review_id": review_id}
        db.session.get_one(Case, cases["decided_first"]).contests_case_id = decided
        db.session.commit()
    sentences = {}
    for stake, case_id in cases.items():
        alone = world.mentor.post(f"/api/escalations/{case_id}/claim")
        assert alone.status_code == 403, (stake, alone.get_json())
        sentences[case_id] = alone.get_json()["error"]["message"]
    return sentences


@pytest.mark.parametrize("action", ["claim", "dismiss"])
def test_bulk_refuses_exactly_the_cases_a_single_action_refuses(world: World, action: str) -> None:
    refused = _cases_the_mentor_may_not_act_on(world)
    assert len(set(refused.values())) == 6, "each stake has its own sentence"
    fine = make_case(world, "other")
    url = f"/api/courses/{world.course_id}/escalations/bulk"
    answer = world.mentor.post(url, json={"action": action, "case_ids": [*refused, fine], "note": "Nothing to act on here."})
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()
    assert result["done"] == [fine]
    assert {s["case_id"]: (s["code"], s["message"]) for s in result["skipped"]} == {c: ("forbidden", m) for c, m in refused.items()}
    with world.app.app_context():
        untouched = db.session.scalars(select(Case).where(Case.id.in_(list(refused)))).all()
        assert {c.status for c in untouched} <= {"open", "staff_review"} and all(c.claimed_by_id is None for c in untouched)
    assert not [e for e in events(world, f"case.{'claimed' if action == 'claim' else 'dismiss'}") if e["subject"][5:] in refused]
    # The second mentor has no stake in any of them but the one waiting for staff.
    other = second_mentor(world)
    again = other.post(url, json={"action": action, "case_ids": list(refused), "note": "Nothing to act on here."}).get_json()
    assert [s["case_id"] for s in again["skipped"]] == [c for c, m in refused.items() if "waiting for staff" in m]

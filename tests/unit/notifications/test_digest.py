"""What mentors and staff hear: the daily digest of cases past their target (once a day per person, only when
there are any, to the course's mentors and staff only, naming no learner or reviewer), cases taken over from a
mentor, and cases that went to staff by their age; and the targets set from the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reviews import settings
from reviews.app import create_app
from reviews.kernel.db import db, utcnow
from reviews.moderation import tasks
from reviews.moderation.models import Case
from reviews.moderation.queue import targets
from reviews.moderation.tasks import send_sla_digest
from reviews.notifications.digest import digest_key, send_sla_digests
from reviews.notifications.models import Notification
from reviews.notifications.services import keyed_id, notify
from tests.conftest import Caller, World
from tests.unit.moderation.lease_world import other_course_staff, second_mentor
from tests.unit.moderation.test_queue import make_case, submitted


def inbox(caller: Caller, kind: str | None = None) -> list[dict[str, Any]]:
    answer = caller.get("/api/notifications")
    assert answer.status_code == 200
    return [n for n in answer.get_json()["notifications"] if kind is None or n["kind"] == kind]


def run_digest(world: World, **at: float) -> int:
    with world.app.app_context():
        sent = send_sla_digests(db.session, targets(world.app.config), utcnow() + timedelta(**at))
        db.session.commit()
        return sent


def test_nothing_is_sent_when_no_case_is_past_its_target(world: World) -> None:
    make_case(world, "other", hours_ago=100)  # other's target is 120 hours
    make_case(world, "plagiarism", hours_ago=30, status="resolved", outcome={"action": "dismiss", "note": "", "at": "x"})
    assert run_digest(world) == 0
    assert inbox(world.mentor) == [] and inbox(world.staff) == []


def test_each_mentor_and_staff_member_hears_once_a_day(world: World) -> None:
    late = [make_case(world, "plagiarism", hours_ago=30 + i) for i in range(7)]  # target 24 hours
    make_case(world, "plagiarism", hours_ago=2)  # not late
    mentor2 = second_mentor(world)
    assert run_digest(world) == 3  # the mentor, the second mentor and staff
    assert run_digest(world) == 0, "a second run the same day sends nothing"
    for person in (world.mentor, mentor2, world.staff):
        [digest] = inbox(person, "sla_digest")
        assert digest["subject"] == "7 cases past their target time"
        assert "Planning 101: 7 cases past their target time." in digest["body"]
        # The oldest five, oldest first, each with its link; how long it waited and the target.
        shown = [line for line in digest["body"].splitlines() if line.startswith("- ")]
        assert [line.rsplit("/escalations/", 1)[1] for line in shown] == list(reversed(late))[:5]
        assert "Reported copying in “" in shown[0] and "waiting 36 hours (target 24 hours)" in shown[0]
        assert digest["link"] == f"/courses/{world.course_id}/escalations?status=unresolved&breached=1"
    # The next day: a new digest.
    assert run_digest(world, days=1) == 3
    assert len(inbox(world.mentor, "sla_digest")) == 2


def test_only_the_courses_mentors_and_staff_receive_it(world: World) -> None:
    make_case(world, "abusive", hours_ago=40)
    elsewhere = other_course_staff(world)
    run_digest(world)
    assert len(inbox(world.mentor, "sla_digest")) == 1 and len(inbox(world.staff, "sla_digest")) == 1
    for nobody in (*world.learners, world.outsider, elsewhere, world.admin):
        assert inbox(nobody, "sla_digest") == []


def test_another_courses_late_cases_go_to_that_courses_staff_only(world: World) -> None:
    elsewhere = other_course_staff(world)
    make_case(world, "other", hours_ago=200, course_id=world.other_course_id)
    assert run_digest(world) == 1
    [digest] = inbox(elsewhere, "sla_digest")
    assert "Other course: 1 case past its target time." in digest["body"]
    assert inbox(world.mentor) == [] and inbox(world.staff) == []


def test_mentors_hear_of_the_cases_they_may_act_on_and_staff_of_all(world: World) -> None:
    waiting_for_staff = make_case(world, "junk", hours_ago=100, status="staff_review")
    open_late = make_case(world, "junk", hours_ago=80)
    run_digest(world)
    [for_staff] = inbox(world.staff, "sla_digest")
    [for_mentor] = inbox(world.mentor, "sla_digest")
    assert waiting_for_staff in for_staff["body"] and open_late in for_staff["body"] and for_staff["subject"].startswith("2 cases")
    assert waiting_for_staff not in for_mentor["body"] and open_late in for_mentor["body"]
    assert for_mentor["subject"] == "1 case past its target time"
    only_for_staff = make_case(world, "junk", hours_ago=100, status="staff_review")
    with world.app.app_context():
        db.session.execute(Case.__table__.delete().where(Case.id != only_for_staff))
        db.session.commit()
    assert run_digest(world, days=1) == 1, "mentors hear nothing when every late case waits for staff"
    assert len(inbox(world.mentor, "sla_digest")) == 1 and len(inbox(world.staff, "sla_digest")) == 2


def test_the_digest_names_no_learner_reviewer_or_sample(world: World) -> None:
    ids = submitted(world, 2)
    make_case(world, "plagiarism", hours_ago=30, submission_id=ids[0], opened_by=world.learners[1].id, message="My own essay, copied.")
    with world.app.app_context():
        case = db.session.get_one(Case, make_case(world, "unreliable_reviewer", hours_ago=200))
        case.subject_type, case.subject_ids = "reviewer", [world.learners[2].id]
        db.session.commit()
    run_digest(world)
    [digest] = inbox(world.staff, "sla_digest")
    text = digest["subject"] + digest["body"]
    assert "Unreliable reviewer in “" in text
    for secret in ("Learner", world.learners[0].id, world.learners[1].id, world.learners[2].id, ids[0], "copied.", "sample"):
        assert secret not in text


def test_a_digest_another_run_sent_meanwhile_is_not_sent_again(world: World) -> None:
    make_case(world, "plagiarism", hours_ago=30)
    with world.app.app_context():
        # Another run got to the mentor first, between this run's look-up and its insert.
        day = utcnow().date().isoformat()
        notify(db.session, world.mentor.id, "sla_digest", "Sent already", "", key=digest_key(world.mentor.id, day))
        db.session.commit()
        assert db.session.get(Notification, keyed_id(digest_key(world.mentor.id, day))) is not None
    assert run_digest(world) == 1  # staff only
    assert [n["subject"] for n in inbox(world.mentor, "sla_digest")] == ["Sent already"]


def test_the_same_key_never_makes_two_notifications(world: World) -> None:
    from sqlalchemy.exc import IntegrityError

    with world.app.app_context():
        notify(db.session, world.mentor.id, "sla_digest", "One", "", key="k")
        db.session.commit()
        notify(db.session, world.mentor.id, "sla_digest", "Two", "", key="k")
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert len(db.session.scalars(select(Notification).where(Notification.user_id == world.mentor.id)).all()) == 1


def test_the_periodic_task_sends_from_its_hour_on_once_a_day(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    make_case(world, "plagiarism", hours_ago=100)
    world.app.config["SLA_DIGEST_HOUR_UTC"] = 6
    today = utcnow().replace(minute=30, second=0, microsecond=0)
    with world.app.app_context():
        monkeypatch.setattr(tasks, "utcnow", lambda: today.replace(hour=5))
        assert send_sla_digest.run() == {"sent": 0}, "not before its hour"
        monkeypatch.setattr(tasks, "utcnow", lambda: today.replace(hour=6))
        assert send_sla_digest.run() == {"sent": 2}
        monkeypatch.setattr(tasks, "utcnow", lambda: today.replace(hour=15))
        assert send_sla_digest.run() == {"sent": 0}, "once a day"
    from workers.celery_app import periodic_task_names

    assert "reviews.moderation.tasks.send_sla_digest" in periodic_task_names()


# --- cases handed to them


def test_the_mentor_hears_when_staff_take_their_case_over(world: World) -> None:
    ids = submitted(world, 1)
    case_id = make_case(world, "plagiarism", submission_id=ids[0], opened_by=world.learners[1].id, message="My own essay, copied.")
    assert world.mentor.post(f"/api/escalations/{case_id}/claim").status_code == 200
    assert world.staff.post(f"/api/escalations/{case_id}/takeover").status_code == 200
    [told] = inbox(world.mentor, "case_taken_over")
    assert told["subject"] == "Staff took over a case you held" and told["link"] == f"/escalations/{case_id}"
    assert "reported copying, in “" in told["body"]
    for secret in ("copied.", "Learner", world.learners[0].id, world.learners[1].id):
        assert secret not in told["subject"] + told["body"]
    # Nobody else hears of it; staff taking over a case nobody held, or their own, tell nobody.
    assert inbox(world.staff, "case_taken_over") == [] and inbox(world.learners[0], "case_taken_over") == []
    assert world.staff.post(f"/api/escalations/{case_id}/takeover").status_code == 200
    unheld = make_case(world, "junk")
    assert world.staff.post(f"/api/escalations/{unheld}/takeover").status_code == 200
    assert len(inbox(world.mentor, "case_taken_over")) == 1 and inbox(world.staff, "case_taken_over") == []


def test_staff_hear_of_a_case_that_went_to_them_by_its_age(world: World) -> None:
    far = make_case(world, "plagiarism", hours_ago=60, message="My own essay, copied.")  # past twice 24 hours
    make_case(world, "plagiarism", hours_ago=30)  # late, not far past
    elsewhere = other_course_staff(world)
    with world.app.app_context():
        from reviews.moderation.tasks import escalate_overdue_cases

        assert escalate_overdue_cases.run() == {"escalated": 1}
        assert escalate_overdue_cases.run() == {"escalated": 0}
    [told] = inbox(world.staff, "case_for_staff")
    assert told["link"] == f"/escalations/{far}" and told["subject"] == "A case needs staff"
    said = "A case went to staff because it waited 2 days, more than 2 times its target of 24 hours: reported copying"
    assert told["body"].startswith(said)
    assert "copied." not in told["body"]
    assert inbox(world.mentor, "case_for_staff") == [] and inbox(elsewhere, "case_for_staff") == []


# --- targets from the environment


def test_targets_can_be_set_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("FAIRPEER_CASE_SLA_HOURS", " plagiarism=12, similarity = 24.5 ,")
    hours = settings.from_environment(tmp_path)["CASE_SLA_HOURS"]
    assert hours["plagiarism"] == 12 and hours["similarity"] == 24.5
    assert hours["other"] == settings.DEFAULTS["CASE_SLA_HOURS"]["other"], "kinds not named keep their default"
    monkeypatch.delenv("FAIRPEER_CASE_SLA_HOURS")
    assert settings.from_environment(tmp_path)["CASE_SLA_HOURS"] == settings.DEFAULTS["CASE_SLA_HOURS"]


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("plagiarism", "'plagiarism' is not kind=hours"),
        ("plagiarism=", "'plagiarism=' is not kind=hours"),
        ("=12", "'=12' is not kind=hours"),
        ("copying=12", "'copying' is not a kind of case; choose from: abusive,"),
        ("plagiarism=soon", "the target of plagiarism must be a number of hours above 0, not 'soon'"),
        ("plagiarism=0", "the target of plagiarism must be a number of hours above 0, not '0'"),
        ("plagiarism=-3", "above 0, not '-3'"),
        ("plagiarism=inf", "above 0, not 'inf'"),
        ("plagiarism=nan", "above 0, not 'nan'"),
    ],
)
def test_a_bad_target_stops_the_service_at_start_up(monkeypatch: pytest.MonkeyPatch, raw: str, says: str) -> None:
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("FAIRPEER_CASE_SLA_HOURS", raw)
    with pytest.raises(settings.SettingError) as refused:
        create_app({"DATABASE_URL": "sqlite://"})
    assert str(refused.value).startswith("FAIRPEER_CASE_SLA_HOURS: ") and says in str(refused.value)


@pytest.mark.parametrize("raw", ["24", "-1", "6.5"])
def test_a_bad_digest_hour_stops_the_service_at_start_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: str) -> None:
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("FAIRPEER_SLA_DIGEST_HOUR_UTC", raw)
    with pytest.raises(settings.SettingError, match="must be a whole hour from 0 to 23"):
        settings.from_environment(tmp_path)

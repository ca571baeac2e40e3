"""Credentials on PostgreSQL under concurrency: status entries handed out at once are all different, and two runs
of the same assignment's credentials at once issue each credential once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from reviews.courses.models import Assignment
from reviews.credentials import issuing, keys
from reviews.credentials.models import IssuedCredential, StatusList
from reviews.kernel.db import db, utcnow
from tests.conftest import signing_key_for_tests
from tests.unit.scoring.seeding import seed_course

BASE = "https://fairpeer.test"


def _registered(app: Flask) -> None:
    with app.app_context():
        keys.register_key(db.session, signing_key_for_tests(), retire_others=True)
        db.session.commit()


@pytest.mark.integration
def test_status_entries_taken_at_once_are_all_different(pg_url: str, make_web_app: Callable[..., Flask]) -> None:
    app = make_web_app(pg_url)
    _registered(app)
    taken: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def take() -> None:
        try:
            with app.app_context():
                signer = keys.signer(db.session, app.config)
                start.wait()
                for _ in range(10):
                    taken.append(issuing.allocate_status_entry(db.session, signer, BASE, utcnow()))
                    db.session.commit()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(taken) == 80 and len(set(taken)) == 80
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StatusList)) == 1  # they all share the first list
        assert db.session.scalar(select(StatusList.next_index)) == 80


@pytest.mark.integration
def test_two_runs_at_once_issue_each_credential_once(pg_url: str, make_web_app: Callable[..., Flask]) -> None:
    app = make_web_app(pg_url)
    app.extensions["fairpeer.background"].send = lambda *a, **k: None  # the runs below are the only ones
    _registered(app)
    with app.app_context():
        seeded = seed_course(db.session, 20, tag="race")
        db.session.get_one(Assignment, seeded.assignment_id).released_at = utcnow()
        db.session.commit()
    start = threading.Barrier(2)
    outcomes: list[issuing.RunOutcome] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                start.wait()
                outcomes.append(
                    issuing.reconcile_assignment(
                        db.session, seeded.assignment_id, lambda: keys.signer(db.session, app.config), base_url=BASE
                    )
                )
                db.session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    issued = sorted(len(o.issued) for o in outcomes)
    assert issued[0] == 0 and issued[1] > 0  # the second run waited on the assignment row, then found nothing to do
    with app.app_context():
        rows = list(db.session.scalars(select(IssuedCredential)))
        assert len(rows) == issued[1]
        assert all(r.revoked_at is None for r in rows)
        assert len({r.series for r in rows}) == len(rows)  # one per project, one per course record

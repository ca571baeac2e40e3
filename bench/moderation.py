"""Moderation benchmark: how long the escalation queue (its API and its page) and a case page take with 10,000 open cases.

    DATABASE_URL=postgresql://.../an_empty_database python bench/moderation.py --json [--cases 10000] [--repeats 40] [--quick]

The database must be empty (the bench migrates it to head and refuses one whose tables hold a row). It seeds one
course (tests/unit/scoring/seeding.py: learners who submitted and reviewed, with real calibrated scores), counts the
SQL statements of each request with a handful of cases, then adds cases up to ``--cases`` open ones (every kind,
opened over the last two weeks, the reported kinds opened by learners, one in twenty claimed by the mentor) and
asks for each page through the Flask test client as the course's mentor: the queue's API
(``GET /api/courses/{id}/escalations``, its first page of 50), the queue's page, and the page of the case that
was most urgent before the rest arrived. Each is asked a few times to warm up, then ``--repeats`` times; each
figure is the wall time of one request, ``queries`` the SQL statements one request runs, and
``queries_few_cases`` the same with only the handful of cases (the two must be equal: nothing is asked once per
case).

Prints one JSON object as the last line of stdout (progress goes to stderr):
    {"queue_api": {"p50_ms", "p95_ms", "queries", "queries_few_cases"}, "queue_page": {...}, "case_page": {...}, ...}
with the settings it ran with. ``--quick`` (500 cases, 5 repeats) is the test suite's smoke run. Drop the database
afterwards.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402  (after the path is set)

from bench.pages import bench_arguments, make_url_dialect, prepare_database, time_page  # noqa: E402
from reviews.accounts.models import User  # noqa: E402
from reviews.accounts.services import issue_token  # noqa: E402
from reviews.kernel.db import db, new_id, utcnow  # noqa: E402
from reviews.moderation.models import CLAIMED, OPEN, RESOLVED, Case  # noqa: E402
from reviews.moderation.schemas import PRIORITY, REPORT_KINDS  # noqa: E402
from reviews.submissions.models import Submission  # noqa: E402
from tests.conftest import make_app  # noqa: E402
from tests.query_counts import counting_queries  # noqa: E402
from tests.unit.scoring.pages_helpers import HTML, page_client  # noqa: E402
from tests.unit.scoring.seeding import seed_course  # noqa: E402

FEW_CASES = 10
KINDS = sorted(PRIORITY)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def add_cases(session: Any, seeded: Any, upto: int, start: int) -> int:
    """Open cases until the course has ``upto`` unresolved ones, in batches; returns how many it has."""
    have = int(session.scalar(select(func.count(Case.id)).where(Case.course_id == seeded.course_id, Case.status != RESOLVED)) or 0)
    submissions = list(
        session.scalars(select(Submission.id).where(Submission.assignment_id == seeded.assignment_id).order_by(Submission.id))
    )
    reporters = seeded.learner_ids[: max(1, len(seeded.learner_ids) // 3)]
    now = utcnow()
    batch: list[Case] = []
    i = start
    while have < upto:
        kind = KINDS[i % len(KINDS)]
        reported = kind in REPORT_KINDS
        submission_id = submissions[i % len(submissions)]
        claimed = i % 20 == 0
        batch.append(
            Case(
                id=new_id(),
                created_at=now - timedelta(minutes=(i * 37) % (14 * 24 * 60)),
                course_id=seeded.course_id,
                assignment_id=seeded.assignment_id,
                kind=kind,
                priority=PRIORITY[kind],
                status=CLAIMED if claimed else OPEN,
                claimed_by_id=seeded.mentor_id if claimed else None,
                claimed_at=now if claimed else None,
                lease_expires_at=now + timedelta(hours=4) if claimed else None,
                subject_type="submission",
                subject_ids=[submission_id],
                submission_id=submission_id,
                opened_by_id=reporters[i % len(reporters)] if reported else None,
                evidence={"message": "Looks copied from another learner's plan."} if reported else {"found": kind},
                outcome=None,
                message="Looks copied from another learner's plan, word for word in the risks section." if reported else "",
            )
        )
        have += 1
        i += 1
        if len(batch) == 1000:
            session.add_all(batch)
            session.commit()
            batch = []
    if batch:
        session.add_all(batch)
        session.commit()
    return i


def count_queries(app: Any, client: Any, path: str, headers: dict[str, str]) -> int:
    assert client.get(path, headers=headers).status_code == 200, path
    with counting_queries(app) as counted:
        assert client.get(path, headers=headers).status_code == 200, path
    return len(counted)


def most_urgent_case(app: Any, course_id: str) -> str:
    with app.app_context():
        found = db.session.scalar(
            select(Case.id).where(Case.course_id == course_id, Case.status == OPEN).order_by(Case.queue_rank.desc(), Case.id).limit(1)
        )
        assert found is not None
        return str(found)


def main() -> None:
    parser = bench_arguments(__doc__, "500 cases, 40 learners, 5 repeats")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--learners", type=int, default=200)
    args = parser.parse_args()
    cases, learners, repeats, warmup = (500, 40, 5, 2) if args.quick else (args.cases, args.learners, args.repeats, 5)
    url = prepare_database(args.database_url, "bench/moderation.py")
    app = make_app(Path("unused"), DATABASE_URL=url)
    app.extensions["fairpeer.background"].send = lambda *a, **k: None  # the seed calibrates once, itself
    started = time.perf_counter()
    with app.app_context():
        seeded = seed_course(db.session, learners, tag="bench")
        db.session.commit()
        token = issue_token(db.session, db.session.get_one(User, seeded.mentor_id))
        db.session.commit()
        next_i = add_cases(db.session, seeded, FEW_CASES, 0)
    api_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    mentor = page_client(app, seeded.mentor_id)
    api_path = f"/api/courses/{seeded.course_id}/escalations"
    page_path = f"/courses/{seeded.course_id}/escalations"
    # The same case before and after the rest arrive: its page must not ask more as the queue grows.
    case_path = f"/escalations/{most_urgent_case(app, seeded.course_id)}"
    few = {
        "queue_api": count_queries(app, mentor, api_path, api_headers),
        "queue_page": count_queries(app, mentor, page_path, HTML),
        "case_page": count_queries(app, mentor, case_path, HTML),
    }
    with app.app_context():
        few_count = int(db.session.scalar(select(func.count(Case.id)).where(Case.course_id == seeded.course_id)) or 0)
    log(f"queries with {few_count} cases: {few}")
    with app.app_context():
        add_cases(db.session, seeded, cases, next_i)
        if url.startswith("postgresql"):
            db.session.execute(text("ANALYZE"))  # planner statistics for the new rows, as autovacuum would soon
        db.session.commit()
    seed_seconds = time.perf_counter() - started
    log(f"seeded {learners} learners and {cases} open cases in {seed_seconds:.1f}s")
    result: dict[str, Any] = {
        "queue_api": time_page(app, mentor, api_path, repeats, warmup, api_headers),
        "queue_page": time_page(app, mentor, page_path, repeats, warmup),
        "case_page": time_page(app, mentor, case_path, repeats, warmup),
    }
    for name, figures in result.items():
        figures["queries_few_cases"] = few[name]
        log(f"{name}: {figures}")
    app.extensions["fairpeer.db"][0].dispose()
    result["settings"] = {
        "cases": cases,
        "few_cases": few_count,
        "learners": learners,
        "repeats": repeats,
        "quick": args.quick,
        "database": make_url_dialect(url),
        "seed_seconds": round(seed_seconds, 1),
    }
    result["targets"] = {"queue_api_p95_ms": 100, "queue_page_p95_ms": 100, "case_page_p95_ms": 100}
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

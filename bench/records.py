"""Records benchmark: issuing and verifying signed credentials, and the shared record of a learner with 20 projects.

    DATABASE_URL=postgresql://.../an_empty_database python bench/records.py --json [--learners 200] [--quick]

The database must be empty (the bench migrates it to head and refuses one whose tables hold a row). It seeds one
course (tests/unit/scoring/seeding.py) with a registered signing key, releases its scores, then:
- ``issue``: the credential run of the assignment (reviews/credentials/issuing.py), each credential timed from its
  status entry to its signed row flushed (canonicalisation and the eddsa-rdfc-2022 proof included); the whole
  first run of the assignment is reported too (``issue_run``);
- ``verify``: ``POST /api/verify`` of each issued credential, as anyone (JSON-LD checks, signature, key, dates, and
  its status list read from the database);
- ``shared_record_20``: a learner's shared record page (reviews/records) with 20 released projects, opened
  signed out: p95 and the SQL statements of one request.

Prints one JSON object as the last line of stdout (progress on stderr):
    {"issue": {"p50_ms", "p95_ms"}, "verify": {"p50_ms", "p95_ms"}, "shared_record_20": {"p95_ms", "queries"}, ...}
``--quick`` (30 learners, 20 verifications, 5 page repeats) is the tests' smoke run. Drop the database afterwards.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402  (after the path is set)

import credentials  # noqa: E402
from bench.pages import bench_arguments, log, make_url_dialect, percentile, prepare_database, time_page  # noqa: E402
from reviews.accounts.models import User  # noqa: E402
from reviews.courses.access import LEARNER  # noqa: E402
from reviews.courses.models import Assignment, Course, Membership  # noqa: E402
from reviews.credentials import issuing, keys  # noqa: E402
from reviews.credentials.models import IssuedCredential  # noqa: E402
from reviews.kernel.db import db, new_id, utcnow  # noqa: E402
from reviews.records.models import ProjectNote  # noqa: E402
from reviews.records.services import create_share  # noqa: E402
from reviews.scoring.models import Score  # noqa: E402
from reviews.settings import Secret  # noqa: E402
from reviews.submissions.models import Submission  # noqa: E402
from tests.conftest import RUBRIC, essay, make_app  # noqa: E402
from tests.unit.scoring.seeding import seed_course  # noqa: E402


def figures(timings: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(timings), 2), "p95_ms": round(percentile(timings, 0.95), 2), "n": len(timings)}


def timed_issues(timings: list[float]) -> Any:
    """Wrap issuing._issue so that each credential it makes is timed (the bench's only patch)."""
    real = issuing._issue

    def issue(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        row = real(*args, **kwargs)
        timings.append((time.perf_counter() - started) * 1000)
        return row

    return issue


def shared_record(app: Any, n_projects: int, repeats: int, warmup: int) -> dict[str, Any]:
    """A learner of a course of ``n_projects`` assignments, each with their released score, its credential, their
    annotation and the project picked for sharing; then their share link opened signed out (reviews/records)."""
    now = utcnow()
    with app.app_context():
        session = db.session
        learner = User(id=new_id(), email="shared@bench.test", name="Sharing Learner")
        course = Course(
            id=new_id(), title="Course of twenty projects", slug="shared-bench", learning_summary="Planning, risks and budgets."
        )
        session.add_all([learner, course])
        session.flush()
        session.add(Membership(course_id=course.id, user_id=learner.id, role=LEARNER))
        assignments = []
        for i in range(n_projects):
            assignment = Assignment(
                id=new_id(),
                course_id=course.id,
                title=f"Project {i + 1}",
                prompt=f"Plan project {i + 1}.",
                rubric=RUBRIC,
                reviews_required=2,
                reviews_to_give=2,
                max_attempts=2,
                min_words=10,
                skills=[f"Skill {i + 1}"],
            )
            session.add(assignment)
            session.flush()
            work = Submission(
                id=new_id(), assignment_id=assignment.id, author_id=learner.id, text=essay(i), content_hash=f"{i:064d}", reviews_done=3
            )
            session.add(work)
            session.flush()
            session.add(
                Score(
                    submission_id=work.id,
                    assignment_id=assignment.id,
                    value=5.5,
                    low=4.5,
                    high=6.5,
                    reviews=3,
                    method="calibrated",
                    criteria={},
                    released_at=now,
                )
            )
            session.add(
                ProjectNote(
                    learner_id=learner.id,
                    assignment_id=assignment.id,
                    annotation=f"My plan {i + 1}.",
                    shared=True,
                    text_public=True,
                    updated_at=now,
                )
            )
            assignments.append(assignment.id)
        _, token = create_share(session, course, learner)
        session.commit()
        for assignment_id in assignments:
            issuing.reconcile_assignment(
                session, assignment_id, lambda: keys.signer(db.session, app.config), base_url=app.config["CREDENTIALS_BASE_URL"]
            )
        session.commit()
    figures = time_page(app, app.test_client(), f"/shared/{token}", repeats, warmup)
    return {"p50_ms": figures["p50_ms"], "p95_ms": figures["p95_ms"], "queries": figures["queries"], "projects": n_projects}


def main() -> None:
    parser = bench_arguments(__doc__, "30 learners, 20 verifications, 5 repeats")
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--verifications", type=int, default=200)
    args = parser.parse_args()
    learners, verifications, repeats = (30, 20, 5) if args.quick else (args.learners, args.verifications, args.repeats)
    url = prepare_database(args.database_url, "bench/records.py")
    key = credentials.SigningKey.generate()
    app = make_app(Path("unused"), DATABASE_URL=url, SIGNING_KEY=Secret(key.private_multibase), CREDENTIALS_BASE_URL="https://bench.test")
    app.extensions["fairpeer.background"].send = lambda *a, **k: None  # the bench runs the work itself, timed
    with app.app_context():
        keys.register_key(db.session, key, retire_others=True)
        seeded = seed_course(db.session, learners, tag="bench")
        db.session.get_one(Assignment, seeded.assignment_id).released_at = utcnow()
        db.session.commit()

    issue_timings: list[float] = []
    issuing._issue = timed_issues(issue_timings)  # type: ignore[assignment]
    with app.app_context():
        started = time.perf_counter()
        outcome = issuing.reconcile_assignment(
            db.session, seeded.assignment_id, lambda: keys.signer(db.session, app.config), base_url=app.config["CREDENTIALS_BASE_URL"]
        )
        db.session.commit()
        run_ms = (time.perf_counter() - started) * 1000
        documents = [json.loads(d) for d in db.session.scalars(select(IssuedCredential.document).limit(verifications))]
    log(f"issued {len(outcome.issued)} credentials in {run_ms:.0f} ms")
    assert documents, "the seed releases scores, so credentials are issued"

    client = app.test_client()
    verify_timings: list[float] = []
    statuses: dict[str, int] = {}
    for i in range(max(verifications, len(documents))):
        body = json.dumps(documents[i % len(documents)])
        started = time.perf_counter()
        answer = client.post("/api/verify", data=body, content_type="application/json")
        verify_timings.append((time.perf_counter() - started) * 1000)
        status = answer.get_json()["status"]
        statuses[status] = statuses.get(status, 0) + 1
    log(f"verified: {statuses}")
    assert set(statuses) == {"valid"}, statuses

    issue = figures(issue_timings)  # before the shared record's own credentials are made
    shared = shared_record(app, 20, repeats, warmup=2)
    app.extensions["fairpeer.db"][0].dispose()
    result = {
        "issue": issue,
        "issue_run": {"credentials": len(outcome.issued), "ms": round(run_ms, 1)},
        "verify": {**figures(verify_timings), "statuses": statuses},
        "shared_record_20": shared,
        "settings": {"learners": learners, "verifications": verifications, "quick": args.quick, "database": make_url_dialect(url)},
        "targets": {"issue_p95_ms": 100, "verify_p95_ms": 100, "shared_record_20_p95_ms": 100, "shared_record_20_queries": 10},
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Pages benchmark: how long the staff's gradebook of 1,000 learners and a learner's assignment page take to answer.

    DATABASE_URL=postgresql://.../an_empty_database python bench/pages.py --json [--learners 1000] [--repeats 40] [--quick]

The database must be empty (the bench migrates it to head and refuses one whose tables hold a row). It seeds one
course of ``--learners`` learners (tests/unit/scoring/seeding.py: nine in ten submitted, each submitter gave two
reviews and every third one reviewed a calibration sample, the real recalibration over all of it, a case on every
seventh submitter, a staff grade on every 25th), then asks for each page through the Flask test client with a
signed-in page session (as a sign-in link leaves it): the gradebook (``scoring_pages.gradebook``) as the course's
staff, and the assignment page (``submissions_pages.assignment``) as a learner whose score is released. Each page
is asked for a few times to warm up, then ``--repeats`` times; each figure is the wall time of one request, and
``queries`` the SQL statements one request runs.

Prints one JSON object as the last line of stdout (progress goes to stderr):
    {"gradebook_1000": {"p50_ms", "p95_ms", "queries"}, "learner_assignment": {"p50_ms", "p95_ms", "queries"}, ...}
with the settings it ran with. ``--quick`` (60 learners, 5 repeats) is the test suite's smoke run; the key stays
``gradebook_1000`` so that the smoke test checks the same shape. Drop the database afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, inspect, select, table  # noqa: E402  (after the path is set)

from reviews.kernel.db import db, normalise_url  # noqa: E402
from reviews.kernel.migrate import upgrade  # noqa: E402
from reviews.scoring.models import Score  # noqa: E402
from reviews.submissions.services import latest_submission  # noqa: E402
from tests.conftest import make_app  # noqa: E402
from tests.query_counts import counting_queries  # noqa: E402
from tests.unit.scoring.pages_helpers import HTML, page_client  # noqa: E402
from tests.unit.scoring.seeding import seed_course  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def refuse_unless_empty(url: str) -> None:
    """The bench writes a course of its own: it never runs on a database that holds anything."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            for name in inspect(connection).get_table_names():
                if name == "alembic_version":
                    continue
                rows = connection.execute(select(func.count()).select_from(table(name))).scalar()
                if rows:
                    raise SystemExit(f"bench/pages.py needs an empty database; table {name} holds {rows} rows")
    finally:
        engine.dispose()


def bench_arguments(description: str | None, quick_help: str) -> argparse.ArgumentParser:
    """The options every database bench takes: the database, the repeats, ``--quick`` and ``--json``."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="an empty database (default: DATABASE_URL)")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help=f"the smoke run: {quick_help}")
    parser.add_argument("--json", action="store_true", help="print the JSON result as the last line")
    return parser


def prepare_database(database_url: str | None, bench: str) -> str:
    """The bench's database, migrated to head; refuses a missing URL or a database that holds any row."""
    if not database_url:
        raise SystemExit("set DATABASE_URL (or --database-url) to an empty database of the bench's own")
    url = normalise_url(database_url)
    log(f"migrating {make_safe(url)}")
    upgrade(url)
    try:
        refuse_unless_empty(url)
    except SystemExit as exc:
        raise SystemExit(str(exc).replace("bench/pages.py", bench)) from None
    return url


def time_page(app: Any, client: Any, path: str, repeats: int, warmup: int, headers: dict[str, str] = HTML) -> dict[str, Any]:
    """``repeats`` timed GETs of ``path`` after ``warmup`` untimed ones: p50, p95, the SQL statements of one, its size."""
    for _ in range(warmup):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.status_code, answer.get_data(as_text=True)[:500])
    with counting_queries(app) as counted:
        answer = client.get(path, headers=headers)
    assert answer.status_code == 200, (path, answer.status_code)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return {
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "queries": len(counted),
        "bytes": len(answer.get_data()),
    }


def main() -> None:
    parser = bench_arguments(__doc__, "60 learners, 5 repeats")
    parser.add_argument("--learners", type=int, default=1000)
    args = parser.parse_args()
    learners, repeats, warmup = (60, 5, 2) if args.quick else (args.learners, args.repeats, 5)
    url = prepare_database(args.database_url, "bench/pages.py")
    app = make_app(Path("unused"), DATABASE_URL=url)
    app.extensions["fairpeer.background"].send = lambda *a, **k: None  # the seed calibrates once, itself
    started = time.perf_counter()
    with app.app_context():
        seeded = seed_course(db.session, learners, tag="bench")
        db.session.commit()
        # A learner whose work is scored and released (the page with the most on it).
        released = None
        for learner_id in seeded.submitted_ids:
            own = latest_submission(db.session, seeded.assignment_id, learner_id)
            score = db.session.get(Score, own.id) if own else None
            if score is not None and score.value is not None and score.reviews >= 2:
                released = learner_id
                break
        assert released is not None, "the seed scores most of the work"
    seed_seconds = time.perf_counter() - started
    log(f"seeded {learners} learners in {seed_seconds:.1f}s")
    staff = page_client(app, seeded.staff_id)
    learner = page_client(app, released)
    gradebook = time_page(app, staff, f"/assignments/{seeded.assignment_id}/gradebook", repeats, warmup)
    log(f"gradebook: {gradebook}")
    assignment = time_page(app, learner, f"/assignments/{seeded.assignment_id}", repeats * 2, warmup)
    log(f"learner assignment page: {assignment}")
    app.extensions["fairpeer.db"][0].dispose()
    result = {
        "gradebook_1000": gradebook,
        "learner_assignment": assignment,
        "settings": {
            "learners": learners,
            "repeats": repeats,
            "quick": args.quick,
            "database": make_url_dialect(url),
            "seed_seconds": round(seed_seconds, 1),
        },
        "targets": {"gradebook_1000_p95_ms": 300, "learner_assignment_p95_ms": 50},
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


def make_safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def make_url_dialect(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).get_backend_name()


if __name__ == "__main__":
    main()

"""Allocation under load: N client threads claim and review over HTTP against gunicorn, then the same work
directly against PostgreSQL (the ceiling). Prints one JSON object as its last line.

    DATABASE_URL=postgresql://user@127.0.0.1/db python bench/allocation.py --clients 64 --json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviews.accounts.services import create_user  # noqa: E402  (after the path is set)
from reviews.courses import services as courses  # noqa: E402
from reviews.kernel.db import db, normalise_url  # noqa: E402
from reviews.kernel.migrate import upgrade  # noqa: E402
from reviews.submissions import services as submissions  # noqa: E402
from tests.conftest import make_app  # noqa: E402

REQUIRED, TO_GIVE, EXTRA = 3, 4, 2
RUBRIC = {"criteria": [{"key": "quality", "title": "Quality", "description": "", "max_points": 10}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def setup(database_url: str, clients: int) -> dict[str, Any]:
    """A course, two identical assignments (HTTP phase, raw phase), N x 4 learners who submitted to both."""

    upgrade(database_url)
    app = make_app(Path("unused"), DATABASE_URL=database_url, BACKGROUND_MODE="inline")
    # Scores are not measured here; recalibration is the calibration benchmark's business.
    app.extensions["fairpeer.background"].send = lambda *a, **k: None
    stamp = str(time.time_ns())
    with app.app_context():
        session = db.session
        admin, _ = create_user(session, f"bench-admin-{stamp}@example.org", "Bench admin", is_admin=True)
        course = courses.create_course(session, f"Allocation bench {stamp}", f"alloc-bench-{stamp}", admin.id)
        settings = {
            "prompt": "Write a plan.",
            "template": None,
            "lineage": None,
            "rubric": RUBRIC,
            "reviews_required": REQUIRED,
            "reviews_to_give": TO_GIVE,
            "calibration_share": 0.0,
            "max_attempts": 2,
            "attempt_cooldown_hours": 0,
            "min_words": 5,
            "due_at": None,
            "review_due_at": None,
        }
        http_assignment = courses.create_assignment(session, course, {"title": "HTTP phase", **settings}, admin.id)
        raw_assignment = courses.create_assignment(session, course, {"title": "Raw phase", **settings}, admin.id)
        learners = []
        for i in range(clients * 4):
            user, token = create_user(session, f"bench-{stamp}-{i}@example.org", f"Learner {i}")
            courses.add_member(session, course, user.id, "learner", admin.id)
            learners.append({"id": user.id, "token": token})
        session.commit()
        for i, learner in enumerate(learners):
            user = session.get_one(__import__("reviews.accounts.models", fromlist=["User"]).User, learner["id"])
            text = f"Plan number {i}: a small project with a clear scope, named risks and dated milestones for learner {i}."
            for assignment in (http_assignment, raw_assignment):
                submissions.submit(session, assignment, user, text, [], max_files=5, max_bytes=1 << 20)
            session.commit()
        ids = {"course": course.id, "http": http_assignment.id, "raw": raw_assignment.id}
    app.extensions["fairpeer.db"][0].dispose()
    return {"learners": learners, **ids}


def start_gunicorn(database_url: str, redis_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "bench"}
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:reviews.gunicorn_conf",
        "-w",
        "3",
        "-k",
        "gthread",
        "--threads",
        "8",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "reviews.wsgi:app",
    ]
    # The server's log goes to a file, not a pipe: a pipe nobody reads fills up after a few thousand log lines
    # (one JSON line per request) and then every worker blocks on its next write.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for the server's life, closed with the process
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    process.stderr_log = log  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/openapi.json")
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    log.seek(0)
    raise RuntimeError("gunicorn did not start: " + log.read().decode(errors="replace")[-2000:])


def run_clients(
    clients: int,
    learners: list[dict[str, str]],
    act: Callable[[Any, dict[str, str], list[float]], str],
    connect: Callable[[], Any],
    remaining: Callable[[], int],
    limit_s: float,
) -> dict[str, Any]:
    """N threads, each owning 4 learners, claim and review until every submission has its reviews."""
    stop = threading.Event()
    latencies: list[list[float]] = [[] for _ in range(clients)]
    claims = [0] * clients
    errors: list[str] = []

    def client(index: int) -> None:
        conn = connect()
        mine = learners[index * 4 : (index + 1) * 4]
        active = list(mine)
        try:
            while active and not stop.is_set():
                for learner in list(active):
                    outcome = act(conn, learner, latencies[index])
                    if outcome == "claimed":
                        claims[index] += 1
                    elif outcome == "done":
                        active.remove(learner)
                    elif outcome.startswith("error"):
                        errors.append(outcome)
                        active.remove(learner)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    while time.monotonic() - started < limit_s and any(t.is_alive() for t in threads):
        if remaining() == 0:
            break
        time.sleep(0.25)
    elapsed = time.monotonic() - started
    stop.set()
    for t in threads:
        t.join(30)
    flat = [x for per in latencies for x in per]
    return {"claims": sum(claims), "elapsed": elapsed, "latencies": flat, "errors": errors[:5]}


def http_phase(port: int, assignment_id: str) -> Callable[[Any, dict[str, str], list[float]], str]:
    def act(conn: http.client.HTTPConnection, learner: dict[str, str], latencies: list[float]) -> str:
        headers = {"Authorization": f"Bearer {learner['token']}", "Content-Type": "application/json"}
        t0 = time.perf_counter()
        conn.request("POST", f"/api/assignments/{assignment_id}/review-claims", body=b"", headers=headers)
        response = conn.getresponse()
        body = response.read()
        latencies.append((time.perf_counter() - t0) * 1000)
        if response.status == 404:
            return "done"
        if response.status not in (200, 201):
            return f"error claim {response.status} {body[:200]!r}"
        claim_id = json.loads(body)["claim_id"]
        conn.request("POST", f"/api/review-claims/{claim_id}/review", body=json.dumps({"scores": {"quality": 7}}), headers=headers)
        review = conn.getresponse()
        review.read()
        if review.status != 201:
            return f"error review {review.status}"
        return "claimed"

    return act


PICK = """
SELECT s.id FROM submissions s
WHERE s.assignment_id = %(a)s AND s.status = 'active' AND s.kind = 'learner' AND s.author_id <> %(r)s
  AND NOT EXISTS (SELECT 1 FROM exposures e WHERE e.submission_id = s.id AND e.viewer_id = %(r)s)
  AND s.review_load < %(cap)s
ORDER BY s.review_load, s.created_at, s.id LIMIT 1 FOR UPDATE OF s SKIP LOCKED
"""


def raw_phase(assignment_id: str) -> Callable[[Any, dict[str, str], list[float]], str]:
    import secrets
    from datetime import UTC, datetime, timedelta

    def act(conn: Any, learner: dict[str, str], latencies: list[float]) -> str:
        t0 = time.perf_counter()
        now = datetime.now(UTC).replace(tzinfo=None)
        with conn.transaction():
            row = None
            for cap in (REQUIRED, REQUIRED + EXTRA):
                row = conn.execute(PICK, {"a": assignment_id, "r": learner["id"], "cap": cap}).fetchone()
                if row:
                    break
            if row is None:
                latencies.append((time.perf_counter() - t0) * 1000)
                return "done"
            claim_id = secrets.token_urlsafe(16)
            conn.execute("UPDATE submissions SET review_load = review_load + 1 WHERE id = %s", (row[0],))
            conn.execute(
                "INSERT INTO review_claims (id, created_at, assignment_id, submission_id, reviewer_id, status, expires_at) "
                "VALUES (%s, %s, %s, %s, %s, 'live', %s)",
                (claim_id, now, assignment_id, row[0], learner["id"], now + timedelta(minutes=30)),
            )
            conn.execute(
                "INSERT INTO exposures (id, created_at, submission_id, viewer_id, claim_id) VALUES (%s, %s, %s, %s, %s)",
                (secrets.token_urlsafe(16), now, row[0], learner["id"], claim_id),
            )
        latencies.append((time.perf_counter() - t0) * 1000)
        with conn.transaction():
            conn.execute("UPDATE review_claims SET status = 'completed', completed_at = %s WHERE id = %s", (now, claim_id))
            conn.execute("UPDATE submissions SET reviews_done = reviews_done + 1 WHERE id = %s", (row[0],))
            conn.execute(
                "INSERT INTO reviews (id, created_at, claim_id, assignment_id, submission_id, reviewer_id, scores, comments, "
                "overall_comment, discounted) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '', false)",
                (secrets.token_urlsafe(16), now, claim_id, assignment_id, row[0], learner["id"], '{"quality": 7}', "{}"),
            )
        return "claimed"

    return act


def audit(conninfo: str, assignment_id: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        done = [r[0] for r in conn.execute("SELECT reviews_done FROM submissions WHERE assignment_id = %s", (assignment_id,))]
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT reviewer_id, submission_id FROM review_claims WHERE assignment_id = %s "
            "GROUP BY reviewer_id, submission_id HAVING count(*) > 1) t",
            (assignment_id,),
        ).fetchone()[0]
        self_claims = conn.execute(
            "SELECT count(*) FROM review_claims c JOIN submissions s ON s.id = c.submission_id "
            "WHERE c.assignment_id = %s AND c.reviewer_id = s.author_id",
            (assignment_id,),
        ).fetchone()[0]
    over = sum(1 for d in done if d > REQUIRED + EXTRA)
    return {
        "double_claims": int(twice) + over,
        "self_claims": int(self_claims),
        "under_reviewed": sum(1 for d in done if d < REQUIRED),
        "review_spread": (max(done) - min(done)) if done else 0,
    }


def remaining_counter(conninfo: str, assignment_id: str) -> Callable[[], int]:
    import psycopg

    conn = psycopg.connect(conninfo, autocommit=True)

    def remaining() -> int:
        return int(
            conn.execute(
                "SELECT count(*) FROM submissions WHERE assignment_id = %s AND reviews_done < %s", (assignment_id, REQUIRED)
            ).fetchone()[0]
        )

    remaining.close = conn.close  # type: ignore[attr-defined]
    return remaining


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=300.0, help="time limit of each phase")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgresql"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (the benchmark measures SKIP LOCKED claims there).")
    import psycopg

    conninfo = normalise_url(database_url).replace("postgresql+psycopg://", "postgresql://")
    prepared = setup(database_url, args.clients)
    port = free_port()
    server = start_gunicorn(database_url, args.redis_url, port)
    try:
        counter = remaining_counter(conninfo, prepared["http"])
        web = run_clients(
            args.clients,
            prepared["learners"],
            http_phase(port, prepared["http"]),
            lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=60),
            counter,
            args.seconds,
        )
        counter.close()  # type: ignore[attr-defined]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    web_audit = audit(conninfo, prepared["http"])
    counter = remaining_counter(conninfo, prepared["raw"])
    raw = run_clients(
        args.clients,
        prepared["learners"],
        raw_phase(prepared["raw"]),
        lambda: psycopg.connect(conninfo, autocommit=True),
        counter,
        args.seconds,
    )
    counter.close()  # type: ignore[attr-defined]
    claims_per_s = web["claims"] / web["elapsed"] if web["elapsed"] else 0.0
    raw_per_s = raw["claims"] / raw["elapsed"] if raw["elapsed"] else 0.0
    result = {
        "clients": args.clients,
        "claims_per_s": round(claims_per_s, 1),
        "raw_claims_per_s": round(raw_per_s, 1),
        "ratio": round(claims_per_s / raw_per_s, 3) if raw_per_s else None,
        "p50_ms": round(percentile(web["latencies"], 0.5), 2),
        "p99_ms": round(percentile(web["latencies"], 0.99), 2),
        "mean_ms": round(statistics.fmean(web["latencies"]), 2) if web["latencies"] else None,
        **web_audit,
        "seconds": round(web["elapsed"], 2),
        "raw_seconds": round(raw["elapsed"], 2),
        "raw_audit": audit(conninfo, prepared["raw"]),
        "errors": web["errors"] + raw["errors"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""One logical request, one attempt: a gunicorn worker killed at its commit leaves the submission and its
Idempotency-Key's answer together, both or neither, so the client's retry never makes attempt 2.

The attack as found from outside: a crash after the submission committed but before its key was marked done
left the key ``running``; a retry a couple of minutes later took the key over and created attempt 2, which
superseded attempt 1. Here the worker kills itself (SIGKILL, through a test seam) right after, or right before,
the commit that inserts the submission; the retry comes after the key's stale time (2 s here, minutes in
production).
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from reviews.kernel.db import db
from reviews.submissions.models import Submission
from tests.conftest import build_world, essay
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration

STALE_SECONDS = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(port: int, path: str, token: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, str], Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key}
        conn.request("POST", path, body=json.dumps(body), headers=headers)
        reply = conn.getresponse()
        return reply.status, dict(reply.getheaders()), json.loads(reply.read() or b"null")
    finally:
        conn.close()


def attempts_of(app: Flask, assignment_id: str, author_id: str) -> list[tuple[int, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(Submission.attempt, Submission.id).where(Submission.assignment_id == assignment_id, Submission.author_id == author_id)
        )
        return sorted((int(attempt), str(sid)) for attempt, sid in rows)


@pytest.mark.parametrize("when", ["after", "before"])
def test_a_worker_killed_at_the_commit_leaves_one_attempt(
    when: str, stack: Stack, make_web_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_web_app(stack.database_url, stack.redis_url)
    world = build_world(app, app.test_client(), n_learners=1, max_attempts=3)
    learner = world.learners[0]
    marker = tmp_path / "killed"
    port = free_port()
    web = stack.start_web(
        port,
        seam=("die-at-commit", f"{when}:submissions"),
        FAIRPEER_IDEMPOTENCY_STALE_SECONDS=str(STALE_SECONDS),
        FAIRPEER_SEAM_MARKER=str(marker),
    )
    path = f"/api/assignments/{world.assignment_id}/submissions"
    body = {"text": essay(1)}

    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        post(port, path, learner.token, body, key="one-logical-request")
    assert marker.read_text(encoding="utf-8").startswith(f"{when} commit"), web.log_tail()
    committed = attempts_of(app, world.assignment_id, learner.id)
    assert committed == ([] if when == "before" else [(1, committed[0][1])])

    time.sleep(STALE_SECONDS + 1)  # the client retries once the key has gone stale
    status, headers, answer = post(port, path, learner.token, body, key="one-logical-request")
    assert status == 201, answer
    assert answer["attempt"] == 1
    after = attempts_of(app, world.assignment_id, learner.id)
    assert after == [(1, answer["id"])], "one logical request made one attempt"
    if when == "after":
        # The first request's commit carried the key's answer too: the retry is a replay of it.
        assert headers.get("Idempotent-Replayed") == "true" and answer["id"] == committed[0][1]
    # And the stored answer stays: a third try replays it.
    status, headers, again = post(port, path, learner.token, body, key="one-logical-request")
    assert (status, headers.get("Idempotent-Replayed"), again) == (201, "true", answer)
    assert web.alive(), "gunicorn's master replaced the killed worker and kept serving"

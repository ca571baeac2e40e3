"""/metrics and the request id, through the real API on SQLite (docs/api.md, Metrics and request ids).

The instruments live for the whole test process, so every check compares a scrape before and after.
"""

from __future__ import annotations

import io
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from reviews.kernel import logs, metrics
from reviews.kernel.db import db, utcnow
from reviews.submissions.models import Submission
from tests.conftest import World, build_world

TOKEN = "metrics-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SIMILARITY = "reviews.integrity.tasks.check_similarity"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"METRICS_TOKEN": TOKEN}


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client: FlaskClient) -> Samples:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return parse(response.get_data(as_text=True))


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every log line written during the test, formatted as production formats them (at emit time)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]


# ---------------------------------------------------------------- access


@pytest.mark.parametrize("app_config", [{}], indirect=False)
def test_metrics_answer_404_when_no_token_is_configured(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=AUTH).status_code == 404


def test_metrics_need_the_token(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert b"fairpeer_" not in response.get_data()
    assert client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200
    assert client.get("/metrics", headers=AUTH).status_code == 200


def test_token_comparison_is_constant_time_and_exact() -> None:
    assert metrics.token_matches(f"Bearer {TOKEN}", TOKEN)
    assert not metrics.token_matches(f"Bearer {TOKEN}x", TOKEN)
    assert not metrics.token_matches(f"Bearer {TOKEN[:-1]}", TOKEN)
    assert not metrics.token_matches(None, TOKEN)
    assert not metrics.token_matches("Bearer ", TOKEN)


# ---------------------------------------------------------------- what is counted


def test_requests_are_counted_by_route_method_and_status(world: World) -> None:
    route = "/api/assignments/<assignment_id>"
    before = scrape(world.client)
    for _ in range(3):
        assert world.staff.get(f"/api/assignments/{world.assignment_id}").status_code == 200
    assert world.outsider.get(f"/api/assignments/{world.assignment_id}").status_code == 404
    assert world.client.get("/no/such/page").status_code == 404
    after = scrape(world.client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("fairpeer_http_requests_total", endpoint=route, method="GET", status="200") == 3
    assert moved("fairpeer_http_requests_total", endpoint=route, method="GET", status="404") == 1
    assert moved("fairpeer_http_requests_total", endpoint="<unmatched>", method="GET", status="404") == 1
    assert moved("fairpeer_http_request_duration_seconds_count", endpoint=route, method="GET") == 4
    assert moved("fairpeer_http_request_duration_seconds_sum", endpoint=route, method="GET") > 0
    # The route, never the raw path: no id ever becomes a label value.
    assert not any(world.assignment_id in str(labels) for _, labels in after)


def test_claims_reviews_rejections_tasks_and_calibration_move(world: World) -> None:
    a, b = world.learners[:2]
    before = scrape(world.client)
    assert world.submit(a, n=0).status_code == 201
    assert world.submit(b, n=1).status_code == 201
    refused = world.submit(a, text=". . . . . . . . . . . .")
    assert refused.status_code == 422
    codes = [r["code"] for r in refused.get_json()["error"]["details"]["reasons"]]
    claim = world.claim(a)
    assert claim.status_code == 201
    assert world.review(a, claim.get_json()["claim_id"]).status_code == 201
    after = scrape(world.client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("fairpeer_review_claims_total") == 1
    assert moved("fairpeer_reviews_total") == 1
    assert codes and all(moved("fairpeer_submission_rejections_total", reason=code) == 1 for code in codes)
    assert moved("fairpeer_task_runs_total", task=SIMILARITY) == 2  # each accepted submission is checked once
    assert moved("fairpeer_task_failures_total", task=SIMILARITY) == 0
    assert moved("fairpeer_task_duration_seconds_count", task=SIMILARITY) == 2
    assert moved("fairpeer_task_runs_total", task="reviews.scoring.tasks.recalibrate_assignment") == 1
    assert moved("fairpeer_calibration_duration_seconds_count") == 1
    assert moved("fairpeer_calibration_duration_seconds_sum") > 0


def test_a_refused_claim_is_not_counted(world: World) -> None:
    before = scrape(world.client)
    assert world.claim(world.learners[0]).status_code == 403  # submit first: the transaction rolls back
    assert value(scrape(world.client), "fairpeer_review_claims_total") == value(before, "fairpeer_review_claims_total")


def test_counts_wait_for_the_commit(app: Flask) -> None:
    with app.app_context():
        start = value(parse(metrics.exposition().decode()), "fairpeer_reviews_total")
        metrics.review_stored(db.session)
        db.session.rollback()
        metrics.review_stored(db.session)
        assert value(parse(metrics.exposition().decode()), "fairpeer_reviews_total") == start  # not yet committed
        db.session.commit()
        assert value(parse(metrics.exposition().decode()), "fairpeer_reviews_total") == start + 1


def test_cases_opened_by_kind_unresolved_cases_and_the_review_sla(world: World, app: Flask) -> None:
    before = scrape(world.client)
    assert world.submit(world.learners[0], n=0).status_code == 201
    submission = world.learners[0].get(f"/api/assignments/{world.assignment_id}/progress").get_json()["submission"]["id"]
    report = world.learners[0].post(f"/api/submissions/{submission}/reports", json={"kind": "other", "message": "Please look."})
    assert report.status_code == 201
    with app.app_context():
        db.session.execute(update(Submission).values(created_at=utcnow() - timedelta(hours=100)))
        db.session.commit()
    assert app.extensions["fairpeer.background"].run_now("reviews.allocation.tasks.tend_queue", ())["needs_reviews"] == 1
    after = scrape(world.client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("fairpeer_cases_opened_total", kind="other") == 1
    assert moved("fairpeer_cases_opened_total", kind="needs_reviews") == 1
    assert moved("fairpeer_review_sla_breaches_total") == 1
    # Read from this database when scraped: exactly its cases.
    assert value(after, "fairpeer_cases_unresolved", kind="other", status="open") == 1
    assert value(after, "fairpeer_cases_unresolved", kind="needs_reviews", status="open") == 1
    assert 0 <= value(after, "fairpeer_case_oldest_unresolved_age_seconds", kind="other") < 600
    assert value(after, "fairpeer_queue_depth", queue="inline") == 0


def test_a_failing_task_is_counted_as_run_and_failed() -> None:
    name = "tests.unit.kernel.test_metrics.exploding"
    before = parse(metrics.exposition().decode())
    with pytest.raises(RuntimeError), metrics.task_run(name):
        raise RuntimeError("boom")
    after = parse(metrics.exposition().decode())
    assert value(after, "fairpeer_task_runs_total", task=name) - value(before, "fairpeer_task_runs_total", task=name) == 1
    assert value(after, "fairpeer_task_failures_total", task=name) - value(before, "fairpeer_task_failures_total", task=name) == 1


def test_a_broken_scrape_gauge_leaves_the_others(app: Flask) -> None:
    def broken() -> dict[tuple[str, ...], float]:
        raise ConnectionError("redis is down")

    gauges = [
        metrics.ScrapeGauge("fairpeer_broken", "Never read.", (), broken),
        metrics.ScrapeGauge("fairpeer_fine", "Read.", (), lambda: {(): 2.0}),
    ]
    with app.app_context():
        samples = parse(metrics.exposition(gauges).decode())
    assert value(samples, "fairpeer_fine") == 2.0
    assert not any(name == "fairpeer_broken" for name, _ in samples)


def test_the_workers_metrics_endpoint_needs_the_token() -> None:
    server = metrics.serve_metrics("127.0.0.1:0", TOKEN)
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        for path, headers, status in (("/metrics", {}, 401), ("/metrics", {"Authorization": "Bearer no"}, 401), ("/other", AUTH, 404)):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(url + path, headers=headers), timeout=5)
            assert refused.value.code == status
            refused.value.close()
        with urllib.request.urlopen(urllib.request.Request(url + "/metrics", headers=AUTH), timeout=5) as answer:
            assert answer.status == 200
            assert "fairpeer_task_runs" in answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- request ids


def test_every_answer_has_a_request_id_and_a_sane_incoming_one_is_kept(client: FlaskClient) -> None:
    first, second = client.get("/api/openapi.json"), client.get("/api/openapi.json")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert len(first.headers["X-Request-ID"]) == 32
    assert client.get("/no/such/page").headers["X-Request-ID"]
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.01"}).headers["X-Request-ID"] == "lb-7f3a.01"
    for insane in ("x" * 200, "a b", "<script>", "", "-leading-dash"):
        kept = client.get("/api/openapi.json", headers={"X-Request-ID": insane}).headers["X-Request-ID"]
        assert kept != insane and len(kept) == 32


def test_a_requests_log_lines_and_its_tasks_carry_its_id(world: World, json_lines: io.StringIO) -> None:
    answer = world.learners[0].post(
        f"/api/assignments/{world.assignment_id}/submissions", json={"text": "x"}, headers={"X-Request-ID": "req-reject-1"}
    )
    assert answer.status_code == 422 and answer.headers["X-Request-ID"] == "req-reject-1"
    accepted = world.submit(world.learners[0], n=0)
    assert accepted.status_code == 201
    rid = accepted.headers["X-Request-ID"]
    written = lines(json_lines)
    access = [line for line in written if line["logger"] == "reviews.requests"]
    refused = next(line for line in access if line.get("request_id") == "req-reject-1")
    assert refused["method"] == "POST" and refused["status"] == 422 and isinstance(refused["ms"], float)
    assert refused["route"] == "/api/assignments/<assignment_id>/submissions"
    task_lines = [line for line in written if line.get("task") == SIMILARITY]
    assert task_lines and task_lines[-1]["request_id"] == rid, task_lines
    assert all(world.assignment_id not in line["message"] for line in access)  # routes, not paths


def test_the_embedded_runner_carries_the_request_id(app: Flask, json_lines: io.StringIO) -> None:
    import time

    from reviews.kernel.background import PING

    background = app.extensions["fairpeer.background"]
    background.mode = "embedded"
    background.start_embedded([])
    try:
        token = logs.request_id.set("req-embedded-1")  # as _after_commit does with the id enqueue recorded
        try:
            background.send(PING, ())
        finally:
            logs.request_id.reset(token)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(line.get("task") == PING for line in lines(json_lines)):
            time.sleep(0.05)
    finally:
        background.stop()
    done = [line for line in lines(json_lines) if line.get("task") == PING]
    assert done and done[0]["request_id"] == "req-embedded-1"


def test_a_world_without_a_token_still_counts(app: Flask, client: FlaskClient) -> None:
    """Counting does not depend on the endpoint being served."""
    app.config["METRICS_TOKEN"] = None
    world = build_world(app, client, n_learners=2)
    before = value(parse(metrics.exposition().decode()), "fairpeer_review_claims_total")
    for i, learner in enumerate(world.learners):
        assert world.submit(learner, n=i).status_code == 201
    assert world.claim(world.learners[0]).status_code == 201
    assert client.get("/metrics").status_code == 404
    assert value(parse(metrics.exposition().decode()), "fairpeer_review_claims_total") == before + 1

"""/metrics and request ids on the real stack: gunicorn with 4 web processes, a `fairpeer worker`, PostgreSQL, Redis.

- The request counter that /metrics shows is the sum over the 4 processes, exactly, also after one of them died.
- A request that enqueues a task (a submission: its similarity check) gives a worker log line with its X-Request-ID.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from flask import Flask
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import build_world, essay
from tests.integration.conftest import Stack, service_env, wait_for

pytestmark = pytest.mark.integration

TOKEN = "integration-metrics-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WEB_PROCESSES = 4
REQUESTS = 200
ROUTE = "/api/assignments/<assignment_id>"
SIMILARITY = "reviews.integrity.tasks.check_similarity"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Gunicorn:
    popen: subprocess.Popen[bytes]
    port: int
    log_path: Path
    log_file: IO[bytes]
    metrics_dir: Path

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            all_headers = {**({"Content-Type": "application/json"} if payload is not None else {}), **(headers or {})}
            conn.request(method, path, body=payload, headers=all_headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def scrape(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        status, headers, body = self.request("GET", "/metrics", headers=AUTH)
        assert status == 200, body[:500]
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return parse(body.decode())

    def worker_pids(self) -> list[int]:
        """The web processes gunicorn runs now (its children)."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.popen.pid)], capture_output=True, text=True, check=False).stdout
        return [int(pid) for pid in out.split()]

    def log_tail(self, lines: int = 60) -> str:
        self.log_file.flush()
        return "--- gunicorn log ---\n" + "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def start_gunicorn(stack: Stack, tmp_path: Path) -> Iterator[Callable[[], Gunicorn]]:
    started: list[Gunicorn] = []

    def start() -> Gunicorn:
        port = free_port()
        metrics_dir = tmp_path / "web-metrics"
        metrics_dir.mkdir(exist_ok=True)
        # A value file left by an earlier server start: emptied on start, never counted.
        (metrics_dir / "counter_999999.db").write_bytes(b"stale")
        env = service_env(stack.database_url, stack.redis_url, METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
        log_path = tmp_path / "gunicorn.log"
        log_file = open(log_path, "wb")  # noqa: SIM115 - closed in teardown
        argv = [sys.executable, "-m", "gunicorn", "-c", "python:reviews.gunicorn_conf", "-w", str(WEB_PROCESSES)]
        argv += ["-b", f"127.0.0.1:{port}", "reviews.wsgi:app"]
        popen = subprocess.Popen(
            argv, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        server = Gunicorn(popen, port, log_path, log_file, metrics_dir)
        started.append(server)

        def ready() -> bool:
            if popen.poll() is not None:
                pytest.fail(f"gunicorn exited with {popen.returncode}\n{server.log_tail()}", pytrace=False)
            with contextlib.suppress(OSError):
                return server.request("GET", "/api/openapi.json")[0] == 200 and len(server.worker_pids()) == WEB_PROCESSES
            return False

        wait_for(ready, 60, "gunicorn to answer with all its web processes", details=server.log_tail)
        return server

    yield start
    for server in started:
        if server.popen.poll() is None:
            server.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.popen.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(server.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.popen.wait(timeout=15)
        server.log_file.close()


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {key(s.name, **s.labels): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def requests_by_process(metrics_dir: Path, route: str) -> dict[str, float]:
    """From each process's own value file: how many GETs of the route it answered with 200."""
    out: dict[str, float] = {}
    for path in sorted(metrics_dir.glob("counter_*.db")):
        pid = path.stem.removeprefix("counter_")
        for metric in MultiProcessCollector.merge([str(path)]):
            for sample in metric.samples:
                if sample.name == "fairpeer_http_requests_total" and sample.labels == {"endpoint": route, "method": "GET", "status": "200"}:
                    out[pid] = out.get(pid, 0) + sample.value
    return out


def test_metrics_add_up_across_four_web_processes(
    stack: Stack, make_web_app: Callable[..., Flask], start_gunicorn: Callable[[], Gunicorn], capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_web_app(stack.database_url, stack.redis_url)
    world = build_world(app, app.test_client(), n_learners=1)
    server = start_gunicorn()
    assert not (server.metrics_dir / "counter_999999.db").exists(), "a stale value file survived the server start"
    status, _, _ = server.request("GET", "/metrics")
    assert status == 401
    path, headers = f"/api/assignments/{world.assignment_id}", world.staff.headers()

    def get(_: int) -> int:
        return server.request("GET", path, headers=headers)[0]

    # Until every process has booted and answered something (another route, so not counted below): a process
    # still importing the app takes no connections, and the first one up would take them all.
    def all_answered() -> bool:
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda _: server.request("GET", "/api/openapi.json"), range(32)))
        answered = {int(p.stem.removeprefix("counter_")) for p in server.metrics_dir.glob("counter_*.db")}
        return set(server.worker_pids()) <= answered

    wait_for(all_answered, 60, "every web process to answer", details=server.log_tail)

    # Many clients at once, each request on a new connection (no keep-alive): every process takes some.
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(get, range(REQUESTS)))
    assert statuses == [200] * REQUESTS
    per_process = requests_by_process(server.metrics_dir, ROUTE)
    scraped = server.scrape()
    total = scraped.get(key("fairpeer_http_requests_total", endpoint=ROUTE, method="GET", status="200"))
    latencies = scraped.get(key("fairpeer_http_request_duration_seconds_count", endpoint=ROUTE, method="GET"))
    with capsys.disabled():
        print(f"\n4 web processes: {REQUESTS} requests, /metrics says {total}, per process {sorted(per_process.values())}")
    assert len(per_process) >= 2, f"the requests did not spread over the processes: {per_process}"
    assert sum(per_process.values()) == REQUESTS
    assert total == REQUESTS and latencies == REQUESTS
    assert scraped.get(key("fairpeer_queue_depth", queue="fairpeer")) is not None

    # A web process dies and gunicorn starts another: what the dead one counted stays in the sum.
    victim = int(max(per_process, key=lambda pid: per_process[pid]))
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: victim not in server.worker_pids() and len(server.worker_pids()) == WEB_PROCESSES,
        30,
        "gunicorn to replace the killed web process",
        details=server.log_tail,
    )
    extra = [server.request("GET", path, headers=headers)[0] for _ in range(10)]
    assert extra == [200] * 10
    after = server.scrape()
    assert after[key("fairpeer_http_requests_total", endpoint=ROUTE, method="GET", status="200")] == REQUESTS + 10


def test_a_task_logs_the_request_id_of_the_request_that_enqueued_it(
    stack: Stack, make_web_app: Callable[..., Flask], start_gunicorn: Callable[[], Gunicorn]
) -> None:
    worker_metrics = f"127.0.0.1:{free_port()}"
    worker = stack.start_worker(METRICS_TOKEN=TOKEN, FAIRPEER_WORKER_METRICS_BIND=worker_metrics)
    app = make_web_app(stack.database_url, stack.redis_url)
    stack.wait_ready(app, worker)
    world = build_world(app, app.test_client(), n_learners=1)
    server = start_gunicorn()

    request_id = f"it-{secrets.token_hex(8)}"
    status, headers, body = server.request(
        "POST",
        f"/api/assignments/{world.assignment_id}/submissions",
        {"text": essay(0)},
        {**world.learners[0].headers(), "X-Request-ID": request_id},
    )
    assert status == 201, body
    assert headers["X-Request-ID"] == request_id
    submission_id = json.loads(body)["id"]

    def worker_lines() -> list[dict[str, Any]]:
        worker.log_file.flush()
        found = []
        for line in worker.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                parsed = json.loads(line)
                if isinstance(parsed, dict) and parsed.get("request_id") == request_id:
                    found.append(parsed)
        return found

    lines = wait_for(
        lambda: [line for line in worker_lines() if line.get("task") == SIMILARITY] and worker_lines(),
        60,
        f"a worker log line with request_id {request_id}",
        details=lambda: f"{worker.log_tail()}\n{server.log_tail()}",
    )
    done = next(line for line in lines if line.get("task") == SIMILARITY)
    assert done["message"].startswith(f"task {SIMILARITY} done") and done["task_id"], done
    # The web process's own line for that request carries it too.
    web = [json.loads(line) for line in server.log_path.read_text(errors="replace").splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == request_id and line.get("status") == 201 for line in web), server.log_tail()
    with app.app_context():
        from reviews.kernel.db import db
        from reviews.submissions.models import Submission

        assert db.session.get_one(Submission, submission_id).similarity_checked_at is not None

    # The worker's pool serves its own metrics (same token): the check ran once, in one of its processes.
    host, _, port = worker_metrics.partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/metrics")
        assert conn.getresponse().status == 401
    finally:
        conn.close()
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/metrics", headers=AUTH)
        answer = conn.getresponse()
        assert answer.status == 200
        samples = parse(answer.read().decode())
    finally:
        conn.close()
    assert samples[key("fairpeer_task_runs_total", task=SIMILARITY)] == 1
    assert samples.get(key("fairpeer_task_failures_total", task=SIMILARITY), 0) == 0

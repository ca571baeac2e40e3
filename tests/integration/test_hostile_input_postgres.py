"""The outside probe on the production stack: the hostile set of tests/hostile.py (NUL and lone surrogates in every
string, file name, query parameter and path id; JSON 100,000 and 1,000 deep; 5,000-digit numbers; NaN and
Infinity; dates at the calendar's edges) sent over HTTP to gunicorn serving reviews.wsgi:app on PostgreSQL, which
refuses NUL in text outright. Every one must come back 4xx with its code, as on SQLite."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import build_world
from tests.hostile import Attack, attacks, build_scene, check, operations
from tests.integration.conftest import Proc, Stack, service_env, wait_for

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(stack: Stack, workdir: Path) -> tuple[Proc, int]:
    """gunicorn with the production config module, one process, on a free local port; stopped with the stack."""
    port = _free_port()
    script = Path(sys.executable).with_name("gunicorn")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "gunicorn"]
    argv += ["-c", "python:reviews.gunicorn_conf", "-w", "1", "--threads", "4", "-b", f"127.0.0.1:{port}", "reviews.wsgi:app"]
    log_path = workdir / "gunicorn.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 - closed by Proc.close in the stack's teardown
    popen = subprocess.Popen(
        argv,
        env=service_env(stack.database_url, stack.redis_url),
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc = Proc("gunicorn", popen, log_path, log_file)
    stack.procs.append(proc)
    return proc, port


def send(port: int, token: str, attack: Attack) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}", **attack.headers}
    if attack.content_type:
        headers["Content-Type"] = attack.content_type
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(attack.operation.method, attack.path, body=attack.body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_hostile_inputs_answered_4xx_by_gunicorn_on_postgres(stack: Stack, make_web_app: Callable[..., Flask], tmp_path: Path) -> None:
    # The scene (real ids of every kind) is made in this process on the test's PostgreSQL database.
    app = make_web_app(stack.database_url)
    scene = build_scene(build_world(app, app.test_client()))
    audit = f"/api/courses/{scene.ids['course_id']}/audit"
    before = scene.callers["staff"].get(audit).get_json()["events"]
    gunicorn, port = start_gunicorn(stack, tmp_path)

    def answers() -> bool:
        if not gunicorn.alive():
            pytest.fail(f"gunicorn exited with {gunicorn.popen.returncode}\n{gunicorn.log_tail()}", pytrace=False)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/api/openapi.json")
            return connection.getresponse().status > 0
        except OSError:
            return False
        finally:
            connection.close()

    wait_for(answers, 60, "gunicorn to answer", details=gunicorn.log_tail)
    sent = 0
    for attack in attacks(operations(app.url_map), scene.ids, scene.bodies):
        if not attack.over_http:
            continue
        token = scene.callers[attack.caller].token
        status, body = send(port, token, attack)
        twin = send(port, token, attack.same_as) if attack.same_as is not None else None
        sent += 1 + (twin is not None)
        try:
            check(attack, status, body, twin)
        except AssertionError:
            print(gunicorn.log_tail())
            raise
    assert sent > 1000, sent
    assert "Traceback" not in gunicorn.log_path.read_text(errors="replace"), gunicorn.log_tail(200)
    assert scene.callers["staff"].get(audit).get_json()["events"] == before, "a hostile request changed something"

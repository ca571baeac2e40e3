"""The inflating .docx, as an attacker sends it, to the real web server (gunicorn on PostgreSQL and Redis).

The finding: a 294 KB .docx whose XML inflates to 89 MB kept a web worker busy for 84-98 s and grew it past 2 GB;
two at once took 3.3 GB and a neighbour's request timed out. Here one gunicorn process (4 threads) takes the
attack while another learner keeps asking for their progress: the documents are refused with a sentence within
5 s, the neighbour is answered within 1 s each time, and the web process does not grow.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import World, build_world
from tests.documents import docx_with_body
from tests.integration.conftest import Proc, Stack, service_env

pytestmark = pytest.mark.integration

START_SECONDS = 60.0


def inflating_docx() -> bytes:
    """The finding's file: about 300 KB that inflates to 90 MB of XML."""
    chunk = b"<w:p><w:r><w:t>word word word</w:t></w:r></w:p>" * 20_000
    return docx_with_body(iter([chunk] * (90 * 1024 * 1024 // len(chunk))))


def costly_docx() -> bytes:
    """Within the archive limits (14 MB of XML), but seconds of parsing: it reaches the sandboxed parser."""
    return docx_with_body(
        b"<w:p>" + b"".join(b"<w:r><w:rPr><w:b/></w:rPr><w:t>word%d </w:t></w:r>" % (i % 97) for _ in range(10)) + b"</w:p>"
        for i in range(19_000)
    )


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    seconds: float


def call(base: str, token: str, path: str, *, method: str = "GET", files: dict[str, bytes] | None = None, timeout: float = 120) -> Answer:
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if files is not None:
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n\r\n'.encode()]
        for name, content in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                "Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\r\n\r\n".encode()
                + content
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        data = b"".join(parts)
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except OSError as error:  # refused, reset or timed out: no answer is an answer too (status 0)
        return Answer(0, {"transport_error": repr(error)}, time.monotonic() - started)
    return Answer(status, json.loads(raw or b"{}"), time.monotonic() - started)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(stack: Stack, **settings: str) -> tuple[str, Proc]:
    """One gunicorn process with 4 threads (the production config module), on the test's database and Redis."""
    port = free_port()
    log_path = stack.workdir / "gunicorn.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 - closed by Proc.close in the stack's teardown
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:reviews.gunicorn_conf", "-w", "1", "--threads", "4"]
    argv += ["-b", f"127.0.0.1:{port}", "reviews.wsgi:app"]
    try:
        popen = subprocess.Popen(
            argv,
            env=service_env(stack.database_url, stack.redis_url, **settings),
            cwd=stack.workdir,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except BaseException:
        log_file.close()
        raise
    proc = Proc("gunicorn", popen, log_path, log_file)
    stack.procs.append(proc)
    return f"http://127.0.0.1:{port}", proc


def web_worker_pid(master: Proc) -> int:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def serve(stack: Stack, make_web_app: Callable[..., Flask], **settings: str) -> tuple[str, World, Proc]:
    app = make_web_app(stack.database_url)  # the course and its members, written straight to PostgreSQL
    world = build_world(app, app.test_client(), n_learners=3)
    base, proc = start_gunicorn(stack, **settings)
    deadline = time.monotonic() + START_SECONDS
    while True:
        if not proc.alive():
            pytest.fail(f"gunicorn exited with {proc.popen.returncode}\n{proc.log_tail()}", pytrace=False)
        if call(base, world.learners[2].token, f"/api/assignments/{world.assignment_id}", timeout=5).status == 200:
            return base, world, proc
        if time.monotonic() > deadline:
            pytest.fail(f"gunicorn did not answer within {START_SECONDS:.0f}s\n{proc.log_tail()}", pytrace=False)
        time.sleep(0.2)


def attack(base: str, world: World, documents: list[bytes]) -> tuple[list[Answer], list[Answer]]:
    """Each document posted by its own learner, all at once, while another learner asks for their progress
    again and again until every post has its answer."""
    refusals: list[Answer | None] = [None] * len(documents)
    neighbour: list[Answer] = []
    started = threading.Barrier(len(documents) + 1)

    def post(i: int) -> None:
        started.wait()
        path = f"/api/assignments/{world.assignment_id}/submissions"
        refusals[i] = call(base, world.learners[i].token, path, method="POST", files={"essay.docx": documents[i]}, timeout=60)

    posts = [threading.Thread(target=post, args=(i,)) for i in range(len(documents))]
    for thread in posts:
        thread.start()
    started.wait()
    time.sleep(0.05)  # the posts are in flight
    progress = f"/api/assignments/{world.assignment_id}/progress"
    while True:
        neighbour.append(call(base, world.learners[-1].token, progress, timeout=30))
        if not any(thread.is_alive() for thread in posts):
            break
    for thread in posts:
        thread.join()
    assert all(answer is not None for answer in refusals)
    return [answer for answer in refusals if answer is not None], neighbour


def assert_refused_with_a_sentence(answer: Answer) -> None:
    assert answer.status == 422, answer
    error = answer.body["error"]
    assert error["code"] == "submission_rejected"
    assert [reason["code"] for reason in error["details"]["reasons"]] == ["file_too_complex"], error
    assert "essay.docx" in error["message"] and "paste your answer as text" in error["message"], error["message"]
    assert answer.seconds < 5, answer.seconds


def test_inflating_docx_is_refused_in_seconds_while_a_neighbour_is_answered(stack: Stack, make_web_app: Callable[..., Flask]) -> None:
    base, world, proc = serve(stack, make_web_app)  # the production limits
    worker = web_worker_pid(proc)
    rss_before = peak_rss_mb(worker)
    refusals, neighbour = attack(base, world, [inflating_docx()])
    assert_refused_with_a_sentence(refusals[0])
    assert "90 MB" in refusals[0].body["error"]["message"]
    assert neighbour and all(a.status == 200 and a.seconds < 1 for a in neighbour), [(a.status, a.seconds) for a in neighbour]
    assert peak_rss_mb(worker) - rss_before < 100, (rss_before, peak_rss_mb(worker))


def test_two_costly_documents_at_once_are_parsed_off_the_web_process(stack: Stack, make_web_app: Callable[..., Flask]) -> None:
    """Documents within the archive limits reach the parser, in child processes under CPU, memory and clock
    limits. With the character cap lifted, only the CPU limit (2 s here) or the clock stops these two, sent at
    once: both are refused within 5 s, the neighbour waits under 1 s, and the web process's peak memory stays
    where it was."""
    base, world, proc = serve(stack, make_web_app, FAIRPEER_FILE_MAX_CHARS="1000000000", FAIRPEER_FILE_PARSE_CPU_SECONDS="2")
    worker = web_worker_pid(proc)
    rss_before = peak_rss_mb(worker)
    document = costly_docx()
    refusals, neighbour = attack(base, world, [document, document])
    for answer in refusals:
        assert_refused_with_a_sentence(answer)
        # The CPU limit, or on a busy machine the clock (4.5 s) first: a cost limit either way, not the text caps.
        message = answer.body["error"]["message"]
        assert "seconds of processing" in message or "took longer than" in message, message
    assert len(neighbour) >= 2 and all(a.status == 200 and a.seconds < 1 for a in neighbour), [(a.status, a.seconds) for a in neighbour]
    assert peak_rss_mb(worker) - rss_before < 100, (rss_before, peak_rss_mb(worker))

"""The real stack for integration tests: PostgreSQL, Redis, and `fairpeer worker` / `fairpeer beat` processes.

- Each test gets a fresh PostgreSQL database with a random name, migrated to head, dropped afterwards.
- The session claims one otherwise empty Redis database number (a marker key set with NX), empties it between
  tests and flushes it at the end; nothing else in Redis is touched.
- Worker and beat run as real subprocesses in their own process group; teardown stops each by its id (SIGTERM,
  then SIGKILL of its group, which also takes the prefork children).
- When PostgreSQL or Redis is unreachable the tests skip, unless FAIRPEER_REQUIRE_SERVICES=1 (CI): then they fail.
"""

from __future__ import annotations

import contextlib
import gc
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import kombu.pools
import psycopg
import pytest
import redis
from flask import Flask
from psycopg import sql
from sqlalchemy.engine import make_url

from reviews.kernel.migrate import upgrade
from tests.conftest import make_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PG_HOST = os.environ.get("FAIRPEER_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("FAIRPEER_TEST_PG_PORT", "5432"))
PG_USERS = ("postgres", "root")
REDIS_BASE = os.environ.get("FAIRPEER_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
REDIS_MARKER = "fairpeer:integration-tests:owner"
WORKER_READY_SECONDS = 90.0

T = TypeVar("T")


# ---------------------------------------------------------------- skip or fail when a service is missing


def service_unavailable(what: str, why: str) -> NoReturn:
    """docs/design.md's rule, in one place: skip, unless FAIRPEER_REQUIRE_SERVICES=1 makes it a failure."""
    message = f"{what} is not reachable ({why})."
    if os.environ.get("FAIRPEER_REQUIRE_SERVICES") == "1":
        pytest.fail(
            f"{message} FAIRPEER_REQUIRE_SERVICES=1 requires it: start it (`.ci/run` does) or unset the variable to skip.",
            pytrace=False,
        )
    pytest.skip(f"{message} Integration tests skipped; set FAIRPEER_REQUIRE_SERVICES=1 to make this a failure.")


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """A URL to the server's maintenance database, as the first of the usual superusers that can connect."""
    errors = []
    for user in PG_USERS:
        url = f"postgresql://{user}@{PG_HOST}:{PG_PORT}/postgres"
        try:
            with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
                conn.execute("SELECT 1")
            return url
        except psycopg.Error as exc:
            errors.append(f"{user}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}")
    service_unavailable(f"PostgreSQL at {PG_HOST}:{PG_PORT}", "; ".join(errors))


@pytest.fixture(scope="session")
def redis_base() -> Iterator[str]:
    """Claims an empty Redis database number for this test session; flushes it at the end."""
    problem = None
    probe = redis.Redis.from_url(f"{REDIS_BASE}/0", socket_connect_timeout=3)
    try:
        probe.ping()
        databases = int(probe.config_get("databases").get("databases", 16))
    except redis.RedisError as exc:
        problem = str(exc) or type(exc).__name__
    finally:
        probe.close()
    if problem is not None:
        service_unavailable(f"Redis at {REDIS_BASE}", problem)
    token = secrets.token_hex(8)
    wanted = os.environ.get("FAIRPEER_TEST_REDIS_DB")
    # Not 0 (the default) nor the last one (bench/allocation.py's default): the middle numbers are the quietest.
    candidates = [int(wanted)] if wanted else list(range(1, databases - 1))
    for number in candidates:
        client = redis.Redis.from_url(f"{REDIS_BASE}/{number}")
        try:
            if client.dbsize() == 0 and client.set(REDIS_MARKER, token, nx=True, ex=3 * 3600):
                break
        finally:
            client.close()
    else:
        pytest.fail(f"No empty Redis database number is free on {REDIS_BASE} for the integration tests.", pytrace=False)
    url = f"{REDIS_BASE}/{number}"
    yield url
    client = redis.Redis.from_url(url)
    try:
        if client.get(REDIS_MARKER) == token.encode():
            client.flushdb()
    finally:
        client.close()


@pytest.fixture
def redis_url(redis_base: str) -> Iterator[str]:
    """This session's Redis database, empty at the start of each test (queues, unacked messages, results)."""
    _empty_redis(redis_base)
    yield redis_base
    _empty_redis(redis_base)


def _empty_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        marker = client.get(REDIS_MARKER)
        client.flushdb()
        if marker is not None:
            client.set(REDIS_MARKER, marker, ex=3 * 3600)
    finally:
        client.close()


def queue_length(url: str, queue: str = "fairpeer") -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.llen(queue))
    finally:
        client.close()


def broker_idle(url: str, queue: str = "fairpeer") -> bool:
    """Nothing waits in the queue and nothing is being worked on: with acks_late, a message stays in the Redis
    transport's ``unacked`` hash while its task runs (and while a worker holds it for a countdown)."""
    client = redis.Redis.from_url(url)
    try:
        return int(client.llen(queue)) == 0 and int(client.hlen("unacked")) == 0
    finally:
        client.close()


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database with a random name, migrated to head (and empty: the benches' smoke runs need
    that), dropped after the test."""
    name = f"fairpeer_it_{secrets.token_hex(6)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# ---------------------------------------------------------------- apps in this process


@pytest.fixture
def make_web_app() -> Iterator[Callable[..., Flask]]:
    """Builds web-side apps (tests.conftest.make_app settings, database and background overridden); disposes them."""
    built: list[Flask] = []

    def build(database_url: str, broker: str | None = None, **config: Any) -> Flask:
        settings: dict[str, Any] = {"DATABASE_URL": database_url, "HEALTH_TIMEOUT_SECONDS": 3}
        if broker is not None:
            settings.update(BACKGROUND_MODE="celery", BROKER_URL=broker, REDIS_URL=broker)
        settings.update(config)
        app = make_app(Path("unused.db"), **settings)
        built.append(app)
        return app

    yield build
    for app in built:
        close_app(app)


def close_app(app: Flask) -> None:
    """Close what the app opened: database pool, broker connections, the result backend's Redis clients."""
    app.extensions["fairpeer.db"][0].dispose()
    debounce = app.extensions.get("fairpeer.redis")  # the recalibration debounce's client, made on first use
    if debounce is not None:
        debounce.close()
    celery = app.extensions.get("celery")
    if celery is None:
        return
    backend = getattr(celery._local, "backend", None)  # created on first use, per thread
    if backend is not None:
        consumer = getattr(backend, "result_consumer", None)
        pubsub = getattr(consumer, "_pubsub", None)
        if pubsub is not None:
            pubsub.close()
        client = getattr(backend, "client", None)
        if client is not None:
            client.close()
            client.connection_pool.disconnect()
    # Celery.close() only forgets its pool, which lives in kombu's registry, shared by every app with the same
    # broker URL: reset the registry, which closes the connections and lets the next app start afresh.
    celery.close()
    kombu.pools.reset()
    # celery_init_app made this the process's default Celery app: forget it, or it (and its sockets) lives on
    # until a later test's app replaces it, and is collected in the middle of that test.
    from celery import _state

    if _state.default_app is celery:
        _state.default_app = None
    # A new Celery app also becomes this thread's current app (set_as_current): drop that reference too.
    if getattr(_state._tls, "current_app", None) is celery:
        _state._tls.current_app = None
    # Celery's result consumer can keep a Redis socket of a timed-out health ping past close(); the app is gone,
    # so collect it here, where its ResourceWarning means nothing, rather than in the middle of a later test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


# ---------------------------------------------------------------- worker and beat subprocesses


def fairpeer_command(*args: str) -> list[str]:
    """The installed console script when it sits beside this interpreter, else the same entry point via -m."""
    script = Path(sys.executable).with_name("fairpeer")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "reviews.cli", *args]


def service_env(database_url: str | None, broker: str | None, **extra: str) -> dict[str, str]:
    """The child's environment: ours minus any fairpeer configuration, then exactly what the test says."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("FAIRPEER_") and k not in ("DATABASE_URL", "BROKER_URL", "REDIS_URL", "SECRET_KEY")
    }
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env["SECRET_KEY"] = "integration-test-secret"
    if database_url:
        env["DATABASE_URL"] = database_url
    if broker:
        env["REDIS_URL"] = broker
    env.update(extra)
    return env


@dataclass
class Proc:
    """One `fairpeer` subprocess, leader of its own process group; its output goes to a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        self.log_file.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return f"--- last lines of {self.name} (pid {self.pid}) log ---\n" + "\n".join(text[-lines:])

    def kill_group(self) -> None:
        """SIGKILL the process and everything in its group (the prefork pool's children too)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=15)

    def stop(self, grace: float = 15.0) -> None:
        """Warm shutdown (SIGTERM to the main process), then SIGKILL whatever is left of its group."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=grace)
        self.kill_group()

    def close(self) -> None:
        self.stop()
        if not self.log_file.closed:
            self.log_file.close()


@dataclass
class Stack:
    """Starts worker and beat processes for one test against its database and Redis; stops them all after."""

    database_url: str
    redis_url: str
    workdir: Path
    procs: list[Proc] = field(default_factory=list)

    def start(
        self, command: str, *args: str, env: dict[str, str] | None = None, seam: tuple[str, str] | None = None, **settings: str
    ) -> Proc:
        """Run ``fairpeer COMMAND ARGS``; ``seam`` (name, value) injects a fault first (tests/integration/seams.py)."""
        name = f"{command}-{len(self.procs) + 1}"
        log_path = self.workdir / f"{name}.log"
        log_file = open(log_path, "wb")  # noqa: SIM115 - closed by Proc.close in teardown
        extra = {"FAIRPEER_SWEEP_SECONDS": "1", **settings}
        argv = [sys.executable, "-m", "gunicorn", *args] if command == "gunicorn" else fairpeer_command(command, *args)
        if seam is not None:
            argv = [sys.executable, "-m", "tests.integration.seams", *seam, command, *args]
        try:
            popen = subprocess.Popen(
                argv,
                env=env or service_env(self.database_url, self.redis_url, **extra),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so that a kill takes the pool's children too
            )
        except BaseException:
            log_file.close()
            raise
        proc = Proc(name, popen, log_path, log_file)
        self.procs.append(proc)
        return proc

    def start_worker(self, seam: tuple[str, str] | None = None, **settings: str) -> Proc:
        return self.start("worker", "--concurrency", "2", seam=seam, **settings)

    def start_web(self, port: int, workers: int = 1, seam: tuple[str, str] | None = None, **settings: str) -> Proc:
        """gunicorn with the production config on 127.0.0.1:PORT, answering once it is up."""
        args = ["-c", "python:reviews.gunicorn_conf", "-w", str(workers), "-b", f"127.0.0.1:{port}", "reviews.wsgi:app"]
        web = self.start("gunicorn", *args, seam=seam, **settings)

        def answers() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=2) as reply:
                    return bool(reply.status == 200)
            except OSError:
                return False

        wait_for(answers, 60, "gunicorn to answer", details=web.log_tail)
        return web

    def start_beat(self, **settings: str) -> Proc:
        return self.start("beat", "--schedule", str(self.workdir / f"beat-schedule-{len(self.procs) + 1}"), **settings)

    def wait_ready(self, app: Flask, worker: Proc, timeout: float = WORKER_READY_SECONDS) -> None:
        """Until the worker answers a ping sent through the web app's broker connection."""
        background = app.extensions["fairpeer.background"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not worker.alive():
                pytest.fail(f"{worker.name} exited with {worker.popen.returncode} before it was ready\n{worker.log_tail()}", pytrace=False)
            try:
                if background.ping(1.0):
                    return
            except Exception:
                pass
        pytest.fail(f"{worker.name} did not answer a ping within {timeout:.0f}s\n{worker.log_tail()}", pytrace=False)

    def logs(self) -> str:
        return "\n".join(proc.log_tail() for proc in self.procs)

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.close()


@pytest.fixture
def stack(pg_url: str, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    running = Stack(pg_url, redis_url, tmp_path)
    try:
        yield running
    finally:
        running.close()


# ---------------------------------------------------------------- polling


def wait_for(
    check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.25, details: Callable[[], str] | None = None
) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` (and ``details()``) after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() >= deadline:
            extra = f"\n{details()}" if details else ""
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {last!r}{extra}", pytrace=False)
        time.sleep(interval)


# ---------------------------------------------------------------- the reference run on the embedded default


def _embedded_scores(path: Path, run: Callable[[Flask, Any], Any]) -> dict[str, Any]:
    from tests.integration.scenario import scores_by_email

    app = make_app(path)  # tests.conftest's settings: SQLite, background work inline
    try:
        scores = scores_by_email(run(app, app.test_client()))
    finally:
        close_app(app)
    assert all(s is not None and s.get("value") is not None for s in scores.values()), scores
    assert len({s["value"] for s in scores.values()}) > 1, f"the scenario should give learners different scores: {scores}"
    return scores


@pytest.fixture(scope="session")
def reference_scores(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fixed scenario's scores on the embedded default (SQLite), each task run right after its commit."""
    from tests.integration.scenario import run_scenario

    path = tmp_path_factory.mktemp("embedded") / "embedded.db"
    shutil.copy(template_db, path)
    return _embedded_scores(path, run_scenario)


@pytest.fixture(scope="session")
def deferred_reference_scores(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fixed scenario's scores on the embedded default when all its background work runs after the last review:
    the undisturbed run that a stack which lost its sends, or its worker, must end up with."""
    from tests.integration.scenario import run_deferred

    path = tmp_path_factory.mktemp("deferred") / "deferred.db"
    shutil.copy(template_db, path)
    return _embedded_scores(path, run_deferred)


@pytest.fixture(autouse=True)
def _collect_closed_clients() -> Iterator[None]:
    """After each test, collect what the test's closed apps left to the garbage collector (Celery's result
    consumer keeps Redis sockets of timed-out pings): collected here their ResourceWarnings mean nothing, while
    collected in the middle of a later test they would fail it for something it did not do."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()

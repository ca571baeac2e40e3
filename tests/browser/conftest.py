"""Browser fixtures: a real ``fairpeer serve`` on 127.0.0.1 and Debian's Chromium driven by Playwright.

The server runs as a subprocess in a fresh working directory, so it uses the embedded default exactly as a
newcomer gets it (a SQLite file under ./instance, background work in-process). Data is prepared through the
HTTP API, as an LMS or a course team's script would.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 30.0
TIMEOUT_MS = 10_000
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 390, "height": 844}
# What Chromium writes to the console when the Content-Security-Policy blocks something.
CSP_VIOLATION = "Content Security Policy"


def _missing(reason: str) -> None:
    """Skip, unless FAIRPEER_REQUIRE_SERVICES=1 says the browser test must run (CI)."""
    if os.environ.get("FAIRPEER_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (FAIRPEER_REQUIRE_SERVICES=1, so the browser tests may not skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _missing(f"Chromium is not installed at {CHROMIUM}: install Debian's `chromium` package to run the browser tests")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("Playwright for Python is not installed: pip install -e '.[dev]'")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class ApiFailure(AssertionError):
    pass


@dataclass
class Live:
    """A running ``fairpeer serve`` and a small JSON client for its API."""

    base_url: str
    workdir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    admin_token: str = ""
    ids: dict[str, Any] = field(default_factory=dict)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def call(self, method: str, path: str, token: str | None = None, body: Any = None, expect: int | tuple[int, ...] = (200, 201)) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
            exc.close()
        expected = (expect,) if isinstance(expect, int) else expect
        payload = json.loads(raw) if raw else None
        if status not in expected:
            raise ApiFailure(f"{method} {path} answered {status}, expected {expected}: {payload}\n--- server log ---\n{self.log_tail()}")
        return payload

    def get(self, path: str, token: str | None = None, **kw: Any) -> Any:
        return self.call("GET", path, token, **kw)

    def post(self, path: str, token: str | None = None, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, token, body if body is not None else {}, **kw)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fairpeer_command() -> list[str]:
    """The installed console script next to this interpreter (the one `pip install .` puts on PATH)."""
    script = Path(sys.executable).parent / "fairpeer"
    if script.exists():
        return [str(script)]
    found = shutil.which("fairpeer")
    return [found] if found else [sys.executable, "-c", "from reviews.cli import main; main()"]


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL", "REDIS_URL")}
    env["SECRET_KEY"] = secrets.token_hex(16)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _create_admin(database: Path) -> str:
    """The first administrator, made with the accounts service (as `fairpeer users create --admin` does), in this process."""
    from reviews.accounts.services import create_user
    from reviews.kernel.db import db
    from tests.conftest import make_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SECRET_KEY", secrets.token_hex(16))  # so building the app writes no key file into the cwd
        app = make_app(database, SERVER_NAME=None)
    try:
        with app.app_context():
            _, token = create_user(db.session, "admin@browser.test", "Browser Admin", is_admin=True)
            db.session.commit()
    finally:
        app.extensions["fairpeer.db"][0].dispose()
    return token


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[Live]:
    """``fairpeer init`` then ``fairpeer serve --port P`` in a fresh working directory (the embedded default)."""
    workdir = tmp_path_factory.mktemp("fairpeer-serve")
    env = _server_env()
    command = _fairpeer_command()
    init = subprocess.run([*command, "init"], cwd=workdir, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert init.returncode == 0, f"fairpeer init failed:\n{init.stdout}\n{init.stderr}"
    database = workdir / "instance" / "fairpeer.db"
    assert database.is_file(), "fairpeer init should create its SQLite database under ./instance"
    admin_token = _create_admin(database)

    port = _free_port()
    log_path = workdir / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*command, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Live(f"http://127.0.0.1:{port}", workdir, log_path, process, admin_token=admin_token)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"fairpeer serve exited with {process.returncode}:\n{server.log_tail()}", pytrace=False)
            try:
                if server.get("/healthz", expect=200)["status"] == "ok":
                    break
            except (OSError, ApiFailure):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"fairpeer serve did not answer /healthz within {START_TIMEOUT:.0f}s:\n{server.log_tail()}", pytrace=False)
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def csp_violations() -> list[str]:
    return []


@pytest.fixture
def new_page(browser: Any, csp_violations: list[str]) -> Iterator[Callable[..., Any]]:
    """A fresh browser context per person (its own cookie jar, so sessions never mix) at the given size. Every page
    listens for the console's CSP reports, and a test that saw one fails."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = DESKTOP) -> Any:
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()

        def on_console(message: Any) -> None:
            if CSP_VIOLATION in message.text:
                csp_violations.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        return page

    yield make
    for context in contexts:
        context.close()
    assert csp_violations == [], "the pages broke their Content-Security-Policy"

"""`fairpeer worker` and `fairpeer beat` refuse to start without a broker (their running is covered by the other tests)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import fairpeer_command, service_env

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_refuses_to_start_without_a_broker(command: str, tmp_path: Path) -> None:
    env = service_env(f"sqlite:///{tmp_path / 'fairpeer.db'}", None)
    result = subprocess.run(
        fairpeer_command(command), env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0, result.stdout + result.stderr
    assert "No broker configured: set REDIS_URL or BROKER_URL" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "fairpeer.db").exists(), "it should stop before touching the database"

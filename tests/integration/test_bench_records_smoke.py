"""A small run of bench/records.py on PostgreSQL: it prints the JSON keys issue 12 names, every credential it
issued verified as valid, and issuing and verifying stay within their targets even in the quick run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_records_bench_quick(pg_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": pg_url}
    done = subprocess.run(
        [sys.executable, "bench/records.py", "--quick", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"issue", "verify", "shared_record_20"} <= set(result)
    for part in ("issue", "verify"):
        figures = result[part]
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= 100, (part, figures)
    assert result["issue_run"]["credentials"] > 0
    assert set(result["verify"]["statuses"]) == {"valid"}
    assert {"p95_ms", "queries"} <= set(result["shared_record_20"])
    assert result["settings"]["quick"] is True and result["settings"]["database"] == "postgresql"

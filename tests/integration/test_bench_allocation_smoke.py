"""A small run of bench/allocation.py on the real stack: it prints the JSON keys issue 4 names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = (
    "clients",
    "claims_per_s",
    "raw_claims_per_s",
    "ratio",
    "p50_ms",
    "p99_ms",
    "double_claims",
    "self_claims",
    "under_reviewed",
    "review_spread",
)


@pytest.mark.integration
def test_allocation_bench_smoke(pg_url: str, redis_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": pg_url}
    done = subprocess.run(
        [sys.executable, "bench/allocation.py", "--clients", "2", "--seconds", "90", "--redis-url", redis_url, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(key in result for key in KEYS), result
    assert result["clients"] == 2
    assert (result["double_claims"], result["self_claims"], result["under_reviewed"]) == (0, 0, 0)
    assert result["claims_per_s"] > 0 and result["raw_claims_per_s"] > 0

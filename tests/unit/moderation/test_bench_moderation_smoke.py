"""A small run of bench/moderation.py (on a SQLite file here; the full run takes an empty PostgreSQL database): it
prints the JSON keys the moderation issue names, the pages it times answer, and their query counts are the same
with a handful of cases as with 500."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_moderation_bench_quick(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'bench.db'}"}
    command = [sys.executable, "bench/moderation.py", "--quick", "--json"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for page in ("queue_api", "queue_page", "case_page"):
        figures = result[page]
        assert {"p50_ms", "p95_ms", "queries"} <= set(figures), page
        assert 0 < figures["p50_ms"] <= figures["p95_ms"], (page, figures)
        assert figures["queries"] > 0, page
        assert figures["queries"] == figures["queries_few_cases"], (page, figures)
    settings = result["settings"]
    assert settings["quick"] is True and settings["cases"] == 500 and settings["few_cases"] < 50
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode != 0 and "needs an empty database" in again.stderr

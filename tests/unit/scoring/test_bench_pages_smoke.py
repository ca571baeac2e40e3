"""A small run of bench/pages.py (on a SQLite file here; the full run takes an empty PostgreSQL database): it prints
the JSON keys the gradebook issue names, and the pages it times answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_pages_bench_quick(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'bench.db'}"}
    done = subprocess.run(
        [sys.executable, "bench/pages.py", "--quick", "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"gradebook_1000", "learner_assignment"} <= set(result)
    for page in ("gradebook_1000", "learner_assignment"):
        figures = result[page]
        assert {"p50_ms", "p95_ms", "queries"} <= set(figures), page
        assert 0 < figures["p50_ms"] <= figures["p95_ms"], (page, figures)
        assert figures["queries"] > 0, page
    assert result["settings"]["quick"] is True and result["settings"]["learners"] == 60


def test_pages_bench_refuses_a_database_that_holds_rows(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'bench.db'}"}
    command = [sys.executable, "bench/pages.py", "--quick", "--json"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr[-3000:]
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode != 0 and "needs an empty database" in again.stderr

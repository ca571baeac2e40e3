"""A small run of bench/integrity_lsh.py: the JSON keys it reports, and the exact lookup finding every long copy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

METHOD_KEYS = {
    "p50_ms",
    "p95_ms",
    "p50_cpu_ms",
    "p95_cpu_ms",
    "p50_vs_exact",
    "p95_vs_exact",
    "recall_150_words",
    "recall_60_words",
    "mean_candidates",
    "mean_candidates_honest",
    "max_candidates",
    "build_seconds",
    "memory_mb",
    "params",
}


def test_integrity_lsh_bench_quick() -> None:
    done = subprocess.run(
        [sys.executable, "bench/integrity_lsh.py", "--quick", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["quick"] is True
    assert result["settings"]["queries"] == {"total": 20, "copied_150": 10, "copied_60": 5, "honest": 5}
    assert set(result["results"]) == {"500"}
    figures = result["results"]["500"]
    for key in ("prepare_seconds", "minhash_seconds", "query_minhash_p50_ms", "query_minhash_p95_ms", "peak_rss_mb"):
        assert figures[key] >= 0, key
    methods = figures["methods"]
    assert set(methods) == {
        "exact",
        "lsh_jaccard_0.5",
        "lsh_jaccard_0.3",
        "lsh_jaccard_0.1",
        "lsh_ensemble_containment_0.3",
        "lsh_ensemble_containment_0.2",
    }
    for name, method in methods.items():
        expected = METHOD_KEYS | ({"measured_with_exact"} if name.startswith("lsh_ensemble") else set())
        assert set(method) == expected, name
        assert 0 < method["p50_ms"] <= method["p95_ms"], (name, method)
        for recall in ("recall_150_words", "recall_60_words"):
            assert 0.0 <= method[recall] <= 1.0, (name, method)
    # The exact posting-list lookup finds every copied source: winnowing guarantees a shared fingerprint.
    assert methods["exact"]["recall_150_words"] == 1.0
    assert methods["exact"]["recall_60_words"] == 1.0
    for name in ("lsh_jaccard_0.5", "lsh_jaccard_0.3", "lsh_jaccard_0.1"):
        bands, rows = methods[name]["params"]
        assert bands * rows <= result["settings"]["num_perm"], name

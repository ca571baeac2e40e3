"""The pure cores (calibration, detection) run without the service: importing all of them loads no web,
database or queue library and no module of the service."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICE = ("reviews", "workers", "flask", "sqlalchemy", "celery", "kombu", "redis", "psycopg")

PROGRAM = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
names = [m.name for m in pkgutil.walk_packages(package.__path__, prefix=sys.argv[1] + ".") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


@pytest.mark.parametrize("core", ["calibration", "detection", "credentials"])
def test_a_pure_core_loads_nothing_of_the_service(core: str) -> None:
    result = subprocess.run([sys.executable, "-c", PROGRAM, core], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report["modules"]) >= 5, report["modules"]
    assert [name for name in SERVICE if name in report["loaded"]] == []

"""An installed (not editable) copy of the package carries every file it reads at run time."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[3]


def test_every_template_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["reviews"]
    data = [p for p in (ROOT / "reviews").rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert len(data) >= 5, data
    missing = [str(p) for p in data if not any(PurePosixPath(p.relative_to(ROOT / "reviews").as_posix()).match(g) for g in globs)]
    assert missing == []

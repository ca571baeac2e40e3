"""What every page is checked for in a real browser, at a desktop's and a phone's width: no serious or critical
accessibility violation (axe-core, injected in a context that bypasses the page's Content-Security-Policy), no
horizontal scrolling, and no Content-Security-Policy violation (in an ordinary context); and a screenshot for a
person to look at."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
BLOCKING_IMPACTS = ("serious", "critical")

# Run before any page script: every CSP violation the page causes is kept where the test can read it.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""


def axe_source() -> str:
    if not AXE.is_file():
        if os.environ.get("FAIRPEER_REQUIRE_SERVICES") == "1":
            pytest.fail(f"axe-core is not installed at {AXE.relative_to(ROOT)}: run `make install` (npm ci)", pytrace=False)
        pytest.skip("axe-core is not installed: run `make install` (npm ci)")
    return AXE.read_text()


def screenshot_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FAIRPEER_SCREENSHOTS names a folder to keep them in; else a temporary one (printed by the test)."""
    chosen = os.environ.get("FAIRPEER_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def axe_violations(page: Any, source: str) -> list[str]:
    """The serious and critical axe-core violations of the page as it is now, one line each."""
    page.evaluate(source)
    result = page.evaluate("async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))")
    found = []
    for violation in json.loads(result)["violations"]:
        if violation["impact"] in BLOCKING_IMPACTS:
            targets = [" ".join(node["target"]) for node in violation["nodes"][:5]]
            found.append(f"{violation['impact']} {violation['id']}: {violation['help']} at {targets}")
    return found


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than its window (0: nothing to scroll sideways)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


def csp_violations(page: Any) -> list[str]:
    return list(page.evaluate("() => window.__cspViolations || []"))

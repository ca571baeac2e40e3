"""Which way imports point (docs/design.md, Which way imports point), checked over the real import graph.

Features sit over a small kernel; within the service, models sit under services, services under routes and
pages, and those under the entry points (app factory, CLI, WSGI, workers). Nothing imports upward and no modules
import each other in a circle, counting imports inside functions too. The pure packages (calibration, detection)
import nothing of the service.
"""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
import random
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[3]
OURS = ("reviews", "workers", "calibration", "detection", "credentials")
KERNEL, WEB, MODELS, SERVICES, EDGE, ENTRY = 0, 1, 2, 3, 4, 5
LEVEL_NAMES = {KERNEL: "kernel", WEB: "web kernel", MODELS: "models", SERVICES: "services", EDGE: "routes/pages", ENTRY: "entry points"}
PURE = ("calibration", "detection", "credentials")
ENTRY_POINTS = ("reviews.app", "reviews.cli", "reviews.wsgi", "reviews.demo", "reviews.gunicorn_conf")


def level(module: str) -> int:
    """How high a module sits: it may import only modules at its own level or below."""
    parts = module.split(".")
    if parts[0] in PURE or module in ("reviews", "reviews.settings"):
        return KERNEL
    if parts[0] == "workers" or module.startswith(ENTRY_POINTS):
        return ENTRY
    if parts[1:2] == ["kernel"]:
        return KERNEL
    if parts[1:2] == ["web"]:
        return WEB
    leaf = parts[-1]
    if leaf in ("routes", "pages", "health"):
        return EDGE
    if leaf == "models" or module == "reviews.models":
        return MODELS
    return SERVICES


def build_graph() -> grimp.ImportGraph:
    return grimp.build_graph(*[p for p in OURS if importlib.util.find_spec(p) is not None])


def upward_imports(graph: grimp.ImportGraph) -> list[str]:
    found = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if level(imported) > level(module):
                found.append(f"{module} ({LEVEL_NAMES[level(module)]}) imports {imported} ({LEVEL_NAMES[level(imported)]})")
            if module.split(".")[0] in PURE and imported.split(".")[0] not in (module.split(".")[0],):
                found.append(f"{module} (pure) imports {imported}")
            if level(module) == KERNEL and module.startswith("reviews") and imported.startswith("reviews") and level(imported) != KERNEL:
                found.append(f"{module} (kernel) imports the feature module {imported}")
    return found


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each a circle of imports."""
    modules = sorted(m for m in graph.modules if "." in m or m in OURS)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work: list[tuple[str, Iterable[str]]] = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return groups


def test_nothing_imports_upward() -> None:
    assert upward_imports(build_graph()) == []


def test_no_circle_of_imports() -> None:
    assert circles(build_graph()) == []


def test_the_checks_catch_an_upward_import_and_a_circle() -> None:
    """The checks are not hollow: an added upward import and an added circle are both reported."""
    graph = build_graph()
    graph.add_import(importer="reviews.kernel.db", imported="reviews.submissions.services")
    graph.add_import(importer="reviews.submissions.services", imported="reviews.submissions.routes")
    found = upward_imports(graph)
    assert any("reviews.kernel.db" in line and "reviews.submissions.services" in line for line in found), found
    assert any(line.startswith("reviews.submissions.services (services) imports reviews.submissions.routes") for line in found), found
    graph = build_graph()
    graph.add_import(importer="reviews.courses.access", imported="reviews.moderation.services")
    assert any("reviews.courses.access" in group and "reviews.moderation.services" in group for group in circles(graph))


def all_modules() -> list[str]:
    names = []
    for package in OURS:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.submodule_search_locations is None:
            continue
        names.append(package)
        names.extend(m.name for m in pkgutil.walk_packages(spec.submodule_search_locations, prefix=f"{package}."))
    return sorted(n for n in names if not n.endswith("__main__"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_module_imports_cold_in_any_order(seed: int) -> None:
    """A fresh interpreter imports every module in a shuffled order: no module works only after another."""
    names = all_modules()
    assert len(names) > 50, names
    random.Random(seed).shuffle(names)
    program = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run([sys.executable, "-c", program, *names], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"order (seed {seed}): {names}\n{result.stderr[-3000:]}"


def function_level_imports(paths: Iterable[Path], root: Path = ROOT) -> list[str]:
    """Imports of our own packages inside a function body with no comment on their line or the line above."""
    found = []
    for path in paths:
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom):
                    modules = [inner.module or ""]
                elif isinstance(inner, ast.Import):
                    modules = [alias.name for alias in inner.names]
                else:
                    continue
                if not any(m.split(".")[0] in OURS for m in modules):
                    continue
                said_why = "#" in lines[inner.lineno - 1] or lines[inner.lineno - 2].strip().startswith("#")
                if not said_why:
                    found.append(f"{path.relative_to(root)}:{inner.lineno} imports {', '.join(modules)} inside {node.name}()")
    return sorted(set(found))


def test_no_import_inside_a_function_without_a_reason() -> None:
    paths = [p for package in (*OURS, "bench") for p in (ROOT / package).rglob("*.py")]
    assert len(paths) > 50
    assert function_level_imports(paths) == []


def test_the_function_import_check_is_not_hollow(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def f():\n    from reviews.kernel import db\n    return db\n", encoding="utf-8")
    (tmp_path / "fine.py").write_text(
        "def f():\n    # imported late: the app reads its settings at import\n    from reviews.kernel import db\n    return db\n",
        encoding="utf-8",
    )
    found = function_level_imports([tmp_path / "bad.py", tmp_path / "fine.py"], root=tmp_path)
    assert found == ["bad.py:2 imports reviews.kernel inside f()"]

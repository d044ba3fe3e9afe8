"""The package's layout: no import cycles, and imports point one way down the stages.

Every import is read from the source with ``ast``, lazy ones inside functions included, so a
cycle cannot hide behind an import placed in a function body.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sgs.config import PROJECT_ROOT

SRC = PROJECT_ROOT / "src"
PACKAGE = SRC / "sgs"

# The stages from the bottom up: a module may import from its own rank or below, never above.
# Top-level modules are the small shared ones; packages are the stages a file passes through.
RANKS: dict[str, int] = {
    "paths": 0,
    "config": 0,
    "errors": 0,
    "privacy": 0,
    "labels": 2,
    "files": 0,
    "reference": 1,
    "clock": 1,
    "periods": 2,
    "intake": 3,
    "validate": 4,
    "samples": 5,
    "store": 5,
    "measure": 6,
    "report": 7,
    "quality": 7,
    "jobs": 8,
    "cli": 9,
    "web": 9,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The sgs modules ``path`` imports anywhere in its body, resolved to module names."""
    this = module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), this, package, known)


def imports_in(source: str, this: str, package: str, known: set[str]) -> set[str]:
    tree = ast.parse(source)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            names = [a.value for a in node.args if isinstance(a, ast.Constant)]
        else:
            continue
        for name in names:
            if not name.startswith("sgs"):
                continue
            # ``from sgs.x import y`` names a module y or a symbol of x: keep the longest known.
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != this and name != "sgs":
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {m: imports_of(p, known) for m, p in mods.items()}


def stage(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def test_every_module_has_a_stage() -> None:
    unranked = sorted({stage(m) for m in modules() if m != "sgs"} - RANKS.keys())
    assert unranked == []


def test_no_import_cycles() -> None:
    g = graph()
    # Tarjan's strongly connected components: any component of two or more is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in g:
        if v not in index:
            visit(v)
    assert cycles == []


def test_imports_point_down_the_stages() -> None:
    wrong = []
    for module, targets in graph().items():
        if module == "sgs":
            continue
        for target in targets:
            if RANKS[stage(target)] > RANKS[stage(module)]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_the_top_level_stays_small() -> None:
    top = [p.name for p in PACKAGE.glob("*.py")]
    assert len(top) <= 12, top


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_stay_small(name: str) -> None:
    """One concern per module; the sample vocabulary is data and may be larger."""
    if name == "sgs.samples.vocab":
        return
    lines = modules()[name].read_text(encoding="utf-8").count("\n")
    assert lines <= 600, f"{name}: {lines} lines"


def test_the_walker_sees_lazy_and_relative_imports() -> None:
    """The checker itself: imports inside functions, relative imports and import_module."""
    known = {"sgs.store", "sgs.store.ingest", "sgs.store.ledger", "sgs.validate.rules"}
    source = (
        "import importlib\n"
        "def f():\n    from sgs.store.ingest import ingest_file\n"
        "def g():\n    from . import ledger\n"
        "def h():\n    importlib.import_module('sgs.validate.rules')\n"
    )
    found = imports_in(source, "sgs.store.batches", "sgs.store", known)
    assert found == {"sgs.store.ingest", "sgs.store.ledger", "sgs.validate.rules", "sgs.store"}

"""The package's shape, checked: one-way layers, no import cycles, small modules, one error tree.

These tests read the source (``ast``), they import nothing of the package: a cycle hidden behind
a ``TYPE_CHECKING`` guard or a function-local import counts as well, because it is a cycle a
reader has to untangle all the same.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "briefkasten"

#: How far up each part of the package sits: a module may import only from its own rank or
#: below. Edges (HTTP, CLI, the worker loop) → the flow → adapters and the pipeline → the core.
RANKS = {
    "briefkasten": 5,  # the public API re-exports
    "briefkasten.__main__": 5,
    "briefkasten.cli": 4,
    "briefkasten.gateway": 4,
    "briefkasten.worker": 4,
    "briefkasten.service": 3,
    "briefkasten.housekeeping": 3,
    "briefkasten.intake": 2,
    "briefkasten.idempotency": 2,
    "briefkasten.status": 2,
    "briefkasten.admin_state": 2,
    "briefkasten.links": 2,
    "briefkasten.operators": 2,
    "briefkasten.message": 2,
    "briefkasten.outcomes": 2,
    "briefkasten.monitoring": 2,
    "briefkasten.malware": 2,
    "briefkasten.pipeline": 1,
    "briefkasten.storage": 1,
    "briefkasten.broker": 1,
    "briefkasten.contract": 1,
    "briefkasten.tools": 1,
    "briefkasten.catalogue": 0,
    "briefkasten.config": 0,
    "briefkasten.errors": 0,
    "briefkasten.model": 0,
    "briefkasten.i18n": 0,  # the applicant texts: imports nothing of the package
}

#: Foreign libraries that only their adapter (or an edge) may import.
ADAPTERS = {
    "pika": ("briefkasten.broker",),
    "minio": ("briefkasten.storage.s3",),
    "urllib3": ("briefkasten.storage.s3",),
    "aiohttp": ("briefkasten.gateway", "briefkasten.cli", "briefkasten.monitoring.summary"),
    "tesserocr": ("briefkasten.tools",),
    "lingua": ("briefkasten.tools",),
    "zxingcpp": ("briefkasten.tools.barcodes",),
    "jinja2": ("briefkasten.gateway",),
    "redis": ("briefkasten.gateway.shared",),
}


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module


def modules() -> list[Module]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append(Module(name, path, ast.parse(path.read_text(encoding="utf-8"))))
    return found


def imported(module: Module, known: set[str]) -> Iterator[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import of the package's code."""
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names = [a.name for a in node.names]
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in known]
            rest = [n for n in names if f"{base}.{n}" not in known]
            for sub in submodules:
                yield sub, [], node.lineno
            if rest or not submodules:
                yield base, rest, node.lineno


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = {m.name for m in mods}
    edges: dict[str, set[str]] = {m.name: set() for m in mods}
    for module in mods:
        for target, _names, _line in imported(module, known):
            if target in known and target != module.name:
                edges[module.name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def rank(name: str) -> int:
    while name not in RANKS:
        name = name.rpartition(".")[0]
        assert name, "no layer rank for a module; add its package to RANKS"
    return RANKS[name]


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    found = cycles(graph())
    assert not found, "\n".join(" ↔ ".join(c) for c in found)


def test_layers_point_one_way() -> None:
    wrong = [
        f"{source} (rank {rank(source)}) imports {target} (rank {rank(target)})"
        for source, targets in graph().items()
        for target in targets
        if rank(target) > rank(source)
        and not target.startswith(source + ".")  # a package's __init__ may use its own parts
    ]
    assert not wrong, "\n".join(wrong)


def test_every_module_has_a_layer() -> None:
    for module in modules():
        rank(module.name)


def test_no_private_names_cross_modules() -> None:
    mods = modules()
    known = {m.name for m in mods}
    crossing = [
        f"{module.name}:{line} takes {name} from {target}"
        for module in mods
        for target, names, line in imported(module, known)
        for name in names
        if name.startswith("_") and not name.startswith("__") and target.startswith("briefkasten")
    ]
    assert not crossing, "\n".join(crossing)


def test_foreign_libraries_stay_in_their_adapters() -> None:
    mods = modules()
    known = {m.name for m in mods}
    outside = []
    for module in mods:
        for target, _names, line in imported(module, known):
            library = target.partition(".")[0]
            allowed = ADAPTERS.get(library)
            if allowed is None:
                continue
            if not any(module.name == a or module.name.startswith(a + ".") for a in allowed):
                outside.append(f"{module.name}:{line} imports {target}")
    assert not outside, "\n".join(outside)


def test_top_level_holds_at_most_fourteen_modules() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 14, top


#: Lines a module may have; every line counts (docstrings, blanks).
MAX_LINES = 400
#: Modules allowed a little more, and why. Keep this list short and say when it ends.
LONGER: dict[str, int] = {}


@pytest.mark.parametrize("module", modules(), ids=lambda m: m.name)
def test_no_module_over_400_lines(module: Module) -> None:
    lines = len(module.path.read_text(encoding="utf-8").splitlines())
    assert lines <= LONGER.get(module.name, MAX_LINES), f"{module.name}: {lines} lines"


def test_every_exception_class_lives_in_errors() -> None:
    errors = next(m for m in modules() if m.name == "briefkasten.errors")
    tree_names = {n.name for n in ast.walk(errors.tree) if isinstance(n, ast.ClassDef)}
    elsewhere = []
    for module in modules():
        if module.name == "briefkasten.errors":
            continue
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
            if bases & (tree_names | {"Exception", "BaseException", "ValueError", "RuntimeError"}):
                elsewhere.append(f"{module.name}.{node.name}")
    assert not elsewhere, "\n".join(elsewhere)

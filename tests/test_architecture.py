"""Checks of the package's structure (issue 10), over the source: no servers, no imports."""

from __future__ import annotations

import ast
import builtins
import inspect
from pathlib import Path

from briefkasten import errors

PACKAGE = Path(__file__).resolve().parent.parent / "briefkasten"
#: Modules whose exception classes another slice of issue 10 moves into errors.py (the
#: gateway's tus answers); delete an entry once that is merged.
NOT_MOVED_YET = {PACKAGE / "gateway" / "tus.py"}


def exception_names() -> set[str]:
    """Names of the builtin exceptions and of every class in ``briefkasten.errors``."""
    found = {
        name
        for name, value in vars(builtins).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    }
    found |= {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, BaseException)
    }
    return found


def base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def test_every_exception_class_lives_in_errors() -> None:
    """One error tree: a class deriving from an exception is defined in ``errors.py`` only."""
    known = exception_names()
    outside = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "errors.py" or path in NOT_MOVED_YET:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {base_name(b) for b in node.bases}
                if bases & known or any(b.endswith(("Error", "Exception")) for b in bases):
                    outside.append(f"{path.relative_to(PACKAGE.parent)}: {node.name}")
    assert not outside, f"exception classes outside briefkasten/errors.py: {outside}"

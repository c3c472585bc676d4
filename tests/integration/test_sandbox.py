"""The sandbox: children with hard limits; every way a child can end becomes a clear error.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_sandbox.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from briefkasten.errors import (
    TooComplex,
)
from briefkasten.pipeline.sandbox import Bounds, CpuBudget, Sandbox
from samples import degrade, generate
from tests.support import sandbox_targets as targets
from tests.unit import test_sandbox as unit_sandbox

sandbox = unit_sandbox.sandbox  # the fixture, shared with tests/unit/test_sandbox.py


def test_cpu_time_beyond_the_limit_is_too_complex(sandbox: Sandbox) -> None:
    with pytest.raises(TooComplex, match="CPU time"):
        sandbox.run(targets.spin)


def test_a_cpu_budget_spans_children_and_refuses_once_spent(sandbox: Sandbox) -> None:
    budget = CpuBudget(1.5)
    with pytest.raises(TooComplex, match="CPU time"):
        sandbox.run(targets.spin, budget=budget)  # its limit: the whole seconds left, not 2 s
    assert budget.spent == 1.0  # a child that overran counts with its whole limit
    with pytest.raises(TooComplex, match=r"used up its CPU budget of 1\.5 s"):
        sandbox.run(targets.pid, budget=budget)  # refused before a child starts


def test_a_page_child_imports_nothing_while_it_builds_a_photo(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The fork server holds every module a page needs, the libraries' lazily imported parts
    too (``warm.warm_libraries``): a page child imports none of them again (~25-35 ms a page)."""
    page, _ = generate.render_page("kontoauszug", seed=3, dpi=150)
    photo, _ = degrade.phone_photo(page, seed=3)
    image = tmp_path / "photo.jpg"
    photo.save(image, quality=90)
    bounds = Bounds(memory_mb=2048, cpu_s=60, wall_s=120)
    imported = sandbox.run(targets.modules_a_page_imports, str(image), str(tmp_path), bounds=bounds)
    assert imported == []

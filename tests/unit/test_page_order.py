"""The order pages start in (``PagePool.run_pages``): costliest first, results in page order.

The unit tier: the sandbox's ``map`` is a stand-in that records the order it is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from briefkasten.model import Original, PageKind, PageRef
from briefkasten.pipeline.pool import PagePool, page_cost


def ref(name: str, size: int, index: int = 0, pages: int = 1, kind: PageKind = "raster") -> PageRef:
    original = Original(name, Path(name), "0" * 64, size, "image/png", pages)
    return PageRef(original, index, kind)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    order: list[str] = []

    def map_(fn: Any, items: list[PageRef], *args: Any, **kwargs: Any) -> tuple[str, ...]:
        order.extend(f"{r.original.name}:{r.index}" for r in items)
        return tuple(fn(r, *args) for r in items)

    monkeypatch.setattr(
        "briefkasten.pipeline.sandbox.Sandbox.map", lambda self, *a, **k: map_(*a, **k)
    )
    return order


def label(r: PageRef, suffix: str) -> str:
    return f"{r.original.name}:{r.index}{suffix}"


def test_the_costliest_pages_start_first_and_come_back_in_order(started: list[str]) -> None:
    refs = [
        ref("small.png", 400),
        ref("big.png", 800),
        ref("born-digital.pdf", 10_000, kind="vector"),
        ref("medium.png", 600),
        ref("big2.png", 800),
    ]
    done = PagePool(2).run_pages(label, refs, "!")
    assert done == tuple(label(r, "!") for r in refs)  # page order
    assert started == [
        "big.png:0",
        "big2.png:0",
        "medium.png:0",
        "small.png:0",
        "born-digital.pdf:0",
    ]


def test_pages_of_one_file_keep_their_order(started: list[str]) -> None:
    refs = [ref("scan.tif", 3000, index=i, pages=3) for i in range(3)]
    assert PagePool(2).run_pages(label, refs, "") == ("scan.tif:0", "scan.tif:1", "scan.tif:2")
    assert started == ["scan.tif:0", "scan.tif:1", "scan.tif:2"]


def test_no_pages(started: list[str]) -> None:
    assert PagePool(2).run_pages(label, [], "") == ()


def test_the_cost_is_bytes_per_page_and_nothing_for_born_digital_pages() -> None:
    assert page_cost(ref("a.tif", 3000, pages=3)) == 1000.0
    assert page_cost(ref("a.pdf", 3000, kind="vector")) == 0.0
    assert page_cost(ref("empty.png", 10, pages=0)) == 10.0

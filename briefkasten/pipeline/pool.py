"""Page processes: every page of a document runs in a sandboxed child (``sandbox``).

A ``PagePool`` is the worker's view of the sandbox: ``run`` maps a page function over pages,
``workers`` at a time, and ``call`` runs one function (the sniff of an original) in a child.
Each page gets a fresh child forked from a fork server preloaded with the pipeline, within the
page limits (``sandbox.page_*``), so a page that exhausts its memory or is killed takes nothing
else down: the next page starts a new child. The parallelism is the pages: each Tesseract run
is single-threaded, and each child's OpenCV gets its share of the cores (``cores_per_slot``:
one thread with a slot per core).

``run_pages`` starts the pages expected to take longest first (``page_cost``: bytes of the
original per page; born-digital pages, which pass untouched, last), so that the document does
not wait at its end for one long page started last while the other children are idle; its
results are in page order all the same. Six scanned pages of 2.0, 1.55 and 1.15 s (twice
each), by their schedule on two children: done after 5.15 s in document order, 4.7 s longest
first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

from briefkasten.config import SandboxSettings
from briefkasten.model import PageRef
from briefkasten.pipeline.sandbox import Bounds, CpuBudget, Sandbox, page_bounds

T = TypeVar("T")


class PagePool:
    """``workers`` page children at a time, each within ``bounds``."""

    def __init__(self, workers: int, bounds: Bounds | None = None) -> None:
        self.workers = max(1, workers)
        self._sandbox = Sandbox(self.workers, bounds or page_bounds(SandboxSettings()))

    def run(
        self,
        fn: Callable[..., T],
        items: Sequence[Any],
        *args: Any,
        on_done: Callable[[], None] = lambda: None,
        budget: CpuBudget | None = None,
    ) -> tuple[T, ...]:
        """``fn(item, *args)`` for every item in page children (within ``budget`` together);
        results in input order."""
        return self._sandbox.map(fn, items, *args, on_done=on_done, budget=budget)

    def run_pages(
        self,
        fn: Callable[..., T],
        refs: Sequence[PageRef],
        *args: Any,
        on_done: Callable[[], None] = lambda: None,
        budget: CpuBudget | None = None,
    ) -> tuple[T, ...]:
        """``run`` over pages, the costliest started first (``page_cost``); results in the
        order of ``refs``."""
        order = sorted(range(len(refs)), key=lambda i: -page_cost(refs[i]))  # stable
        done = self.run(fn, [refs[i] for i in order], *args, on_done=on_done, budget=budget)
        by_index = dict(zip(order, done, strict=True))
        return tuple(by_index[i] for i in range(len(refs)))

    def call(self, fn: Callable[..., T], *args: Any, budget: CpuBudget | None = None) -> T:
        """``fn(*args)`` in one page child."""
        return self._sandbox.run(fn, *args, budget=budget)

    def close(self) -> None:
        """Nothing to release: children end with their call."""

    def __enter__(self) -> PagePool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def page_cost(ref: PageRef) -> float:
    """What a page is expected to cost, to order pages by: the bytes of its original per page
    (a denser scan is a larger file and takes Tesseract longer); 0 for a born-digital page."""
    if ref.kind == "vector":
        return 0.0
    return ref.original.size / max(1, ref.original.pages)

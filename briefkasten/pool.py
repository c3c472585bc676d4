"""Worker processes that normalise pages side by side.

A ``PagePool`` starts its processes on first use and can be reused across documents, so a
long-running process (a worker, a benchmark) pays the start-up (imports, OpenCV) only once.
Workers are started by a fork server preloaded with the pipeline, never forked from a parent
that may hold OpenCV threads. Each worker runs OpenCV single-threaded: the parallelism is the
pages, and each Tesseract run is single-threaded too.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

import cv2

T = TypeVar("T")


class PagePool:
    """A lazily started, reusable pool of ``workers`` page processes."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor: ProcessPoolExecutor | None = None

    def run(
        self,
        fn: Callable[..., T],
        items: Sequence[Any],
        *args: Any,
        on_done: Callable[[], None] = lambda: None,
    ) -> tuple[T, ...]:
        """``fn(item, *args)`` for every item in worker processes; results in input order."""
        executor = self._start()
        futures = [executor.submit(fn, item, *args) for item in items]
        for future in futures:
            future.add_done_callback(lambda _: on_done())
        try:
            return tuple(f.result() for f in futures)
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> PagePool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["briefkasten.document"])
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_init_worker
            )
        return self._executor


def _init_worker() -> None:
    cv2.setNumThreads(1)

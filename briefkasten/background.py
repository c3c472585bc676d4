"""A daemon thread that runs until ``stop()``: the shape of the workers' housekeeping loops."""

from __future__ import annotations

import threading
from typing import Self


class Background:
    """Subclasses implement ``_run`` and wait on ``self._stop`` between rounds."""

    thread_name = "background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError

"""Daemon threads that run until ``stop()``: the shape of the workers' housekeeping loops.

``Periodic`` is the loop the retention sweep and the reconciler share: a first round after a
short random pause (several workers started together do not all act at the same moment, and
never later than one interval), then one round every ``interval`` seconds; a round that fails
is logged and tried again next time, so the thread survives anything.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Self

from briefkasten.errors import BriefkastenError

log = logging.getLogger("briefkasten.housekeeping.periodic")


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


class Periodic(Background):
    """Calls ``_round()`` every ``interval`` seconds; ``rounds`` counts the rounds done."""

    def __init__(self, *, interval: float, first_delay: float | None = None) -> None:
        super().__init__()
        self._interval = interval
        pause = min(interval, random.uniform(5.0, 30.0))
        self._first = pause if first_delay is None else first_delay
        self.rounds = 0

    def _round(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        wait = self._first
        while not self._stop.wait(wait):
            try:
                self._round()
            except BriefkastenError as exc:
                log.warning("%s failed: %s", self.thread_name, exc.code)
            except Exception:  # the thread must survive anything and try again later
                log.exception("%s crashed", self.thread_name)
            self.rounds += 1
            wait = self._interval

"""Probes that keep state between readiness checks (``/readyz``, ``health.py``)."""

from __future__ import annotations

import threading
import time

from briefkasten.errors import BriefkastenError
from briefkasten.tools import tesseract

#: Seconds a Tesseract probe result is reused.
TESSERACT_TTL = 60.0


class TesseractProbe:
    """The OCR engine's version and languages for ``lang`` (and the ``tesseract`` program's
    version, where installed), cached for ``ttl`` seconds."""

    def __init__(self, lang: str, ttl: float = TESSERACT_TTL) -> None:
        self.lang = lang
        self.ttl = ttl
        self._lock = threading.Lock()
        self._answer: tuple[float, bool, str] | None = None

    def __call__(self) -> tuple[bool, str]:
        with self._lock:
            now = time.monotonic()
            if self._answer is None or now - self._answer[0] > self.ttl:
                self._answer = (now, *self._probe())
            return self._answer[1], self._answer[2]

    def _probe(self) -> tuple[bool, str]:
        try:
            engine = tesseract.engine_version()
            tesseract.check_lang(self.lang)
        except BriefkastenError as exc:
            return False, exc.message_en
        try:
            program = f"CLI {tesseract.version()}"
        except BriefkastenError:
            program = "no CLI"
        return True, f"tesseract {engine} ({program}), languages {self.lang}"

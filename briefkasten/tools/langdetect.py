"""Which language a page's OCR text is in: ``lingua-language-detector``, kept warm.

``detector(codes)`` builds one lingua detector for the given Tesseract language codes (only
those: fewer candidates, fewer models, fewer confusions) and keeps it for the process; the
sandbox's fork server builds the one for the configured allowlist at start-up
(``pipeline/warm.py``), so page children inherit its models copy-on-write. It runs in low
accuracy mode (trigram models only): on a page of text, hundreds of characters, that mode is
as good as the high one (lingua's own measurements) at a fraction of the memory. A guess takes
well under a millisecond on a page (measured on the generated letters of ``samples.langpages``).
"""

from __future__ import annotations

import threading
from typing import NamedTuple

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

#: Tesseract code → lingua's language, for every language the OCR can read.
LINGUA: dict[str, Language] = {
    "deu": Language.GERMAN,
    "eng": Language.ENGLISH,
    "pol": Language.POLISH,
    "tur": Language.TURKISH,
    "ron": Language.ROMANIAN,
    "ukr": Language.UKRAINIAN,
    "rus": Language.RUSSIAN,
    "bul": Language.BULGARIAN,
    "ara": Language.ARABIC,
    "fas": Language.PERSIAN,
}
_CODES = {language: code for code, language in LINGUA.items()}


class Guess(NamedTuple):
    """The likeliest language (a Tesseract code, ``None`` when lingua has no idea) and
    lingua's confidence in it (0–1, relative to the other candidates)."""

    language: str | None
    confidence: float


class Detector:
    """A lingua detector over a fixed set of languages."""

    def __init__(self, codes: frozenset[str]) -> None:
        self.codes = codes
        languages = [LINGUA[c] for c in sorted(codes) if c in LINGUA]
        self._lingua: LanguageDetector | None = None
        if len(languages) >= 2:  # lingua needs two candidates; one needs no detection
            self._lingua = (
                LanguageDetectorBuilder.from_languages(*languages)
                .with_low_accuracy_mode()
                .with_preloaded_language_models()
                .build()
            )

    def guess(self, text: str) -> Guess:
        if self._lingua is None:
            only = next(iter(self.codes), None) if len(self.codes) == 1 else None
            return Guess(only, 1.0 if only else 0.0)
        values = self._lingua.compute_language_confidence_values(text)
        if not values or values[0].value <= 0.0:
            return Guess(None, 0.0)
        return Guess(_CODES[values[0].language], float(values[0].value))


_DETECTORS: dict[frozenset[str], Detector] = {}
_GUARD = threading.Lock()


def detector(codes: frozenset[str]) -> Detector:
    """The detector for ``codes`` (the Tesseract codes among them that lingua knows), built
    once per process and kept."""
    known = frozenset(c for c in codes if c in LINGUA)
    with _GUARD:
        found = _DETECTORS.get(known)
        if found is None:
            found = _DETECTORS[known] = Detector(known)
        return found


def built() -> frozenset[frozenset[str]]:
    """The language sets whose detectors this process holds."""
    with _GUARD:
        return frozenset(_DETECTORS)

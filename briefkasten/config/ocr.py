"""The OCR's settings: ``[ocr]``, the languages a page is read in and how long it may take."""

from __future__ import annotations

from dataclasses import dataclass

from briefkasten.config.values import split_list

#: The languages the OCR can read (Tesseract codes): the default of ``ocr.languages``.
OCR_LANGUAGES = ("deu", "eng", "ukr", "rus", "bul", "ara", "fas", "tur", "ron", "pol")


@dataclass(frozen=True)
class OcrSettings:
    """Tesseract: the language(s) every page is read with first (``deu``, ``deu+eng``), a
    per-page time limit, and the languages (out of ``OCR_LANGUAGES``) a page may be read in."""

    lang: str = "deu"
    timeout_s: float = 300.0
    languages: str = ",".join(OCR_LANGUAGES)

    @property
    def allowed(self) -> tuple[str, ...]:
        return split_list(self.languages)

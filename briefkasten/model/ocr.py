"""What one OCR run read: words, lines in reading order, the page's text and language."""

from __future__ import annotations

from dataclasses import dataclass

#: A box in image pixels: left, top, right, bottom (``right``/``bottom`` exclusive).
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class OcrWord:
    """One recognised word, its box in image pixels and Tesseract's confidence (0–100)."""

    text: str
    box: Box
    confidence: float


@dataclass(frozen=True)
class OcrLine:
    """One text line in reading order: its words, box, baseline and where it belongs.

    ``baseline`` is hOCR's ``(slope, offset)``: the baseline runs through
    ``y = box.bottom + offset + slope · (x - box.left)``. ``size`` is the line's text height in
    pixels; ``angle`` the text angle Tesseract read it at (0, 90, 180, 270, counter-clockwise).
    ``block`` and ``paragraph`` number Tesseract's blocks and paragraphs in reading order.
    """

    words: tuple[OcrWord, ...]
    box: Box
    baseline: tuple[float, float]
    size: float
    block: int
    paragraph: int
    angle: int = 0


@dataclass(frozen=True)
class OcrResult:
    """One Tesseract run: plain text, confidence and the lines the text layer is drawn from;
    the page's language (a Tesseract code, ``deu``) and script (``Latin``, ``Cyrillic``,
    ``Arabic``; empty when not determined) as the OCR step decided them."""

    text: str
    confidence: float | None
    words: int
    lines: tuple[OcrLine, ...] = ()
    language: str = ""
    script: str = ""

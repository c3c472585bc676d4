"""Tesseract's hOCR read into lines and words (``model.OcrLine`` / ``model.OcrWord``).

Tesseract writes ``ocr_carea`` (block) > ``ocr_par`` > ``ocr_line`` (or ``ocr_header``,
``ocr_caption``, ``ocr_textfloat``) > ``ocrx_word``, in its reading order; each element's
``title`` carries ``bbox``, lines add ``baseline``, ``x_size`` and ``textangle``, words
``x_wconf``. Lines without a word are dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import NamedTuple

from briefkasten.model import Box, OcrLine, OcrWord

LINE_CLASSES = frozenset({"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"})
_NUMBER = r"-?\d+(?:\.\d+)?(?:[eE]-?\d+)?"


def parse_hocr(hocr: str) -> tuple[OcrLine, ...]:
    """Every line with words, in the order Tesseract wrote them."""
    parser = _HocrParser()
    parser.feed(hocr)
    parser.close()
    return tuple(parser.lines)


def _field(title: str, name: str, count: int) -> list[float] | None:
    found = re.search(rf"(?:^|;)\s*{name}((?:\s+{_NUMBER}){{{count}}})", title)
    return [float(v) for v in found.group(1).split()] if found else None


def _box(title: str) -> Box | None:
    values = _field(title, "bbox", 4)
    if values is None:
        return None
    left, top, right, bottom = (int(v) for v in values)
    return (left, top, right, bottom)


class _Open(NamedTuple):
    box: Box
    baseline: tuple[float, float]
    size: float
    angle: int


class _HocrParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[OcrLine] = []
        self._stack: list[tuple[str, str]] = []  # (tag, hOCR class)
        self._block = self._paragraph = -1
        self._line: _Open | None = None
        self._words: list[OcrWord] = []
        self._word: tuple[Box, float] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        kind = (values.get("class") or "").strip()
        title = values.get("title") or ""
        self._stack.append((tag, kind))
        if kind == "ocr_carea":
            self._block += 1
        elif kind == "ocr_par":
            self._paragraph += 1
        elif kind in LINE_CLASSES:
            self._open_line(title)
        elif kind == "ocrx_word" and self._line is not None:
            box = _box(title)
            conf = _field(title, "x_wconf", 1)
            if box is not None:
                self._word = (box, conf[0] if conf else -1.0)
                self._text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # <meta/>, <br/>: nothing of the lines

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            open_tag, kind = self._stack.pop()
            self._close(kind)
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._word is not None:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        while self._stack:
            self._close(self._stack.pop()[1])

    def _open_line(self, title: str) -> None:
        self._close_line()
        box = _box(title)
        if box is None:
            return
        baseline = _field(title, "baseline", 2) or [0.0, 0.0]
        size = _field(title, "x_size", 1)
        angle = _field(title, "textangle", 1)
        self._line = _Open(
            box,
            (baseline[0], baseline[1]),
            size[0] if size else float(box[3] - box[1]),
            int(angle[0]) % 360 if angle else 0,
        )
        self._words = []

    def _close(self, kind: str) -> None:
        if kind == "ocrx_word" and self._word is not None:
            text = " ".join("".join(self._text).split())
            if text:
                self._words.append(OcrWord(text, self._word[0], self._word[1]))
            self._word = None
        elif kind in LINE_CLASSES:
            self._close_line()

    def _close_line(self) -> None:
        line, self._line = self._line, None
        if line is None or not self._words:
            return
        block, paragraph = max(self._block, 0), max(self._paragraph, 0)
        self.lines.append(
            OcrLine(
                tuple(self._words), line.box, line.baseline, line.size, block, paragraph, line.angle
            )
        )
        self._words = []

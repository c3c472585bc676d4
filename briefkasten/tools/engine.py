"""Tesseract in this process (``tesserocr``): one warm API per language, results read directly.

``Engines`` keeps one ``PyTessBaseAPI`` per language string (``deu``, ``deu+eng``, ``osd``), so
the models are loaded once per process: a page child forked from the sandbox's fork server,
which built them at import (``briefkasten.pipeline.warm``), inherits them copy-on-write and
starts reading at once. Pixels go in as raw bytes (``SetImageBytes``): nothing is encoded,
nothing is written to disk.

``read_lines`` walks Tesseract's result iterator word by word into ``model.OcrLine`` /
``model.OcrWord``: the same lines, boxes, baselines, text heights, angles, blocks and
paragraphs as Tesseract's hOCR renderer writes (separator and image blocks are skipped as it
does), without the round trip through HTML.

The wheel's Tesseract is built without OpenMP and starts no threads, so forking after the
models are loaded is safe; ``OMP_THREAD_LIMIT=1`` is set before the library loads all the same.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# A Tesseract built with OpenMP reads this once, when it loads: set before importing it.
os.environ["OMP_THREAD_LIMIT"] = "1"

import numpy as np
import tesserocr
from tesserocr import PSM, RIL, PyTessBaseAPI

from briefkasten.model import Box, OcrLine, OcrWord
from briefkasten.tools.bidi import swap_order

#: Page segmentation modes Tesseract knows (``--psm 0`` … ``13``).
PSM_COUNT = int(PSM.COUNT)
#: Block types that carry no text lines: pictures and rules (hOCR's ``ocr_photo`` and
#: ``ocr_separator``). Their "words" are blanks.
_NON_TEXT_BLOCKS = frozenset(
    int(kind)
    for kind in (
        tesserocr.PT.FLOWING_IMAGE,
        tesserocr.PT.HEADING_IMAGE,
        tesserocr.PT.PULLOUT_IMAGE,
        tesserocr.PT.HORZ_LINE,
        tesserocr.PT.VERT_LINE,
        tesserocr.PT.NOISE,
    )
)


#: ``WordDirection`` values of right-to-left words (``DIR_RIGHT_TO_LEFT``, ``DIR_MIX``).
_RTL_WORDS = frozenset((int(tesserocr.DIR.RIGHT_TO_LEFT), int(tesserocr.DIR.MIX)))


def logical_order(visual: str) -> str:
    """A right-to-left word in reading order from the left-to-right (visual) order in which
    tesserocr's iterator hands out its characters (``"ةداهش"`` → ``"شهادة"``, ``bidi``).
    Tesseract's own text output and hOCR have the words in this order (checked word for word
    in ``tests/integration/test_rtl.py``)."""
    return swap_order(visual)


def library_version() -> str:
    """The version of the Tesseract library the engine runs (``5.5.4``), not the CLI's."""
    first = tesserocr.tesseract_version().split()  # "tesseract 5.5.4\n leptonica-1.87.0 …"
    return str(first[1] if len(first) > 1 else first[0])


def installed_languages(tessdata: Path) -> frozenset[str]:
    """The ``*.traineddata`` names in ``tessdata``."""
    return frozenset(tesserocr.get_languages(_path_arg(tessdata))[1])


class Engines:
    """One Tesseract API per language string, created on first use and kept (thread-safe:
    one caller at a time per API)."""

    def __init__(self) -> None:
        self._apis: dict[str, PyTessBaseAPI] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def loaded(self) -> frozenset[str]:
        with self._guard:
            return frozenset(self._apis)

    @contextmanager
    def use(self, tessdata: Path, lang: str) -> Iterator[PyTessBaseAPI]:
        """The API for ``lang``, created (``RuntimeError`` if Tesseract cannot load it) and
        held for the caller; its results are cleared when the caller is done."""
        with self._guard:
            lock = self._locks.setdefault(lang, threading.Lock())
        with lock:
            api = self._apis.get(lang)
            if api is None:
                api = PyTessBaseAPI(path=_path_arg(tessdata), lang=lang, init=True)
                with self._guard:
                    self._apis[lang] = api
            try:
                yield api
            finally:
                api.Clear()  # the page's pixels and results: not kept past the call

    def close(self) -> None:
        with self._guard:
            apis, self._apis = list(self._apis.values()), {}
        for api in apis:
            api.End()


def set_pixels(api: PyTessBaseAPI, grey: np.ndarray, dpi: float) -> None:
    """Hand ``grey`` (8-bit, H×W) to ``api`` as raw bytes, with its resolution."""
    pixels = np.ascontiguousarray(grey, dtype=np.uint8)
    height, width = pixels.shape
    api.SetImageBytes(pixels.tobytes(), width, height, 1, width)
    api.SetSourceResolution(max(1, round(dpi)))


def read_lines(api: PyTessBaseAPI) -> tuple[OcrLine, ...]:
    """Every text line with words after ``Recognize``, in Tesseract's reading order."""
    iterator = api.GetIterator()
    if iterator is None:
        return ()
    reader = _LineReader()
    iterator.Begin()
    while True:
        if not iterator.Empty(RIL.WORD) and int(iterator.BlockType()) not in _NON_TEXT_BLOCKS:
            reader.word(iterator)
        if not iterator.Next(RIL.WORD):
            break
    return reader.finish()


class _LineReader:
    """Collects words into lines, numbering blocks and paragraphs as hOCR does."""

    def __init__(self) -> None:
        self.lines: list[OcrLine] = []
        self._block = self._paragraph = -1
        self._open: tuple[Box, tuple[float, float], float, int] | None = None
        self._words: list[OcrWord] = []

    def word(self, it: tesserocr.PyResultIterator) -> None:
        if it.IsAtBeginningOf(RIL.TEXTLINE):
            self._close()
        if it.IsAtBeginningOf(RIL.BLOCK):
            self._block += 1
        if it.IsAtBeginningOf(RIL.PARA):
            self._paragraph += 1
        if it.IsAtBeginningOf(RIL.TEXTLINE) or self._open is None:
            self._open = _line_geometry(it)
        text = " ".join((it.GetUTF8Text(RIL.WORD) or "").split())
        if int(it.WordDirection()) in _RTL_WORDS:
            text = logical_order(text)
        box = it.BoundingBox(RIL.WORD)
        if text and box is not None:
            self._words.append(OcrWord(text, _box(box), float(it.Confidence(RIL.WORD))))

    def finish(self) -> tuple[OcrLine, ...]:
        self._close()
        return tuple(self.lines)

    def _close(self) -> None:
        line, self._open = self._open, None
        words, self._words = self._words, []
        if line is None or not words:
            return
        box, baseline, size, angle = line
        block, paragraph = max(self._block, 0), max(self._paragraph, 0)
        self.lines.append(OcrLine(tuple(words), box, baseline, size, block, paragraph, angle))


def _line_geometry(it: tesserocr.PyResultIterator) -> tuple[Box, tuple[float, float], float, int]:
    """Box, baseline ``(slope, offset)`` from the box's bottom left, text height and angle of
    the line at ``it``, as Tesseract's hOCR renderer computes them."""
    box = _box(it.BoundingBox(RIL.TEXTLINE) or (0, 0, 0, 0))
    orientation = int(it.Orientation()[0])  # 0 up, 1 right, 2 down, 3 left
    angle = (360 - orientation * 90) % 360
    baseline = (0.0, 0.0)
    ends = it.Baseline(RIL.TEXTLINE) if angle == 0 else None  # hOCR has none for turned text
    if ends:
        (x1, y1), (x2, y2) = ends
        x1, x2, y1, y2 = x1 - box[0], x2 - box[0], y1 - box[3], y2 - box[3]
        if x1 != x2:
            slope = (y2 - y1) / (x2 - x1)
            baseline = (round(slope, 3), round(y1 - slope * x1, 3))
    row = it.RowAttributes()
    size = float(row["row_height"]) if row else float(box[3] - box[1])
    return box, baseline, size, angle


def _box(values: tuple[int, int, int, int]) -> Box:
    left, top, right, bottom = (int(v) for v in values)
    return (left, top, right, bottom)


def _path_arg(tessdata: Path) -> str:
    """Tesseract wants the directory with a trailing slash."""
    return str(tessdata).rstrip("/") + "/"

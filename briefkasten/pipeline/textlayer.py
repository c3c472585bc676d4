"""The invisible text layer, drawn from Tesseract's lines and word boxes.

- One text object (``BT … ET``) per line, in Tesseract's reading order (block by block, so a
  two-column page comes out column by column), every word on the line's baseline; the end of
  a line that Tesseract put into a one-line block of its own is joined back to the line
  (``textrows.join_rows``).
- Each word is placed at its box and stretched with ``Tz`` to the box's width, so selecting
  it covers the word on the image; between words a real space glyph fills the gap, so every
  extractor joins words with spaces, and lines with line breaks.
- A gap wider than ``MAX_GAP`` text heights (between the cells of a table row, or a wide
  word space) is closed: the word before it is stretched over the blank up to ``CELL_GAP``
  text heights before the next word. ``pdftotext``'s default mode (what DMS indexers use)
  groups words by geometry and cuts a line at a gap of about a third of the font size; with
  the gaps closed every OCR line stays one line, a table row is read cell by cell instead of
  one block per table column. Columns stay apart: they are separate OCR lines.
- A line below text columns that does not reach under the last of them (a short footer)
  gets one word more after its last: a soft hyphen stretched to just past that column's left
  edge (``textreach.reaches``). Plain ``pdftotext`` would read the footer before the last
  column; with the line's extent under it, it reads it after, as Tesseract does. The line's
  words keep their boxes; every extractor reads the line with a space and U+00AD at its end.
- A right-to-left line (most letters of bidi class R/AL) is written as it stands on the
  page, in visual order: its words from left to right, each word's letters as they stand
  (``tools/bidi.py``), as PDF producers write Arabic script. Extractors with a bidi step read
  it in reading order (poppler, PDFBox, PDFium, pypdf); pdfminer.six, which has none, reads
  it reversed (docs/operations.md, "The text layer"). A word's box that reaches over its
  neighbours is shortened first.
- Text render mode 3 (invisible), under the image.
- The font (``textfont.py``) is an embedded TrueType of one glyph (a box, 500/1000 wide,
  never seen) in a ``Type0`` / ``CIDFontType2`` font: the character code is the Unicode code
  point, the ``ToUnicode`` map gives it back, so umlauts, ß and € extract as they are.
"""

from __future__ import annotations

import math
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pypdf import PageObject, PdfWriter
from pypdf.generic import (
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
)

from briefkasten.model import OcrLine, OcrWord
from briefkasten.pipeline.textfont import FONT_NAME, GLYPH_WIDTH, glyphless_font
from briefkasten.pipeline.textreach import reaches
from briefkasten.pipeline.textrows import join_rows
from briefkasten.tools.bidi import swap_order

#: A gap between two words of a line wider than this many text heights is closed: poppler
#: (``pdftotext``'s default mode) pulls a word into a block only within 0.3 font sizes of it
#: (``minColSpacing1``), and more than three lines of a block with wider gaps split it.
MAX_GAP = 0.28
#: What is left of a closed gap, in text heights: wider than poppler's word break in ``-raw``
#: mode (0.15 font sizes), narrower than ``MAX_GAP``: the words stay two words of one line.
CELL_GAP = 0.25
#: A line whose text height is within this share of the page's (or its block's) median text
#: height is set in that median (:func:`font_sizes`).
SIZE_TOLERANCE = 0.15
_SPACE = "0020"
#: The invisible filler word that makes a line below columns reach under them (``textreach``):
#: a soft hyphen, which poppler counts as a character (a space it does not), and which shows
#: nowhere.
FILLER = "00AD"
_REPLACEMENT = "FFFD"


@dataclass(frozen=True)
class Mapping:
    """Image pixels to PDF points: ``x · sx`` and ``height - y · sy`` (PDF's y points up)."""

    sx: float
    sy: float
    height: float


@dataclass(frozen=True)
class _Run:
    """One word along its line: its codes, start point and length (PDF points)."""

    code: str
    x: float
    y: float
    length: float


def add_text_layer(
    writer: PdfWriter, page: PageObject, lines: Sequence[OcrLine], image_size: tuple[int, int]
) -> None:
    """Put the invisible text of ``lines`` under what ``page`` draws (an image of
    ``image_size`` = (width, height) pixels filling the page's media box)."""
    if not lines:
        return
    width, height = image_size
    box = page.mediabox
    mapping = Mapping(float(box.width) / width, float(box.height) / height, float(box.height))
    text = content(lines, mapping)
    old = page.get_contents()
    body = b"q\n" + text + b"Q\n" + (old.get_data() if old is not None else b"")
    stream = DecodedStreamObject()
    stream.set_data(body)
    page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
    resources = page["/Resources"].get_object()
    assert isinstance(resources, DictionaryObject)
    fonts = resources.get("/Font")
    fonts = fonts.get_object() if fonts is not None else DictionaryObject()
    assert isinstance(fonts, DictionaryObject)
    fonts[NameObject(FONT_NAME)] = glyphless_font(writer)
    resources[NameObject("/Font")] = fonts


def content(lines: Sequence[OcrLine], mapping: Mapping) -> bytes:
    """The content stream of the text layer: one ``BT … ET`` per line, in reading order (a
    line's end that Tesseract put in a block of its own joined back: ``textrows``; a line
    below columns reaching under them: ``textreach``)."""
    lines = join_rows(lines)
    per_line = zip(lines, font_sizes(lines), reaches(lines), strict=True)
    return "".join(
        op for line, size, reach in per_line for op in _line_ops(line, mapping, size, reach)
    ).encode("ascii")


def font_sizes(lines: Sequence[OcrLine]) -> list[float]:
    """The font size of each line, in pixels: the page's median text height for a line within
    ``SIZE_TOLERANCE`` of it (the body text), else its block's median when within the
    tolerance of that (a table, a footnote), else its own height (a heading).

    Tesseract's heights vary by a few per cent from line to line (ascenders, umlauts) and
    from block to block; poppler stacks lines into one block only when their sizes differ by
    less than 5 %, so a column of jittering sizes fell apart into blocks read out of order.
    """
    if not lines:
        return []
    body = statistics.median(line.size for line in lines)
    by_block: dict[int, list[float]] = {}
    for line in lines:
        by_block.setdefault(line.block, []).append(line.size)
    blocks = {block: statistics.median(sizes) for block, sizes in by_block.items()}

    def near(size: float, reference: float) -> bool:
        return abs(size - reference) <= SIZE_TOLERANCE * reference

    return [
        body
        if near(line.size, body)
        else blocks[line.block]
        if near(line.size, blocks[line.block])
        else line.size
        for line in lines
    ]


def _line_ops(
    line: OcrLine, mapping: Mapping, size_px: float, reach_px: float | None = None
) -> list[str]:
    dx, dy = _direction(line)
    up = (-dy, dx)
    size = max(size_px * mapping.sy, 1.0)
    if right_to_left(line):
        runs = _visual_runs(line, mapping, dx, dy, size)
    else:
        runs = _close_gaps([_run(line, word, mapping) for word in line.words], dx, dy, size)
        if reach_px is not None:
            runs.append(_filler(runs[-1], reach_px * mapping.sx, dx, dy, size))
    ops = ["BT\n3 Tr\n", f"{FONT_NAME} {_num(size)} Tf\n"]
    unit = size * GLYPH_WIDTH / 1000  # one glyph's advance at Tz 100
    matrix = f"{_num(dx)} {_num(dy)} {_num(up[0])} {_num(up[1])}"
    for i, run in enumerate(runs):
        ops.append(f"{matrix} {_num(run.x)} {_num(run.y)} Tm\n")
        glyphs = len(run.code) // 4
        ops.append(f"{_num(100 * max(run.length, 0.1) / (glyphs * unit))} Tz <{run.code}> Tj\n")
        if i + 1 < len(runs):
            gap = _gap(run, runs[i + 1], dx, dy)
            ops.append(f"{_num(100 * max(gap, 0.1 * unit) / unit)} Tz <{_SPACE}> Tj\n")
    ops.append("ET\n")
    return ops


def _visual_runs(line: OcrLine, mapping: Mapping, dx: float, dy: float, size: float) -> list[_Run]:
    """A right-to-left line as it stands on the page: its words from left to right (along
    the line's direction ``dx, dy``), each word's letters in visual order (``bidi``), as
    PDF producers write Arabic script and extractors with a bidi step (poppler, PDFBox,
    PDFium, pypdf) expect it. A word's box that reaches over its neighbours (Tesseract's boxes
    of Arabic words do, by a letter's tail or by a whole word) is shortened first."""
    runs = [_run(line, replace(word, text=swap_order(word.text)), mapping) for word in line.words]
    runs.sort(key=lambda run: run.x * dx + run.y * dy)
    return _close_gaps(_no_overlaps(runs, dx, dy, size), dx, dy, size)


def right_to_left(line: OcrLine) -> bool:
    """Whether most letters of ``line`` are of a right-to-left script (bidi class R, AL)."""
    rtl = ltr = 0
    for word in line.words:
        for char in word.text:
            kind = unicodedata.bidirectional(char)
            rtl += kind in ("R", "AL")
            ltr += kind == "L"
    return rtl > ltr


def _gap(run: _Run, nxt: _Run, dx: float, dy: float) -> float:
    """The blank between the end of ``run`` and the start of ``nxt`` along the line."""
    return (nxt.x - run.x) * dx + (nxt.y - run.y) * dy - run.length


def _no_overlaps(runs: list[_Run], dx: float, dy: float, size: float) -> list[_Run]:
    """Shorten every word that runs into the next one (Arabic words' boxes overlap where a
    letter's tail reaches under its neighbour) to end ``CELL_GAP`` text heights before it:
    poppler takes a word that starts before the last one ended for a new column."""
    out = list(runs)
    for i in range(len(out) - 1):
        run = out[i]
        room = (out[i + 1].x - run.x) * dx + (out[i + 1].y - run.y) * dy - CELL_GAP * size
        if run.length > room:
            out[i] = _Run(run.code, run.x, run.y, max(room, 0.2 * run.length))
    return out


def _close_gaps(runs: list[_Run], dx: float, dy: float, size: float) -> list[_Run]:
    """Stretch every word followed by a gap wider than ``MAX_GAP`` text heights so that only
    ``CELL_GAP`` text heights are left: an OCR line (a table row) stays one line for poppler."""
    out = list(runs)
    for i in range(len(out) - 1):
        gap = _gap(out[i], out[i + 1], dx, dy)
        if gap > MAX_GAP * size:
            run = out[i]
            out[i] = _Run(run.code, run.x, run.y, run.length + gap - CELL_GAP * size)
    return out


def _filler(last: _Run, reach: float, dx: float, dy: float, size: float) -> _Run:
    """The filler word after ``last``, ``CELL_GAP`` text heights on, reaching x ``reach``
    (PDF points): a word of its own, so the last word keeps its box."""
    start = last.length + CELL_GAP * size
    x, y = last.x + start * dx, last.y + start * dy
    return _Run(FILLER, x, y, max((reach - x) / dx, 0.01))


def _direction(line: OcrLine) -> tuple[float, float]:
    """The reading direction of ``line`` in PDF space (a unit vector; y points up)."""
    slope = line.baseline[0] if line.angle in (0, 180) else 0.0
    angle = math.radians(line.angle) - math.atan(slope)
    return math.cos(angle), math.sin(angle)


def _run(line: OcrLine, word: OcrWord, mapping: Mapping) -> _Run:
    """Where ``word`` starts on the line's baseline, and how long it is, in PDF points
    (a word of an upside-down line starts at its right edge)."""
    left, top, right, bottom = (float(v) for v in word.box)
    slope, offset = line.baseline
    descent = 0.2 * line.size
    if line.angle == 180:  # upside down: starts at its right edge, baseline near the top
        x_px, length = right, (right - left) * mapping.sx
        y_px = line.box[3] + offset + slope * (x_px - line.box[0])
    elif line.angle == 90:  # reads bottom to top, letters' tops to the left
        x_px, y_px, length = right - descent, bottom, (bottom - top) * mapping.sy
    elif line.angle == 270:  # reads top to bottom, letters' tops to the right
        x_px, y_px, length = left + descent, top, (bottom - top) * mapping.sy
    else:
        x_px, length = left, (right - left) * mapping.sx
        y_px = line.box[3] + offset + slope * (x_px - line.box[0])
    x, y = x_px * mapping.sx, mapping.height - y_px * mapping.sy
    return _Run(_encode(word.text), x, y, max(length, 0.01))


def _encode(text: str) -> str:
    """UTF-16BE code units as hex, one per character; outside the BMP becomes U+FFFD."""
    units = []
    for char in text:
        code = ord(char)
        if code < 0x20 or 0xD800 <= code <= 0xDFFF or code > 0xFFFF:
            units.append(_REPLACEMENT)
        else:
            units.append(f"{code:04X}")
    return "".join(units) or _REPLACEMENT


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text

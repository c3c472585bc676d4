"""How far a line below text columns must reach so that ``pdftotext`` reads it after them.

``pdftotext``'s default mode orders its text blocks by two rules (poppler's
``TextBlock::isBeforeByRule1/2``): a block goes before another that it overlaps in x and
that lies below it (rule 1), and a block goes before every block right of it (rule 2), unless
a third block lies under the right one and above the left one, overlapping both. A short
footer under three columns overlaps the first two columns but not the third: no block lies
between them, so rule 2 reads the footer before the third column. Tesseract's reading order
(the content stream's) puts the footer last.

``reaches`` finds such lines: a line ``L`` with an earlier line ``M`` (in Tesseract's order)
that lies above it and entirely right of it, with no line between them that overlaps both.
``L``'s text must then reach past ``M``'s left edge (by ``REACH_MARGIN`` text heights), so
that rule 1 orders ``M`` first; ``textlayer`` draws an invisible filler word up to there. A
column's last line is not touched: the next column comes after it in Tesseract's order.

The x ranges are poppler's: it widens a block out to the edges of the blocks below it, as
far as its neighbours on its own rows allow (``_extended``), so a letter's short subject line
above the full-width body already reaches under the date on the right and needs no filler.
The filler is drawn only where the row is blank up to ``CLEARANCE`` text heights past its
end. Lines are taken in reading order, and a line that reaches under the columns is then the
line in between for the lines below it, so a footer of several lines needs one filler.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from briefkasten.model import OcrLine

#: How far past the left edge of the line above (in text heights) the filler reaches.
REACH_MARGIN = 0.5
#: Blank the row must have after the filler's end (text heights): no other line on it.
CLEARANCE = 1.0

_Span = tuple[float, float, float, float]  # left, top, right, bottom (image pixels)


def reaches(lines: Sequence[OcrLine]) -> list[float | None]:
    """For each of ``lines`` (in reading order) the image x its text must reach so that
    plain ``pdftotext`` reads it after the columns above it, or ``None`` (see the module)."""
    boxes = [(float(b[0]), float(b[1]), float(b[2]), float(b[3])) for b in (x.box for x in lines)]
    level = [line.angle == 0 for line in lines]
    spans = [_extended(i, boxes, level) for i in range(len(lines))]
    out: list[float | None] = []
    for i, line in enumerate(lines):
        reach = _reach(i, line.size, boxes, spans, level) if level[i] else None
        if reach is not None:
            left, top, right, bottom = spans[i]
            spans[i] = (left, top, max(right, reach), bottom)
        out.append(reach)
    return out


def _extended(i: int, boxes: list[_Span], level: list[bool]) -> _Span:
    """Line ``i``'s x range as poppler widens a block (``TextPage::coalesce``): out to the
    farthest edge of the lines below it that stays short of its neighbours on its row."""
    left, top, right, bottom = boxes[i]
    if not level[i]:
        return boxes[i]
    row = [b for k, b in enumerate(boxes) if k != i and level[k] and b[1] <= bottom and b[3] >= top]
    right_stop = min((b[0] for b in row if b[0] > right), default=math.inf)
    left_stop = max((b[2] for b in row if b[2] < left), default=-math.inf)
    below = [b for k, b in enumerate(boxes) if level[k] and b[1] >= bottom]
    wide_right = max((b[2] for b in below if b[2] <= right_stop), default=right)
    wide_left = min((b[0] for b in below if b[0] >= left_stop), default=left)
    return (min(left, wide_left), top, max(right, wide_right), bottom)


def _reach(
    i: int, size: float, boxes: list[_Span], spans: list[_Span], level: list[bool]
) -> float | None:
    """Where line ``i`` must reach: past the left edge of the rightmost earlier line above
    and right of it with no line in between (poppler's rule 2 exception), or ``None``."""
    own = spans[i]
    above_right = sorted(
        (j for j in range(i) if level[j] and spans[j][3] <= own[1] and spans[j][0] > own[2]),
        key=lambda j: -boxes[j][0],
    )
    between = [
        span
        for k, span in enumerate(spans)
        if k != i and level[k] and span[1] < own[1] and _overlap(span, own)
    ]
    for j in above_right:
        upper = spans[j]
        if not any(k[1] > upper[1] and _overlap(k, upper) for k in between):
            target = boxes[j][0] + REACH_MARGIN * size
            until = target + CLEARANCE * size
            return target if _row_blank(i, boxes[i], until, boxes) else None
    return None


def _overlap(a: _Span, b: _Span) -> bool:
    """The x ranges of ``a`` and ``b`` overlap (poppler's test of two blocks)."""
    return a[0] <= b[2] and b[0] <= a[2]


def _row_blank(i: int, own: _Span, until: float, boxes: list[_Span]) -> bool:
    """No other line on ``own``'s row between its right end and ``until``."""
    return not any(
        k != i and b[1] < own[3] and b[3] > own[1] and b[0] < until and b[2] > own[2]
        for k, b in enumerate(boxes)
    )

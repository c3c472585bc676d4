"""OCR lines that Tesseract cut off a row into a block of their own, joined back to the row.

Tesseract sometimes puts the end of a printed line into a block of its own: "Zeitraum:" in one
block and "01.09.2024 bis 30.09.2024" right next to it in the next, or the last two words of a
paragraph line. In its reading order that fragment comes after the whole block, so extractors
that keep the content stream's order (``pdftotext -raw``, pypdf, pdfminer.six) read it out of
place. ``join_rows`` appends such a fragment to the line it continues: a one-line block whose
line sits on the baseline of an earlier line of another block, of a similar size, starting
right of it with a gap of at most ``MAX_JOIN_GAP`` text heights. Text columns stay apart:
their blocks have many lines, and a gutter is wider than that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from briefkasten.model import OcrLine

#: The widest gap (in text heights) between a line's end and a fragment that continues it.
MAX_JOIN_GAP = 1.5
#: How far apart (in text heights) two baselines may be and still be one row.
BASELINE_BAND = 0.3
#: How much two lines' text heights may differ (share of the larger) to be one row.
SIZE_BAND = 0.2


def baseline_at(line: OcrLine, x: float) -> float:
    """The y of ``line``'s baseline at image column ``x`` (pixels)."""
    slope, offset = line.baseline
    return line.box[3] + offset + slope * (x - line.box[0])


def _continues(line: OcrLine, fragment: OcrLine) -> bool:
    if line.angle != 0 or fragment.angle != 0 or line.block == fragment.block:
        return False
    size = max(line.size, fragment.size)
    if abs(line.size - fragment.size) > SIZE_BAND * size:
        return False
    gap = fragment.box[0] - line.box[2]
    if not 0 <= gap <= MAX_JOIN_GAP * size:
        return False
    x = float(fragment.box[0])
    return abs(baseline_at(line, x) - baseline_at(fragment, x)) <= BASELINE_BAND * size


def joined(line: OcrLine, fragment: OcrLine) -> OcrLine:
    """``line`` with ``fragment``'s words appended; the baseline stays ``line``'s."""
    box = (
        line.box[0],
        min(line.box[1], fragment.box[1]),
        max(line.box[2], fragment.box[2]),
        max(line.box[3], fragment.box[3]),
    )
    slope, offset = line.baseline
    return OcrLine(
        line.words + fragment.words,
        box,
        (slope, offset + line.box[3] - box[3]),
        line.size,
        line.block,
        line.paragraph,
        line.angle,
    )


def join_rows(lines: Sequence[OcrLine]) -> list[OcrLine]:
    """``lines`` in reading order with every one-line block that continues an earlier line of
    another block appended to that line (see the module's description)."""
    per_block = Counter(line.block for line in lines)
    out: list[OcrLine] = []
    for line in lines:
        if per_block[line.block] == 1:
            host = next((i for i, o in enumerate(out) if _continues(o, line)), None)
            if host is not None:
                out[host] = joined(out[host], line)
                continue
        out.append(line)
    return out

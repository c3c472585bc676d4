"""The size Tesseract reads at: the OCR copy resampled so its text has a chosen x-height.

Tesseract's layout analysis costs in proportion to the pixels it is given, while its LSTM
recogniser scales every text line to a fixed height anyway: a 300-dpi page of 10-11 pt text
(x-height about 23 px) reads as well with an x-height of 20 px, in less time. So the grey copy
is shrunk (never enlarged) until the text's x-height is ``target`` pixels, or until it has at
most ``max_pixels``, but never so far that the x-height falls below ``floor``. The words' and
lines' boxes Tesseract returns are mapped back to the page's pixels (``to_page``), where the
text layer places them.

The x-height is the commonest height of character-sized ink components (Otsu threshold,
8-connected), measured on a copy at most ``_MEASURE_SIDE`` pixels long (~40 ms for an A4 page
at 300 dpi). Digits and capitals form a second peak about 1.4× higher; on a page of figures
that peak can be the taller one, so a clear peak at 0.55-0.85× the tallest counts as the
x-height instead.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import NamedTuple

import cv2
import numpy as np

from briefkasten.model import Box, OcrLine, OcrWord
from briefkasten.pipeline.geometry import contrast

#: Long side (px) of the copy the x-height is measured on.
_MEASURE_SIDE = 2000
#: Character-sized components needed before the measurement counts.
_MIN_COMPONENTS = 40
#: A lower peak at least this share of the tallest one is the x-height (the taller one: digits
#: and capitals).
_LOWER_PEAK_SHARE = 0.3


class Scale(NamedTuple):
    """How the OCR copy is resampled: ``factor`` (≤ 1) and the x-height it was chosen from."""

    factor: float
    x_height: float | None

    def describe(self) -> str:
        measured = (
            "x-height not measurable"
            if self.x_height is None
            else (f"x-height {self.x_height:.0f} px")
        )
        if self.factor >= 1.0:
            return f"read at full size ({measured})"
        return f"read at {self.factor:.2f}× ({measured})"


def x_height(grey: np.ndarray) -> float | None:
    """The x-height of the text in ``grey`` in its pixels, or ``None`` (too little text)."""
    scale = min(1.0, _MEASURE_SIDE / max(grey.shape[:2]))
    small = grey if scale >= 1.0 else resample(grey, scale)
    if contrast(small) < 4.0:
        return None
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    w = stats[1:, cv2.CC_STAT_WIDTH]
    area = stats[1:, cv2.CC_STAT_AREA]
    # Character-sized: not specks, not rules or frames (wide), not pictures (tall), not hollow.
    keep = (h >= 3) & (w >= 2) & (h <= 0.05 * small.shape[0]) & (w <= 3 * h)
    keep &= area >= 0.15 * h * w
    heights = h[keep]
    if heights.size < _MIN_COMPONENTS:
        return None
    peak = _peak_height(np.bincount(heights).astype(np.float64))
    return float(peak / scale)


def _peak_height(counts: np.ndarray) -> float:
    """The x-height peak of a histogram of component heights (index = height in px)."""
    smooth = np.convolve(counts, [1.0, 2.0, 1.0], mode="same")
    tallest = int(np.argmax(smooth))
    low, high = math.floor(0.55 * tallest), math.floor(0.85 * tallest) + 1
    if high > low:
        lower = low + int(np.argmax(smooth[low:high]))
        if smooth[lower] >= _LOWER_PEAK_SHARE * smooth[tallest] and lower > 0:
            return _centre(counts, lower)
    return _centre(counts, tallest)


def _centre(counts: np.ndarray, index: int) -> float:
    """The count-weighted mean height around ``index`` (±1 px): sub-pixel peak position."""
    lo, hi = max(0, index - 1), min(len(counts), index + 2)
    weights = counts[lo:hi]
    total = float(weights.sum())
    return float(index) if total <= 0 else float((np.arange(lo, hi) * weights).sum() / total)


def choose(
    shape: tuple[int, ...],
    measured: float | None,
    *,
    target: float,
    floor: float,
    max_pixels: float,
) -> Scale:
    """The factor (0 < factor ≤ 1) that brings the x-height ``measured`` to ``target`` and the
    image of ``shape`` to at most ``max_pixels``, without the x-height falling below ``floor``.

    ``target <= 0`` turns resampling off (factor 1)."""
    if target <= 0:
        return Scale(1.0, measured)
    pixels = float(shape[0]) * float(shape[1])
    factor = min(1.0, math.sqrt(max_pixels / pixels)) if pixels > 0 else 1.0
    if measured is not None and measured > 0:
        factor = min(factor, target / measured)
        factor = max(factor, min(1.0, floor / measured))
    return Scale(min(1.0, factor), measured)


def resample(grey: np.ndarray, factor: float) -> np.ndarray:
    """``grey`` shrunk by ``factor`` (area averaging); itself for ``factor`` ≥ 1."""
    if factor >= 1.0:
        return grey
    height, width = grey.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def to_page(
    lines: tuple[OcrLine, ...], factor: float, shape: tuple[int, ...]
) -> tuple[OcrLine, ...]:
    """``lines`` read on a copy resampled by ``factor``, in the pixels of the page of ``shape``
    (boxes scaled and clipped to the page; baseline offsets and text heights scaled, slopes
    and angles kept)."""
    if factor == 1.0:
        return lines
    up = 1.0 / factor
    height, width = int(shape[0]), int(shape[1])

    def box(b: Box) -> Box:
        left, top, right, bottom = (round(v * up) for v in b)
        return (
            min(max(left, 0), width),
            min(max(top, 0), height),
            min(max(right, 0), width),
            min(max(bottom, 0), height),
        )

    return tuple(
        replace(
            line,
            words=tuple(OcrWord(w.text, box(w.box), w.confidence) for w in line.words),
            box=box(line.box),
            baseline=(line.baseline[0], line.baseline[1] * up),
            size=line.size * up,
        )
        for line in lines
    )

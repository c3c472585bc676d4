"""Text lines of a page as point chains: what the dewarp step fits its page model to.

On an ink mask (``geometry.ink_mask``): character-sized components (by the median character
height), words by closing the characters horizontally, each word's centre points (the ink's
centre of mass in bins one text height wide), and words chained left to right into lines, also
across table gaps where the next cell continues the line's height. Bowed and kinked lines are
followed along their own slope, so a curved page gives whole lines, not fragments. Closing often
joins a whole line into one blob; one bowed by more than a line's height is still used, bin by
bin (each bin one line high), not dropped as if two lines touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MAX_WORDS = 6000  # more word blobs than this is noise, not a page of text
_BOWED_WIDTH = 6.0  # a blob over 2.5 text heights tall but this many wide may be a bowed line
_BIN_EXTENT = 2.2  # whose bins (one text height wide) are each at most this many heights tall


@dataclass(frozen=True)
class TextLine:
    """One text line's centre points (x, y) on the work copy, left to right."""

    points: np.ndarray  # N×2 float

    @property
    def width(self) -> float:
        return float(self.points[-1, 0] - self.points[0, 0]) if len(self.points) else 0.0


def text_height(chars: np.ndarray) -> float | None:
    """The median height of character-sized components of an ink mask, or ``None``."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(chars.astype(np.uint8), connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    areas = stats[1:, cv2.CC_STAT_AREA]
    useful = heights[(areas >= 6) & (heights >= 3)]
    if count < 2 or len(useful) < 10:
        return None
    return float(np.median(useful))


def find_lines(ink: np.ndarray) -> tuple[list[TextLine], float] | None:
    """The text lines of an ink mask (True = ink) and the text height, or ``None``."""
    height = text_height(ink)
    if height is None:
        return None
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    hs, ws = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    char = (hs >= 0.35 * height) & (hs <= 2.5 * height) & (ws <= 4 * height)
    char[0] = False
    chars = char[labels]
    k = max(3, round(1.2 * height))
    words = cv2.morphologyEx(
        chars.astype(np.uint8), cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1))
    )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(words, connectivity=8)
    if count - 1 > MAX_WORDS:
        return None
    ys, xs = np.nonzero(chars)
    word = labels[ys, xs]
    # Centre points: the ink's centre of mass in bins one text height wide, per word.
    bin_w = max(2, round(height))
    key = word.astype(np.int64) * (ink.shape[1] // bin_w + 1) + xs // bin_w
    uniq, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    mean_x = np.bincount(inverse, weights=xs) / counts
    mean_y = np.bincount(inverse, weights=ys) / counts
    owner = uniq // (ink.shape[1] // bin_w + 1)
    # Each bin's ink extent: a tall word blob may be a whole bowed line (closing joins a line's
    # words), whose bins are each one line high, or two lines touching, whose bins are not.
    top = np.full(len(uniq), np.inf)
    bottom = np.full(len(uniq), -np.inf)
    np.minimum.at(top, inverse, ys)
    np.maximum.at(bottom, inverse, ys)
    extent = bottom - top + 1
    spans: list[np.ndarray] = []
    for label in range(1, count):
        h, w = stats[label, cv2.CC_STAT_HEIGHT], stats[label, cv2.CC_STAT_WIDTH]
        if w < 1.5 * height:
            continue
        pick = (owner == label) & (counts >= 0.15 * height)
        if h > 2.5 * height:
            if w < _BOWED_WIDTH * height:
                continue
            pick &= extent <= _BIN_EXTENT * height
        if pick.sum() >= 2:
            pts = np.stack([mean_x[pick], mean_y[pick]], axis=1)
            pts = pts[np.argsort(pts[:, 0])]
            spans += _runs(pts, height) if h > 2.5 * height else [pts]
    return _chain(spans, height), height


def _runs(pts: np.ndarray, height: float) -> list[np.ndarray]:
    """The pieces of a tall blob's centre points (sorted by x) that run on without a jump
    (half a text height between neighbours, or a gap of over three bins): a bowed line stays
    one piece, two lines touching at a character fall apart (or lost their mixed bins)."""
    step = np.abs(np.diff(pts[:, 1])) > 0.5 * height
    step |= np.diff(pts[:, 0]) > 3.0 * height
    pieces = np.split(pts, np.flatnonzero(step) + 1)
    return [p for p in pieces if len(p) >= 2]


def _chain(spans: list[np.ndarray], height: float) -> list[TextLine]:
    """Join words left to right into lines. The next word must continue the line's height
    (extrapolated along the line's recent slope) within half a text height; near words (gap
    under three text heights) first, table cells further along the row (up to 40 heights) only
    within a third of a height, the closest match winning."""
    spans.sort(key=lambda p: float(p[0, 0]))
    lefts = np.array([p[0] for p in spans]) if spans else np.zeros((0, 2))
    taken = np.zeros(len(spans), bool)
    lines = []
    for i, pts in enumerate(spans):
        if taken[i]:
            continue
        taken[i] = True
        chain = [pts]
        for _ in range(len(spans)):  # bounded: each word joins one chain at most
            tail = np.concatenate(chain[-4:])
            tail = tail[tail[:, 0] >= tail[-1, 0] - 30 * height]
            slope = _slope(tail)
            end = tail[-1]
            gap = lefts[:, 0] - end[0]
            miss = np.abs(lefts[:, 1] - (end[1] + slope * np.maximum(gap, 0.0))) / height
            near = ~taken & (gap > -0.5 * height) & (gap < 3.0 * height) & (miss < 0.5)
            far = ~taken & (gap >= 3.0 * height) & (gap < 40.0 * height) & (miss < 0.33)
            pick = near if near.any() else far
            if not pick.any():
                break
            cost = miss + gap / (20.0 * height)
            j = int(np.flatnonzero(pick)[np.argmin(cost[pick])])
            taken[j] = True
            chain.append(spans[j])
        lines.append(TextLine(np.concatenate(chain)))
    return lines


def _slope(pts: np.ndarray) -> float:
    if len(pts) < 2 or np.ptp(pts[:, 0]) < 1e-6:
        return 0.0
    return float(np.clip(np.polyfit(pts[:, 0], pts[:, 1], 1)[0], -0.3, 0.3))


def empty_share(ink: np.ndarray, strips: int = 16) -> float:
    """The median share of empty rows in narrow vertical strips of the text's box: high (~0.5–0.8)
    where text lines run across, with blank rows between them, even when they bow; low where
    they run down the page (a page on its side)."""
    ys, xs = np.nonzero(ink)
    if len(ys) == 0:
        return 0.0
    box = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    shares = []
    for strip in np.array_split(box, min(strips, box.shape[1]), axis=1):
        profile = strip.sum(axis=1)
        rows = np.flatnonzero(profile)
        if len(rows) >= 10:
            shares.append(float(np.mean(profile[rows[0] : rows[-1] + 1] == 0)))
    return float(np.median(shares)) if shares else 0.0

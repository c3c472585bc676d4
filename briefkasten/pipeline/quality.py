"""Quality flags: is a page blurry, too dark, too small, blank or cut off at the border?

A page is never rejected for these; the flags travel with it into the report so a case worker
(Sachbearbeiter) can ask for a better copy. ``measure`` computes plain numbers from the pixels,
``judge`` turns them into flags against thresholds, and ``assess`` is the pipeline step.

Every measure works on one small analysis copy (about 150 dpi, at most ~2.5 megapixels), so a
whole A4 page at 300 dpi costs a few tens of milliseconds:

* **paper level** (``brightness``): the page background is estimated with a large max filter on
  a quarter-size copy (text disappears, paper and shadows remain); its median is the paper
  brightness. Dividing the page by it flattens shadows and uneven light.
* **ink**: pixels clearly darker than the paper around them (``< ink_ratio × background``).
* **scanner borders**: solid dark regions touching the image edge that survive an erosion of
  ~2 mm (text strokes do not) are left out of every other measure, with a small margin.
* **sharpness**: mean squared Laplacian of the flattened page on the edges of the ink (the
  morphological gradient of the ink mask), so it depends on how crisp the edges are and not on
  how much text the page carries; a sparse page is not called blurry.
* **edge ink** (``edge``): for each side, the share of the side's length where ink reaches into a
  ~1 mm strip along it, counting only short runs (characters and lines cut by the border; a long
  run is a frame line or a sliver of background left by a perspective warp). The largest side
  counts.

Written by hand because no maintained library offers document-page quality checks of this kind;
the building blocks are OpenCV's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from briefkasten.model import Page
from briefkasten.pipeline.runner import StepContext

#: Every flag this step may set.
FLAGS = ("blurry", "too_dark", "low_resolution", "blank", "cut_off")

_ANALYSIS_DPI = 150.0
_MAX_ANALYSIS_PIXELS = 2_500_000
_MIN_MEASURABLE = 16  # below this many pixels on a side only size and brightness are measured
_MM_PER_INCH = 25.4
_A4_LONG_MM = 297.0


@dataclass(frozen=True)
class Measures:
    """Numbers computed from a page's pixels; no content.

    ``sharpness`` is None when the page has too few ink edges to judge it. ``ink`` and
    ``border`` are fractions of the image area, ``edge`` a fraction of the worst side's length.
    """

    width: int
    height: int
    dpi: float
    brightness: float
    ink: float
    sharpness: float | None
    edge: float
    border: float

    def describe(self) -> str:
        sharp = "none" if self.sharpness is None else f"{self.sharpness:.0f}"
        return (
            f"size={self.width}x{self.height} dpi={self.dpi:.0f} sharpness={sharp} "
            f"brightness={self.brightness:.0f} ink={self.ink:.4f} edge={self.edge:.3f} "
            f"border={self.border:.3f}"
        )


@dataclass(frozen=True)
class Thresholds:
    """Where a measure turns into a flag; each can be set per pipeline (``[[steps]]`` keys)."""

    min_sharpness: float = 80.0
    min_brightness: float = 110.0
    min_dpi: float = 150.0
    min_short_side: int = 600
    min_ink: float = 0.0003
    max_edge: float = 0.02

    @classmethod
    def from_ctx(cls, ctx: StepContext) -> Thresholds:
        d = cls()
        return cls(
            min_sharpness=float(ctx.param("min_sharpness", d.min_sharpness)),
            min_brightness=float(ctx.param("min_brightness", d.min_brightness)),
            min_dpi=float(ctx.param("min_dpi", d.min_dpi)),
            min_short_side=int(ctx.param("min_short_side", d.min_short_side)),
            min_ink=float(ctx.param("min_ink", d.min_ink)),
            max_edge=float(ctx.param("max_edge", d.max_edge)),
        )


def assess(page: Page, ctx: StepContext) -> Page:
    """Pipeline step: add quality flags to a raster page; never rejects, never raises."""
    if page.image is None:
        return page.evolve(detail="no pixels to assess")
    measures = measure(page.image, page.dpi)
    flags = judge(measures, Thresholds.from_ctx(ctx))
    note = measures.describe() + (f" flags={','.join(flags)}" if flags else "")
    return page.flagged(*flags).evolve(detail=note)


def judge(m: Measures, t: Thresholds) -> tuple[str, ...]:
    """The flags ``m`` earns against ``t``, in the order of ``FLAGS``."""
    blank = m.ink < t.min_ink
    found = {
        "blurry": not blank and m.sharpness is not None and m.sharpness < t.min_sharpness,
        "too_dark": m.brightness < t.min_brightness,
        "low_resolution": (0 < m.dpi < t.min_dpi) or min(m.width, m.height) < t.min_short_side,
        "blank": blank,
        "cut_off": not blank and m.edge > t.max_edge,
    }
    return tuple(f for f in FLAGS if found[f])


def measure(image: np.ndarray, dpi: float) -> Measures:
    """Compute every measure of an 8-bit grey or RGB page at ``dpi`` (0 or NaN: unknown)."""
    dpi = float(dpi) if math.isfinite(dpi) and dpi > 0 else 0.0
    shape = (*np.shape(image), 1, 1)
    height, width = (int(shape[0]), int(shape[1])) if np.ndim(image) >= 2 else (1, int(shape[0]))
    grey, factor = _analysis_copy(image, dpi)
    if min(grey.shape) < _MIN_MEASURABLE:
        level = float(np.median(grey)) if grey.size else 0.0
        return Measures(width, height, dpi, level, 0.0, None, 0.0, 0.0)
    px_per_mm = pixels_per_mm(dpi / factor, grey.shape)
    small = cv2.resize(grey, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    paper_small = paper_level(small, px_per_mm / 4)
    border_small = _border(small, paper_small)
    inside_small = ~border_small
    if not inside_small.any():
        level = float(np.median(paper_small))
        return Measures(width, height, dpi, level, 0.0, None, 0.0, 1.0)
    size = (grey.shape[1], grey.shape[0])
    background = np.maximum(
        cv2.resize(paper_small, size, interpolation=cv2.INTER_LINEAR).astype(np.float32),
        grey.astype(np.float32),
    )
    border = cv2.resize(border_small.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    inside = border == 0
    ink = _ink_mask(grey, background) & inside
    return Measures(
        width=width,
        height=height,
        dpi=dpi,
        brightness=float(np.median(paper_small[inside_small])),
        ink=float(ink.sum()) / max(1, int(inside.sum())),
        sharpness=_sharpness(grey, background, ink),
        edge=_edge_ink(ink, ~inside, px_per_mm),
        border=1.0 - float(inside_small.mean()),
    )


def _analysis_copy(image: np.ndarray, dpi: float) -> tuple[np.ndarray, int]:
    """A grey uint8 copy reduced by an integer factor to about ``_ANALYSIS_DPI``, and the factor.

    Integer factors keep OpenCV's fast area-averaging path (a few ms for A4 at 300 dpi).
    """
    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 1:
        img = img[np.newaxis, :]
    elif img.ndim == 3:
        img = img[:, :, :3] if img.shape[2] >= 3 else img[:, :, 0]
    elif img.ndim != 2:
        return np.zeros((0, 0), np.uint8), 1
    if img.size == 0:
        return np.zeros((0, 0), np.uint8), 1
    height, width = img.shape[:2]
    factor = max(1, round(dpi / _ANALYSIS_DPI)) if dpi else 1
    while height * width > _MAX_ANALYSIS_PIXELS * factor * factor:
        factor += 1
    img = np.ascontiguousarray(img)
    if factor > 1 and min(height, width) >= factor:
        img = cv2.resize(img, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(img), factor


def pixels_per_mm(dpi: float, shape: tuple[int, ...]) -> float:
    """Pixels per millimetre at ``dpi``; when it is unknown (0, NaN), of an image of ``shape``
    whose long side is an A4 page's (297 mm)."""
    if math.isfinite(dpi) and dpi > 0:
        return dpi / _MM_PER_INCH
    return max(shape[:2]) / _A4_LONG_MM


def paper_level(small: np.ndarray, px_per_mm: float) -> np.ndarray:
    """The paper brightness around each pixel: a max filter wider than any stroke, smoothed
    (also the OCR copy's, ``ocr.flatten``)."""
    radius = max(1, round(3.0 * px_per_mm))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * radius + 1, 2 * radius + 1))
    paper = cv2.dilate(small, kernel)
    return cv2.blur(paper, (2 * radius + 1, 2 * radius + 1))


def _border(small: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Solid dark regions touching the image edge (scanner lids, warp fill), plus a margin.

    A dark region counts when part of it survives an erosion (text strokes do not) and it
    touches the edge; the whole connected region is taken, so the thin tips of the wedges a
    rotation leaves in the corners are included.
    """
    level = float(np.percentile(paper, 75))
    dark = (small < max(0.6 * level, 1.0)).astype(np.uint8)
    core = cv2.erode(dark, np.ones((3, 3), np.uint8))
    if not core.any():
        return np.zeros(small.shape, bool)
    _, labels = cv2.connectedComponents(dark, connectivity=8)
    at_edge = np.unique(np.concatenate((labels[0], labels[-1], labels[:, 0], labels[:, -1])))
    solid = np.unique(labels[core > 0])
    keep = np.intersect1d(at_edge[at_edge > 0], solid)
    if keep.size == 0:
        return np.zeros(small.shape, bool)
    mask = np.isin(labels, keep).astype(np.uint8)
    return cv2.dilate(mask, np.ones((5, 5), np.uint8)).astype(bool)


def _ink_mask(grey: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Pixels clearly darker than their paper: relative (shadow-proof) and absolute (noise)."""
    g = grey.astype(np.float32)
    return (g < 0.6 * background) & (background - g > 20.0)


def _sharpness(grey: np.ndarray, background: np.ndarray, ink: np.ndarray) -> float | None:
    """Mean squared Laplacian of the flattened page on ink edges (×1000); None if too few."""
    ink8 = ink.astype(np.uint8)
    edges = cv2.morphologyEx(ink8, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)
    count = int(edges.sum())
    if count < max(50, 0.0002 * edges.size):
        return None
    flat = grey.astype(np.float32) / np.maximum(background, 1.0)
    lap = cv2.Laplacian(flat, cv2.CV_32F, ksize=1)
    return float(np.mean(np.square(lap[edges]))) * 1000.0


def _edge_ink(ink: np.ndarray, border: np.ndarray, px_per_mm: float) -> float:
    """Worst side's share of length where ink crosses the edge in short runs.

    Ink "crosses" at a position along a side when it is both in the outer 0.3 mm and in the band
    0.6-1.5 mm inside: cut characters do, thin slivers of background left by a perspective warp
    do not. Runs longer than 25 mm (frame lines, wide slivers) and runs that continue into a
    scanner border (the tip of a rotation wedge) do not count.
    """
    outer = max(1, round(0.3 * px_per_mm))
    inner_from = max(outer + 1, round(0.6 * px_per_mm))
    inner_to = max(inner_from + 1, round(1.5 * px_per_mm))
    max_run = max(3, round(25.0 * px_per_mm))
    shares = []
    for side_ink, side_border in (
        (ink, border),
        (ink[::-1], border[::-1]),
        (ink.T, border.T),
        (ink.T[::-1], border.T[::-1]),
    ):
        crossing = np.asarray(
            side_ink[:outer].any(axis=0) & side_ink[inner_from:inner_to].any(axis=0)
        )
        excluded = np.asarray(side_border[:inner_to].any(axis=0))
        shares.append(_short_run_share(crossing, excluded, max_run))
    return max(shares)


def _short_run_share(present: np.ndarray, excluded: np.ndarray, max_run: int) -> float:
    """Share of the length covered by runs of ``present`` no longer than ``max_run`` that do
    not touch an ``excluded`` position."""
    if present.size == 0 or not present.any():
        return 0.0
    either = present | excluded
    padded = np.concatenate(([0], either.astype(np.int8), [0]))
    change = np.flatnonzero(np.diff(padded))
    starts, ends = change[0::2], change[1::2]
    excluded_before = np.concatenate(([0], np.cumsum(excluded, dtype=np.int64)))
    clean = excluded_before[ends] == excluded_before[starts]
    keep = clean & (ends - starts <= max_run)
    return float((ends - starts)[keep].sum()) / present.size

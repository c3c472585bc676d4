"""The grey copy Tesseract reads, prepared so its layout analysis sees the page as printed.

Only this copy is changed; the stored page keeps its colour and pixels.

- ``ocr_copy``: grey; a dark photo gets its contrast stretched (CLAHE).
- ``blank_border``: solid dark regions that touch the image's edge are painted in the paper's
  brightness. They are not the page: the scanner's lid or bed around a skewed scan (turned
  with the page by ``deskew``), the table under a photo. Office printers leave a margin, so
  printed matter does not touch the edge. With the dark bed in the copy Tesseract took a bank
  statement's table for columns (all dates, then all texts: CER 0.70 instead of 0.00 on a
  generated statement scanned at 16.8° on a black bed).
"""

from __future__ import annotations

import cv2
import numpy as np

#: A pixel is dark below this share of the paper's brightness.
_DARK_SHARE = 0.6
#: Share of the image a dark region must cover to be a border (letters cut by the edge: less).
_MIN_AREA = 0.005
#: Pixels the painted region reaches past the dark region (its blurred rim).
_MARGIN = 2


def ocr_copy(image: np.ndarray, *, dark: bool = False) -> np.ndarray:
    """The grey image Tesseract reads; dark photos get their contrast stretched first."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if dark:
        clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
        grey = clahe.apply(cv2.normalize(grey, np.empty_like(grey), 0, 255, cv2.NORM_MINMAX))
    return grey


def blank_border(grey: np.ndarray) -> tuple[np.ndarray, float]:
    """``grey`` with the solid dark regions touching its edge painted paper-bright, and the
    share of the image painted (``grey`` itself and 0.0 when there are none).

    A region counts when it touches the edge, covers at least ``_MIN_AREA`` of the image and
    part of it survives a 5×5 erosion (strokes of text do not)."""
    h, w = grey.shape[:2]
    if h < 8 or w < 8:
        return grey, 0.0
    ring = np.concatenate((grey[0], grey[-1], grey[1:-1, 0], grey[1:-1, -1]))
    paper = float(np.percentile(grey[:: max(1, h // 256), :: max(1, w // 256)], 90))
    threshold = _DARK_SHARE * paper
    if not np.any(ring < threshold):  # (a deskewed bed may touch the edge at its corners only)
        return grey, 0.0
    dark = (grey < threshold).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    at_edge = np.unique(np.concatenate((labels[0], labels[-1], labels[:, 0], labels[:, -1])))
    big = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= _MIN_AREA * h * w)
    candidates = np.intersect1d(at_edge[at_edge > 0], big)
    if candidates.size == 0:
        return grey, 0.0
    core = cv2.erode(dark, np.ones((5, 5), np.uint8))
    solid = np.intersect1d(candidates, np.unique(labels[core > 0]))
    if solid.size == 0:
        return grey, 0.0
    found = np.isin(labels, solid).astype(np.uint8)
    region = cv2.dilate(found, np.ones((2 * _MARGIN + 1, 2 * _MARGIN + 1), np.uint8)) > 0
    blanked = grey.copy()
    blanked[region] = round(paper)
    return blanked, float(np.count_nonzero(region)) / (h * w)

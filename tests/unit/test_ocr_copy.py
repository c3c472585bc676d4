"""The grey copy Tesseract reads (``pipeline/ocr.py``: ``ocr_copy``, ``flatten``): shadows out,
text and what is no paper kept."""

from __future__ import annotations

import cv2
import numpy as np

from briefkasten.pipeline.ocr import flatten, ocr_copy

DPI = 300.0


def shadowed_page(*, side: int = 1200, border: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A page of black letter-like bars whose top part lies in a shadow (a phone held over the
    page: paper ~115 there, ~225 below, a soft edge between), optionally framed by a dark
    ``border`` (a scanner lid, the table under the page); and the mask of the bars."""
    y = np.arange(side, dtype=np.float32)[:, None]
    rows = 115 + 110 / (1 + np.exp(-(y - 0.45 * side) / (0.03 * side)))
    paper = np.repeat(rows, side, axis=1)
    bars = np.zeros((side, side), bool)
    for top in range(60, side - 60, 60):
        for left in range(60, side - 60, 40):
            bars[top : top + 24, left : left + 12] = True
    page = np.where(bars, 0.25 * paper, paper)
    if border:
        page[:, :border] = 30
    return page.astype(np.uint8), bars


def _black_paper(grey: np.ndarray, paper: np.ndarray) -> float:
    """The share of the paper one global (Otsu) threshold, as Tesseract's, turns black."""
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return float((binary[paper] == 0).mean())


def test_the_paper_under_a_shadow_comes_out_white_and_the_text_black() -> None:
    page, bars = shadowed_page()
    flat = flatten(page, DPI)
    paper = ~cv2.dilate(bars.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    paper[:40], paper[-40:], paper[:, :40], paper[:, -40:] = False, False, False, False
    assert _black_paper(page, paper) > 0.3  # the shadow goes black, the text in it with it
    assert _black_paper(flat, paper) == 0.0
    assert flat[paper].min() >= 200  # near white also on the edge of the shadow
    assert np.median(flat[bars]) <= 70


def test_a_page_one_threshold_reads_is_left_as_it_is() -> None:
    """Evenly lit, or a vignette too light to go black: Tesseract reads it well as it is (and
    reads differently what is changed)."""
    page, _ = shadowed_page()
    page = np.maximum(page, np.where(shadowed_page()[1], 0, 200)).astype(np.uint8)  # no shadow
    assert flatten(page, DPI) is page


def test_what_is_no_paper_is_not_made_white() -> None:
    page, _ = shadowed_page(border=150)
    flat = flatten(page, DPI)
    assert np.median(flat[:, 20:130]) < 80  # a dark border stays dark: no noise lit up


def test_a_blank_or_tiny_page_passes_and_colour_pages_become_grey() -> None:
    blank = np.full((400, 300), 200, np.uint8)
    assert flatten(blank, DPI) is blank
    tiny = np.full((8, 8), 90, np.uint8)
    assert flatten(tiny, DPI) is tiny
    black = np.zeros((300, 300), np.uint8)
    assert not flatten(black, DPI).any()
    colour = np.dstack([shadowed_page()[0]] * 3)
    copy = ocr_copy(colour, DPI)
    assert copy.ndim == 2 and copy.dtype == np.uint8 and copy.shape == colour.shape[:2]
    assert ocr_copy(colour, float("nan")).shape == copy.shape  # no dpi: sized from the page

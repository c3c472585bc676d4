"""The grey copy Tesseract reads (``pipeline/ocrcopy.py``): the dark scanner border is blanked."""

from __future__ import annotations

import cv2
import numpy as np

from briefkasten.pipeline import geometry
from briefkasten.pipeline.ocrcopy import blank_border


def letter_page(side: int = 1200) -> np.ndarray:
    page = np.full((side, side * 3 // 4), 235, np.uint8)
    for y in range(100, side - 100, 40):
        for x in range(80, page.shape[1] - 80, 30):
            cv2.rectangle(page, (x, y), (x + 14, y + 20), 20, -1)
    return page


def on_black_bed(page: np.ndarray, angle: float) -> np.ndarray:
    """``page`` lying skewed on a black scanner bed, then deskewed: the bed is turned back
    with it on a canvas filled with the paper's colour, touching the edge at its corners."""
    h, w = page.shape
    bed = np.zeros((h + 200, w + 200), np.uint8)
    bed[100 : 100 + h, 100 : 100 + w] = page
    scanned = geometry.rotate_image(bed, angle, (0,))[50:-50, 50:-50]
    return geometry.rotate_image(scanned, -angle, (235,))


def test_a_black_bed_around_a_deskewed_scan_is_painted_paper_bright() -> None:
    page = letter_page()
    grey = on_black_bed(page, 12.0)
    blanked, share = blank_border(grey)
    assert 0.1 < share < 0.6
    assert np.count_nonzero(blanked < 100) < np.count_nonzero(grey < 100)
    # The letters are all still there: as many dark blobs as on the page itself.
    count = lambda img: cv2.connectedComponents((img < 100).astype(np.uint8))[0] - 1  # noqa: E731
    assert count(blanked) == count(page)


def test_a_page_without_a_dark_border_is_returned_as_it_is() -> None:
    page = letter_page()
    assert blank_border(page) == (page, 0.0)


def test_letters_cut_by_the_edge_are_kept() -> None:
    page = letter_page()
    page[0:30, 300:320] = 20  # a letter touching the top edge: small, not a border
    blanked, share = blank_border(page)
    assert share == 0.0 and blanked is page


def test_a_thin_dark_frame_line_is_not_solid_and_stays() -> None:
    page = letter_page()
    page[:, 0:2] = 20  # a 2-px line along the left edge (a fold or the bed's rim): not solid
    blanked, _ = blank_border(page)
    assert np.array_equal(blanked, page)

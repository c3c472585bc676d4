"""The OCR copy's resampling (``pipeline/ocrscale.py``): x-height, factor, boxes to the page."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from briefkasten.model import OcrLine, OcrWord
from briefkasten.pipeline import ocrscale
from samples import generate


def blobs(heights: list[int], *, width: int = 14, side: int = 1200) -> np.ndarray:
    """A white page with black letter-like bars of the given heights, in rows."""
    page = np.full((side, side), 255, np.uint8)
    x, y = 40, 40
    for height in heights:
        cv2.rectangle(page, (x, y + 40 - height), (x + width - 1, y + 39), 0, -1)
        x += width + 10
        if x > side - 60:
            x, y = 40, y + 70
    return page


def test_the_x_height_is_the_commonest_height_of_letters() -> None:
    assert ocrscale.x_height(blobs([20] * 150)) == pytest.approx(20, abs=0.5)


def test_a_lower_clear_peak_is_the_x_height_even_when_digits_outnumber_it() -> None:
    page = blobs([28] * 120 + [20] * 80)  # a bank statement: more digits than lowercase
    assert ocrscale.x_height(page) == pytest.approx(20, abs=0.5)


def test_a_page_of_one_height_with_a_few_small_marks_keeps_its_height() -> None:
    page = blobs([28] * 150 + [18] * 10)  # a few stray marks are not a peak
    assert ocrscale.x_height(page) == pytest.approx(28, abs=0.5)


def test_too_little_text_or_a_blank_page_has_no_x_height() -> None:
    assert ocrscale.x_height(blobs([20] * 10)) is None
    assert ocrscale.x_height(np.full((500, 400), 255, np.uint8)) is None


def test_the_x_height_of_rendered_text_follows_the_resolution() -> None:
    """Measured on a copy at most 2000 px long, in the page's own pixels: 10-11 pt office text
    has an x-height of ~23 px at 300 dpi, 4/3 of that at 400 dpi (at 150 dpi the rasteriser's
    hinting changes the letters' shapes, so the proportion holds only roughly there)."""
    measured = {}
    for dpi in (300, 400):
        image, _ = generate.render_page("brief", seed=11, dpi=dpi)
        measured[dpi] = ocrscale.x_height(np.asarray(image.convert("L")))
    assert measured[300] is not None and measured[400] is not None
    assert 20 <= measured[300] <= 26
    assert measured[400] / measured[300] == pytest.approx(4 / 3, rel=0.06)


def test_the_factor_brings_the_x_height_to_the_target_and_never_enlarges() -> None:
    a4 = (3508, 2480)
    assert ocrscale.choose(a4, 25.0, target=20, floor=16, max_pixels=12e6).factor == 0.8
    assert ocrscale.choose(a4, 12.0, target=20, floor=16, max_pixels=12e6).factor == 1.0
    assert ocrscale.choose(a4, None, target=20, floor=16, max_pixels=12e6).factor == 1.0


def test_large_images_are_capped_but_not_below_the_floor() -> None:
    huge = (8000, 6000)  # 48 MP
    capped = ocrscale.choose(huge, 60.0, target=60, floor=16, max_pixels=12e6)
    assert capped.factor == pytest.approx(0.5)  # sqrt(12/48)
    small_text = ocrscale.choose(huge, 20.0, target=20, floor=16, max_pixels=12e6)
    assert small_text.factor == pytest.approx(0.8)  # the floor wins over the cap
    assert ocrscale.choose(huge, None, target=20, floor=16, max_pixels=12e6).factor == 0.5


def test_a_target_of_zero_turns_resampling_off() -> None:
    assert ocrscale.choose((3508, 2480), 40.0, target=0, floor=16, max_pixels=1e6).factor == 1.0


def test_resample_shrinks_by_the_factor_and_keeps_full_size_as_it_is() -> None:
    grey = np.zeros((1000, 700), np.uint8)
    assert ocrscale.resample(grey, 0.5).shape == (500, 350)
    assert ocrscale.resample(grey, 1.0) is grey


def test_describe_says_how_the_copy_was_read() -> None:
    assert ocrscale.Scale(0.8, 25.0).describe() == "read at 0.80× (x-height 25 px)"
    assert ocrscale.Scale(1.0, None).describe() == "read at full size (x-height not measurable)"


def line(
    words: list[tuple[str, tuple[int, int, int, int]]], box: tuple[int, int, int, int]
) -> OcrLine:
    return OcrLine(tuple(OcrWord(t, b, 90.0) for t, b in words), box, (0.01, -8.0), 32.0, 2, 3, 0)


def test_boxes_baselines_and_sizes_go_back_to_page_pixels() -> None:
    read = line(
        [("Miete", (100, 200, 180, 232)), ("612,50", (200, 200, 300, 240))], (100, 200, 300, 240)
    )
    (back,) = ocrscale.to_page((read,), 0.8, (3508, 2480))
    assert back.box == (125, 250, 375, 300)
    assert [w.box for w in back.words] == [(125, 250, 225, 290), (250, 250, 375, 300)]
    assert [w.text for w in back.words] == ["Miete", "612,50"]
    assert back.baseline == (0.01, pytest.approx(-10.0))  # slope kept, offset scaled
    assert back.size == pytest.approx(40.0)
    assert (back.block, back.paragraph, back.angle) == (2, 3, 0)


def test_mapped_boxes_stay_on_the_page() -> None:
    read = line([("Rand", (1980, 10, 1999, 30))], (1980, 10, 1999, 30))
    (back,) = ocrscale.to_page((read,), 0.5, (3000, 3990))
    assert back.box == (3960, 20, 3990, 60)  # right edge 3998 clipped to the width 3990


def test_full_size_lines_are_returned_as_they_are() -> None:
    lines = (line([("a", (1, 2, 3, 4))], (1, 2, 3, 4)),)
    assert ocrscale.to_page(lines, 1.0, (100, 100)) is lines

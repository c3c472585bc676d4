"""Page orientation on generated pages, with the real Tesseract for OSD.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_orientation.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from briefkasten.pipeline.orientation import orient, text_orientation, turn_clockwise
from tests.integration.test_orientation import (
    as_page,
    step_context,
    turned_image,
    upright_image,
)


@pytest.mark.parametrize("kind", ["lohnabrechnung", "mietvertrag"])
def test_line_check_reads_text_pages(kind: str) -> None:
    upright = upright_image(kind, 9)[..., 1]
    for turns in range(4):
        verdict = text_orientation(np.ascontiguousarray(turned_image(upright, turns)))
        assert verdict is not None
        assert verdict.rotate == 90 * turns
        assert verdict.ratio > 1.8


def test_blank_page_is_flagged_and_unchanged(tmp_path: Path) -> None:
    blank = np.full((2339, 1654, 3), 250, np.uint8)
    result = orient(as_page(blank), step_context(tmp_path))
    assert result.image is blank
    assert result.rotation == 0
    assert "orientation_uncertain" in result.flags


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (40, 3)])
def test_tiny_page_is_flagged_not_crashed(tmp_path: Path, shape: tuple[int, ...]) -> None:
    tiny = np.zeros(shape, np.uint8)
    result = orient(as_page(tiny), step_context(tmp_path))
    assert result.image is tiny
    assert "orientation_uncertain" in result.flags


def test_turn_clockwise_is_lossless() -> None:
    image = np.arange(24, dtype=np.uint8).reshape(4, 6)
    assert turn_clockwise(image, 0) is image
    assert turn_clockwise(image, 90)[0, -1] == image[0, 0]
    assert np.array_equal(turn_clockwise(turn_clockwise(image, 90), 270), image)

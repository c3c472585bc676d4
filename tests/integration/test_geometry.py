"""Deskew and perspective correction on generated pages with known truth.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_geometry.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from briefkasten.pipeline.geometry import (
    correct_perspective,
    estimate_skew,
    find_page_quad,
)
from briefkasten.pipeline.runner import StepContext
from samples.generate import (
    phone_photo,
    skew,
)
from tests.unit import test_geometry as unit_geometry
from tests.unit.test_geometry import (
    A4,
    SKEWS,
    page_of,
    to_grey,
    upright_render,
)

ctx = unit_geometry.ctx  # the fixture, shared with tests/unit/test_geometry.py


@pytest.mark.parametrize(
    ("angle", "border"), [(-17.0, "black"), (-2.2, "white"), (6.4, "black"), (19.0, "white")]
)
def test_skew_of_forms_with_little_text(angle: float, border: str) -> None:
    for seed in (1, 2):
        measured = estimate_skew(to_grey(skew(upright_render("form", seed), angle, border=border)))
        assert measured is not None
        assert abs(measured - angle) < 0.3


@pytest.mark.parametrize(
    ("kind", "seed"), [("brief", 11), ("mietvertrag", 12), ("lohnabrechnung", 13)]
)
def test_phone_photo_is_perspective_corrected(ctx: StepContext, kind: str, seed: int) -> None:
    photo, info = phone_photo(upright_render(kind, seed), seed=seed)
    rgb = np.asarray(photo)
    quad = find_page_quad(rgb)
    assert quad is not None
    tolerance = 0.01 * max(rgb.shape[:2])  # 1 % of the photo's long side (~40 px)
    assert np.abs(quad - np.array(info["corners"])).max() < tolerance

    result = correct_perspective(page_of(rgb, dpi=72.0), ctx)
    assert result.perspective_corrected
    assert result.detail.startswith("perspective corrected from quad")
    assert result.image is not None
    h, w = result.image.shape[:2]
    assert h / w == pytest.approx(A4, rel=0.01)
    # The corrected page is straight: what is left for deskew is a fraction of a degree.
    residual = estimate_skew(np.asarray(Image.fromarray(result.image).convert("L")))
    assert residual is not None
    assert abs(residual) < 0.5


@pytest.mark.parametrize(("angle", "kind", "font", "border"), SKEWS)
def test_skew_is_measured_within_tolerance(angle: float, kind: str, font: str, border: str) -> None:
    skewed = skew(upright_render(kind, 7, font), angle, border=border)
    measured = estimate_skew(to_grey(skewed))
    assert measured is not None
    assert abs(measured - angle) < 0.3

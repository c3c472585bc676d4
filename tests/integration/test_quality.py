"""Quality flags on generated pages: clean pages get none, each degradation gets its flag.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_quality.py``.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from samples.degrade import phone_photo
from tests.unit.test_quality import (
    flags_of,
    render_kind,
)


@pytest.mark.parametrize("seed", [0, 1])
def test_flattened_phone_photo_gets_no_flags(seed: int) -> None:
    """A phone photo after an exact perspective correction: shadow, noise and JPEG are fine."""
    photo, info = phone_photo(render_kind("brief", seed), seed=seed)
    dpi = float(info["page_dpi"])  # type: ignore[arg-type]
    width, height = round(2480 * dpi / 300), round(3508 * dpi / 300)
    corners = np.array(info["corners"], np.float32)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(corners, target)
    flat = cv2.warpPerspective(np.asarray(photo), matrix, (width, height))
    assert flags_of(flat, dpi) == ()

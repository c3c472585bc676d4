"""QR codes for tests: a code as pixels, put on a letter page, and what a phone does to it."""

from __future__ import annotations

import io

import cv2
import numpy as np
import segno

from tests.support import factories

LINK_URL = (
    "https://briefkasten.example/u/WyJqYy1tdXN0ZXJzdGFkdCIsIjBhMWIyYzNkNGU1ZjY3ODkiXQ"
    ".Zk2mV7dQ1xYpR8sT3uW9aBcDeFgHiJkLmNoPqRsTuVw"
)


def qr_pixels(payload: str | bytes, *, module: int = 8, error: str = "m") -> np.ndarray:
    """The QR code of ``payload``, grey, ``module`` pixels per module, with its quiet zone."""
    out = io.BytesIO()
    segno.make(payload, error=error, micro=False).save(out, kind="png", scale=module, border=4)
    decoded = cv2.imdecode(np.frombuffer(out.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert decoded is not None
    return decoded


def letter(*codes: np.ndarray, size: tuple[int, int] = (1240, 1754)) -> np.ndarray:
    """A letter page (RGB, 150 dpi, text) with ``codes`` pasted down its right side."""
    page = np.array(factories.text_page(size=size).convert("RGB"))
    top = 500
    for code in codes:
        h, w = code.shape
        left = page.shape[1] - w - 80
        page[top : top + h, left : left + w] = code[:, :, None]
        top += h + 60
    return page


def warped(image: np.ndarray, shift: float = 0.08) -> np.ndarray:
    """``image`` as a phone sees it from an angle: a perspective warp, grey background."""
    h, w = image.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32(
        [
            [w * shift, h * shift * 0.5],
            [w * (1 - shift * 0.3), 0],
            [w, h],
            [w * shift * 0.6, h * (1 - shift)],
        ]
    )
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(image, matrix, (w, h), borderValue=(90, 90, 90))


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED)

"""QR codes on a page: ``zxing-cpp``, the maintained C++ port of ZXing, read from a pixel array.

``read_qr(image)`` returns the text payloads of the QR codes it finds, in the order zxing-cpp
reports them, without repeats. It is bounded for untrusted pixels:

- a large image is reduced first to at most ``MAX_PIXELS`` (an area resample of one up to
  four times that; every n-th pixel of a larger one, so a 20000×20000 page is never copied at
  full size); a phone photo's letter QR code (2–3 cm on A4) keeps ≥ 3 pixels per module;
- when the plain read finds nothing, a few variants are tried in turn, each of which reads
  codes the plain read misses (measured on the cases of ``tests/unit/test_barcodes.py``): a
  sharpened copy (slightly out of focus) and a binarised one (median filter and Otsu: heavy
  noise), both of a copy halved down to ``VARIANT_PIXELS`` (most pages have no code and get
  every variant: they must be cheap), and, for an image of at most ``UPSCALE_BELOW`` pixels,
  one upscaled two times (modules of 1–2 pixels); never more than ``len(VARIANTS) + 1`` reads;
- only text payloads count (binary, GS1 … are ignored), each at most ``MAX_PAYLOAD``
  characters (longer ones are dropped, never cut) and without control characters; at most
  ``MAX_CODES`` per page.

The payloads are untrusted input (a link token, a separator sheet, or anything printed on a
letter): callers verify them and never log them. Reading codes is a hint, never a reason to
fail a page: pixels the reader cannot take (an odd channel count) or an error inside zxing-cpp
give no codes (the error's type is logged).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable

import cv2
import numpy as np
import zxingcpp

#: Pixels a page is decoded at (larger ones are reduced first): a 12-megapixel phone photo
#: and an A4 scan at 400 dpi are read as they are.
MAX_PIXELS = 16_000_000
#: The sharpened and binarised variants are tried on a copy of at most this many pixels.
VARIANT_PIXELS = 4_000_000
#: An image this small (pixels) is also tried upscaled two times.
UPSCALE_BELOW = 4_000_000
#: Characters a payload may have; an upload link's URL has about 120.
MAX_PAYLOAD = 512
#: Codes read from one page at most.
MAX_CODES = 8
#: Only QR codes (no Micro QR, no linear codes: they would only cost time).
QR_CODES = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)

log = logging.getLogger("briefkasten.pipeline")


def read_qr(image: np.ndarray) -> tuple[str, ...]:
    """The text payloads of the QR codes on ``image`` (grey ``H×W`` or RGB ``H×W×3``, 8 bit)."""
    if image.ndim not in (2, 3) or image.shape[0] < 21 or image.shape[1] < 21:
        return ()  # not an image, or smaller than the smallest QR code (21 modules)
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        return ()
    try:
        grey = _grey(_reduced(image, MAX_PIXELS))
        found = _read(grey)
        smaller = _halved(grey, VARIANT_PIXELS)
        for variant in VARIANTS:
            if found:
                break
            candidate = variant(grey, smaller)
            if candidate is not None:
                found = _read(candidate)
    except (cv2.error, ValueError, RuntimeError, TypeError, MemoryError) as exc:
        log.warning("QR codes not read: %s", type(exc).__name__)
        return ()
    return found


def _reduced(image: np.ndarray, max_pixels: int) -> np.ndarray:
    """``image`` at most ``max_pixels``: an area resample of one up to four times that, every
    n-th pixel of a larger one (a view first: a huge array is never copied at full size; a QR
    code's modules, a few pixels wide, survive sampling)."""
    height, width = image.shape[:2]
    pixels = height * width
    if pixels <= max_pixels:
        return image
    if pixels > 4 * max_pixels:
        step = math.ceil(math.sqrt(pixels / max_pixels))
        return np.ascontiguousarray(image[::step, ::step])
    scale = math.sqrt(max_pixels / pixels)
    target = (max(1, int(width * scale)), max(1, int(height * scale)))
    return cv2.resize(np.ascontiguousarray(image), target, interpolation=cv2.INTER_AREA)


def _halved(grey: np.ndarray, max_pixels: int) -> np.ndarray:
    """``grey`` halved (a Gaussian pyramid step: cheap, no aliasing) until it has at most
    ``max_pixels``."""
    while grey.size > max_pixels and min(grey.shape) >= 42:
        grey = cv2.pyrDown(grey)
    return grey


def _grey(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 3:
        if image.shape[2] == 1:
            return np.ascontiguousarray(image[:, :, 0])
        if image.shape[2] == 4:
            return cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
        return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(image)


def _sharpened(grey: np.ndarray, smaller: np.ndarray) -> np.ndarray | None:
    """An unsharp mask of the smaller copy: a code photographed slightly out of focus."""
    blurred = cv2.GaussianBlur(smaller, (0, 0), 2.0)
    return cv2.addWeighted(smaller, 2.5, blurred, -1.5, 0)


def _binarised(grey: np.ndarray, smaller: np.ndarray) -> np.ndarray | None:
    """A median filter and Otsu's threshold of the smaller copy: sensor noise and JPEG speckle
    in a dark photo."""
    median = cv2.medianBlur(smaller, 5)
    _, binary = cv2.threshold(median, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return binary


def _upscaled(grey: np.ndarray, smaller: np.ndarray) -> np.ndarray | None:
    """Two times larger (cubic): a small code in a low-resolution image (modules of 1–2 px)."""
    if grey.size > UPSCALE_BELOW:
        return None
    return cv2.resize(grey, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)


#: What is tried, in order, when the plain read finds nothing.
VARIANTS: tuple[Callable[[np.ndarray, np.ndarray], np.ndarray | None], ...] = (
    _sharpened,
    _binarised,
    _upscaled,
)


def _read(grey: np.ndarray) -> tuple[str, ...]:
    barcodes = zxingcpp.read_barcodes(
        grey,
        formats=QR_CODES,
        try_rotate=True,
        try_downscale=True,
        try_invert=False,
    )
    return _payloads(b.text for b in barcodes if b.valid and _is_text(b))


def _is_text(barcode: zxingcpp.Barcode) -> bool:
    return barcode.content_type == zxingcpp.ContentType.Text


def _payloads(texts: Iterable[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for text in texts:
        if not text or len(text) > MAX_PAYLOAD or not text.isprintable() or text in kept:
            continue
        kept.append(text)
        if len(kept) == MAX_CODES:
            break
    return tuple(kept)

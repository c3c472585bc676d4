"""Degradations with known truth: skew, quarter turns, the phone-photo look, low resolution.

Sign conventions (shared with the pipeline tests): PIL's ``rotate`` turns counter-clockwise, so a
page skewed by ``skew(img, theta)`` must be turned by ``-theta`` to straighten it, and a page
turned by ``quarter_turn(img, k)`` must be turned ``90 * k`` degrees clockwise.
"""

from __future__ import annotations

import random

import cv2
import numpy as np
from PIL import Image

PHOTO_DPI = 72
_BACKGROUNDS = ((125, 88, 58), (92, 92, 98), (52, 47, 42), (72, 82, 102), (150, 140, 128))


def _dpi(img: Image.Image, default: float = 300.0) -> float:
    dpi = img.info.get("dpi")
    return float(dpi[0]) if dpi else default


def _with_dpi(img: Image.Image, dpi: float) -> Image.Image:
    img.info["dpi"] = (dpi, dpi)
    return img


def skew(img: Image.Image, degrees: float, *, border: str = "white") -> Image.Image:
    """Turn ``img`` counter-clockwise by ``degrees`` with the canvas expanded.

    ``border="black"`` imitates a flatbed scan with a black lid: the page gets a black margin
    (2 % of its width) before it is turned, and the uncovered corners are black too.
    """
    if border not in ("white", "black"):
        raise ValueError(f"border must be 'white' or 'black', not {border!r}")
    dpi = _dpi(img)
    rgb = img.convert("RGB")
    fill = (255, 255, 255) if border == "white" else (0, 0, 0)
    if border == "black":
        pad = max(2, round(rgb.width * 0.02))
        framed = Image.new("RGB", (rgb.width + 2 * pad, rgb.height + 2 * pad), fill)
        framed.paste(rgb, (pad, pad))
        rgb = framed
    turned = rgb.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
    return _with_dpi(turned, dpi)


#: The dark felt of a scanner lid, as it shows around a page on the glass.
LID = (28, 28, 30)


def flatbed_scan(
    img: Image.Image, degrees: float, *, bed: float = 1.03, offset: tuple[float, float] = (0, 0)
) -> Image.Image:
    """A flat scan of a page laid on the glass turned by ``degrees`` (counter-clockwise): the
    scanner bed is ``bed`` times the page's size, the page lies ``offset`` (fractions of the
    bed's width and height) off its centre; the dark lid shows wherever the page does not cover
    the bed, and the turned page's corners that fall outside the bed are cut off.

    There is no page outline with background all around: a page to deskew, never to warp.
    """
    dpi = _dpi(img)
    rgb = img.convert("RGB")
    turned = rgb.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=LID)
    width, height = round(rgb.width * bed), round(rgb.height * bed)
    x = round((width - turned.width) / 2 + offset[0] * width)
    y = round((height - turned.height) / 2 + offset[1] * height)
    scan = Image.new("RGB", (width, height), LID)
    scan.paste(turned, (x, y))
    return _with_dpi(scan, dpi)


def quarter_turn(img: Image.Image, turns: int) -> Image.Image:
    """Turn ``img`` counter-clockwise by ``90 * turns`` degrees (lossless)."""
    dpi = _dpi(img)
    ops = {
        1: Image.Transpose.ROTATE_90,
        2: Image.Transpose.ROTATE_180,
        3: Image.Transpose.ROTATE_270,
    }
    t = turns % 4
    out = img.copy() if t == 0 else img.transpose(ops[t])
    return _with_dpi(out, dpi)


def low_resolution(img: Image.Image, dpi: int) -> Image.Image:
    """Resample ``img`` down (or up) from its stored dpi to ``dpi``, as a cheap scanner would."""
    src = _dpi(img)
    factor = dpi / src
    size = (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
    out = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    return _with_dpi(out, float(dpi))


def _page_quad(w: int, h: int, photo_w: int, photo_h: int, rng: random.Random) -> np.ndarray:
    """Where the page's corners land in the photo: tilted, rotated, slightly shrunk at the top."""
    tilt = rng.uniform(0.0, 0.07) * w
    corners = np.array([[tilt, 0], [w - tilt, 0], [w, h], [0, h]], dtype=np.float64) - np.array(
        [w / 2, h / 2]
    )
    jitter = np.array(
        [[rng.uniform(-0.03, 0.03) * w, rng.uniform(-0.02, 0.02) * h] for _ in range(4)]
    )
    corners += jitter
    angle = np.deg2rad(rng.uniform(-6.0, 6.0))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = corners @ rot.T
    span = corners.max(axis=0) - corners.min(axis=0)
    margin = rng.uniform(0.06, 0.12)
    scale = min(photo_w * (1 - 2 * margin) / span[0], photo_h * (1 - 2 * margin) / span[1])
    corners *= scale
    centre = corners.min(axis=0) + (corners.max(axis=0) - corners.min(axis=0)) / 2
    free = np.array([photo_w, photo_h]) * margin * 0.5
    offset = np.array([photo_w / 2, photo_h / 2]) + [rng.uniform(-1, 1) * f for f in free]
    result: np.ndarray = corners - centre + offset
    return result


def _background(
    photo_w: int, photo_h: int, rng: random.Random, noise: np.random.Generator
) -> np.ndarray:
    """A textured table top: a base colour, smooth blotches, and fine grain."""
    base = np.array(rng.choice(_BACKGROUNDS), dtype=np.float32)
    coarse = noise.random((rng.randint(4, 9), rng.randint(4, 9)), dtype=np.float32)
    blotch = cv2.resize(coarse, (photo_w, photo_h), interpolation=cv2.INTER_CUBIC)
    streaks = cv2.resize(noise.random((photo_h // 8, 3), dtype=np.float32), (photo_w, photo_h))
    shade = 0.75 + 0.35 * blotch + 0.1 * streaks
    return np.clip(shade[..., None] * base, 0, 255)


def _lighting(photo_w: int, photo_h: int, rng: random.Random) -> np.ndarray:
    """A multiplicative light map: a linear fall-off and one soft shadow (a hand, the phone).

    Computed on a grid eight times coarser and scaled up: light varies slowly.
    """
    w, h = max(2, photo_w // 8), max(2, photo_h // 8)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xx / w + np.sin(angle) * yy / h
    ramp = (ramp - ramp.min()) / max(1e-6, float(ramp.max() - ramp.min()))
    light = 1.0 - rng.uniform(0.15, 0.35) * ramp
    cx, cy = rng.uniform(0, w), rng.choice((0.0, float(h)))
    radius = rng.uniform(0.25, 0.45) * w
    dist = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / radius
    light *= 1.0 - rng.uniform(0.1, 0.3) * np.exp(-(dist**2))
    full: np.ndarray = cv2.resize(
        light.astype(np.float32), (photo_w, photo_h), interpolation=cv2.INTER_LINEAR
    )
    return full


def phone_photo(img: Image.Image, *, seed: int) -> tuple[Image.Image, dict[str, object]]:
    """Photograph ``img`` with a phone: perspective onto a table, shadow, blur, JPEG noise.

    Returns the photo (tagged 72 dpi, as phones do) and ``{"corners": [[x, y] × 4] (TL, TR,
    BR, BL of the page in the photo), "size": [w, h], "page_dpi": effective dpi of the page}``.
    """
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    page = np.asarray(img.convert("RGB"), dtype=np.uint8)
    h, w = page.shape[:2]
    photo_h = round(max(h, w * 4 / 3) * rng.uniform(1.08, 1.18))
    photo_w = round(photo_h * 3 / 4)
    quad = _page_quad(w, h, photo_w, photo_h, rng)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    size = (photo_w, photo_h)
    warped = cv2.warpPerspective(page, matrix, size, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), matrix, size, flags=cv2.INTER_LINEAR)
    mask3 = mask[..., None]
    mixed: np.ndarray = _background(photo_w, photo_h, rng, noise) * (1 - mask3)
    mixed += warped.astype(np.float32) * mask3
    cast = np.array([1.0, rng.uniform(0.95, 0.99), rng.uniform(0.86, 0.95)], dtype=np.float32)
    mixed *= _lighting(photo_w, photo_h, rng)[..., None] * cast * rng.uniform(0.85, 0.97)
    blurred: np.ndarray = cv2.GaussianBlur(mixed, (0, 0), rng.uniform(0.7, 1.3))
    grain = noise.standard_normal((photo_h, photo_w), dtype=np.float32)
    blurred += (grain * rng.uniform(2.0, 4.5))[..., None]
    bgr = cv2.cvtColor(np.clip(blurred, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(72, 88)])
    if not ok:  # pragma: no cover - OpenCV always encodes uint8 images
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    if decoded is None:  # pragma: no cover
        raise RuntimeError("JPEG decoding failed")
    rgb = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    edge = float(np.linalg.norm(quad[2] - quad[3]))
    info: dict[str, object] = {
        "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in quad],
        "size": [photo_w, photo_h],
        "page_dpi": round(_dpi(img) * edge / w, 1),
    }
    return _with_dpi(Image.fromarray(rgb, "RGB"), PHOTO_DPI), info

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


def _photograph(
    warped: np.ndarray, mask: np.ndarray, rng: random.Random, noise: np.random.Generator
) -> np.ndarray:
    """The page (already where it lands in the photo, ``mask`` its coverage) on a table top,
    with light fall-off, a colour cast, blur, grain and JPEG noise."""
    photo_h, photo_w = mask.shape
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
    rgb: np.ndarray = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    return rgb


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
    rgb = _photograph(warped, mask, rng, noise)
    edge = float(np.linalg.norm(quad[2] - quad[3]))
    info: dict[str, object] = {
        "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in quad],
        "size": [photo_w, photo_h],
        "page_dpi": round(_dpi(img) * edge / w, 1),
    }
    return _with_dpi(Image.fromarray(rgb, "RGB"), PHOTO_DPI), info


#: The page deformations :func:`warped_photo` makes.
WARPS = ("curved", "folded")


def _bend(warp: str, length: int, rng: random.Random) -> tuple[np.ndarray, dict[str, object]]:
    """The page's slope angle θ(s) (radians) at each pixel ``s`` across the bend, and what it is.

    ``curved``: the page bent around a cylinder (θ grows linearly: a circular arc), its lowest
    line at a random place; the curvature is scaled to the wanted bow by the caller.
    ``folded``: flat panels between creases (folded in thirds or in half), the panels lifted by
    10–35° against each other, the creases rounded over a few pixels.
    """
    s = np.arange(length, dtype=np.float64)
    if warp == "curved":
        low = rng.uniform(0.2, 0.8) * length  # where the page touches the table
        return (s - low) / length, {"low_point": round(low / length, 3)}
    thirds = rng.random() < 0.5
    creases = [length / 3, 2 * length / 3] if thirds else [length / 2]
    creases = [c + rng.uniform(-0.02, 0.02) * length for c in creases]
    angles = [rng.uniform(10.0, 35.0) for _ in creases]
    if thirds:  # the middle panel flat, the outer ones lifted (U) or one up, one down (Z)
        left, right = -angles[0], angles[1] * rng.choice((1, -1))
        panels = [left, 0.0, right]
    else:  # one half flat and the other lifted, or a tent / valley
        a = angles[0] * rng.choice((1, -1))
        panels = rng.choice(([0.0, a], [-a, 0.0], [-a / 2, a / 2]))
    theta = np.full(length, np.deg2rad(panels[0]))
    for crease, angle in zip(creases, panels[1:], strict=True):
        theta[s >= crease] = np.deg2rad(angle)
    radius = max(1, round(0.004 * length))
    theta = np.convolve(np.pad(theta, radius, mode="edge"), np.ones(2 * radius + 1), "valid")
    theta /= 2 * radius + 1
    info = {
        "folds": len(creases),
        "creases": [round(c / length, 3) for c in creases],
        "panel_angles": [round(a, 1) for a in panels],
    }
    return theta, info


def _lift(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Across position and height (pixels, centred, lowest point 0) of a page with slopes θ."""
    across = np.concatenate([[0.0], np.cumsum(np.cos(theta[:-1]))])
    height = np.concatenate([[0.0], np.cumsum(np.sin(theta[:-1]))])
    return across - across[len(across) // 2], height - height.min()


def warped_photo(
    img: Image.Image, warp: str, *, seed: int, bow: float | None = None
) -> tuple[Image.Image, dict[str, object]]:
    """Photograph ``img`` curved (``"curved"``) or folded (``"folded"``), like :func:`phone_photo`.

    The page is bent in 3-D (arc length kept), seen by a pinhole camera 1.2–1.6 page heights
    above the table, then tilted onto the table like a phone photo (a homography, which is what
    turning the camera does), shaded by the panels' slope to the light (and a crease shadow),
    on a textured background with the photo look of :func:`phone_photo`. A curved page bows its
    text lines by ``bow`` (default 1–5 %) of the page height at the worst text line; a folded
    page folds in thirds or in half, its creases down the page (through the lines) for even
    seeds, across it (between the lines) for odd ones.

    Returns the photo and ``{"corners", "size", "page_dpi", "warp": {...}}``, ``warp`` holding
    the deformation's parameters and the ``bow`` it gives (share of the page height).
    """
    if warp not in WARPS:
        raise ValueError(f"warp must be one of {', '.join(WARPS)}, not {warp!r}")
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    shape = random.Random(f"{warp}:{seed}")
    page = np.asarray(img.convert("RGB"), dtype=np.uint8)
    h, w = page.shape[:2]
    # Curves bend across the lines (about a vertical axis); folds either way: creases down the
    # page (kinking the lines) on even seeds, across it (between lines) on odd ones.
    across_x = warp == "curved" or seed % 2 == 0
    length, along = (w, h) if across_x else (h, w)
    theta, params = _bend(warp, length, shape)
    distance = shape.uniform(1.2, 1.6) * h
    centre = (shape.uniform(-0.1, 0.1) * length, shape.uniform(-0.25, 0.25) * along)
    if warp == "curved":
        target = (bow if bow is not None else shape.uniform(0.01, 0.05)) * h
        base, curvature = theta.copy(), 1.0
        for _ in range(3):  # the bow grows almost linearly with the curvature
            theta = base * curvature
            got = _bow(theta, distance, centre, h, along)
            curvature *= target / max(got, 1e-9)
        # At most 60° of slope anywhere: a page curved like a book's, not rolled up.
        curvature = min(curvature, np.deg2rad(60.0) / float(np.abs(base).max()))
        theta = base * curvature
        params["radius_pages"] = round(1.0 / float(curvature), 3)
    across, height = _lift(theta)
    scale = distance / (distance - height)  # nearer the camera → larger
    a1 = (across - centre[0]) * scale + centre[0]
    if np.any(np.diff(a1) <= 0):
        raise ValueError("warp too strong: the page folds over itself in the photo")
    shade = _shading(theta, shape, params)
    lit = page.astype(np.float32)
    lit *= shade[None, :, None] if across_x else shade[:, None, None]
    page = np.clip(lit, 0, 255).astype(np.uint8)

    def forward(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Page pixels (across, along; from the top left) → straight-down view (centred)."""
        k = np.interp(a, np.arange(length), scale)
        return np.interp(a, np.arange(length), a1), (b - along / 2 - centre[1]) * k + centre[1]

    edge_a = np.concatenate([np.arange(length), np.zeros(along), np.full(along, length - 1.0)])
    edge_b = np.concatenate([np.zeros(length), np.arange(along), np.arange(along)])
    fa, fb = forward(
        np.concatenate([edge_a, edge_a[:length]]),
        np.concatenate([edge_b, edge_b[:length] + along - 1]),
    )
    fx, fy = (fa, fb) if across_x else (fb, fa)
    low = np.array([fx.min(), fy.min()])
    span = np.array([fx.max(), fy.max()]) - low
    bw, bh = round(span[0]), round(span[1])
    photo_h = round(max(bh, bw * 4 / 3) * rng.uniform(1.08, 1.18))
    photo_w = round(photo_h * 3 / 4)
    quad = _page_quad(bw, bh, photo_w, photo_h, rng)
    src = np.array([[0, 0], [bw, 0], [bw, bh], [0, bh]], dtype=np.float32)
    tilt = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    # The inverse map on a grid four times coarser (the warp is smooth), then scaled up.
    step = 4
    gx, gy = np.meshgrid(
        (np.arange((photo_w + step - 1) // step) + 0.5) * step - 0.5,
        (np.arange((photo_h + step - 1) // step) + 0.5) * step - 0.5,
    )
    pts = cv2.perspectiveTransform(
        np.stack([gx, gy], axis=-1).reshape(-1, 1, 2).astype(np.float64), np.linalg.inv(tilt)
    ).reshape((*gx.shape, 2))
    x1, y1 = pts[..., 0] + low[0], pts[..., 1] + low[1]
    v1a, v1b = (x1, y1) if across_x else (y1, x1)
    a = np.interp(v1a, a1, np.arange(length), left=-10.0, right=length + 10.0)
    k = np.interp(a, np.arange(length), scale)
    b = (v1b - centre[1]) / k + centre[1] + along / 2
    mx, my = (a, b) if across_x else (b, a)
    size = (photo_w, photo_h)
    map_x = cv2.resize(mx.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    map_y = cv2.resize(my.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    warped = cv2.remap(page, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    ones = np.ones((h, w), np.float32)
    mask = cv2.remap(ones, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    rgb = _photograph(warped, mask, rng, noise)
    corner_a = np.array(
        [0.0, length - 1.0, length - 1.0, 0.0]
        if across_x
        else [0.0, 0.0, length - 1.0, length - 1.0]
    )
    corner_b = np.array(
        [0.0, 0.0, along - 1.0, along - 1.0] if across_x else [0.0, along - 1.0, along - 1.0, 0.0]
    )
    ca, cb = forward(corner_a, corner_b)
    cx, cy = (ca, cb) if across_x else (cb, ca)
    corners = cv2.perspectiveTransform(
        np.stack([cx - low[0], cy - low[1]], axis=-1).reshape(-1, 1, 2), tilt
    ).reshape(4, 2)
    info: dict[str, object] = {
        "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in corners],
        "size": [photo_w, photo_h],
        "page_dpi": round(_dpi(img) * float(np.linalg.norm(corners[2] - corners[3])) / w, 1),
        "warp": {
            "type": warp,
            "axis": "x" if across_x else "y",
            "bow": round(_bow(theta, distance, centre, h, along) / h, 4) if across_x else 0.0,
            "camera_distance_pages": round(distance / h, 3),
            **params,
        },
    }
    return _with_dpi(Image.fromarray(rgb, "RGB"), PHOTO_DPI), info


def _bow(
    theta: np.ndarray, distance: float, centre: tuple[float, float], h: float, along: float
) -> float:
    """The largest bow (pixels) of a text line across a page bent across x, in the straight-down
    view: the most a line between 8 and 92 % of the height, over the middle 80 % of the width,
    strays from the straight line through its ends (a sagitta; a mere tilt is no bow)."""
    _, height = _lift(theta)
    n = len(theta)
    scale = distance / (distance - height[round(0.1 * n) : round(0.9 * n)])
    chord = np.linspace(scale[0], scale[-1], len(scale))
    rows = np.array([0.08, 0.92]) * along - along / 2 - centre[1]
    return float(np.abs(rows).max() * np.abs(scale - chord).max())


def _shading(theta: np.ndarray, rng: random.Random, params: dict[str, object]) -> np.ndarray:
    """Brightness across the bend: light from one side falls on each panel by its slope; a
    crease casts a thin shadow."""
    light = np.deg2rad(rng.uniform(-40.0, 40.0))
    diffuse = 0.6 + 0.4 * np.clip(np.cos(theta + light), 0.0, None)  # ambient light indoors
    shade = diffuse / (0.6 + 0.4 * np.cos(light))
    s = np.arange(len(theta), dtype=np.float64)
    for crease in params.get("creases", []):  # type: ignore[attr-defined]
        width = 0.002 * len(theta)
        shade *= 1.0 - 0.2 * np.exp(-(((s - float(crease) * len(theta)) / width) ** 2))
    result: np.ndarray = np.clip(shade, 0.5, 1.15).astype(np.float32)
    return result

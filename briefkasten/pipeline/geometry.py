"""Page geometry: deskew and perspective correction of phone photos, with OpenCV.

``estimate_skew`` is a projection-profile search written here because OpenCV has no deskew and
the usual recipes (``minAreaRect`` over all ink, Hough lines) fall short of the 0.3° we need on
forms and on scans with black borders. It binarises a downscaled copy (Otsu), drops ink that
touches the image edge (scanner borders, background), and looks for the angle at which the ink
piles up into the fewest, fullest rows: the sum of the squared row histogram of the rotated ink
coordinates. Columns are scored too, so a page lying on its side (text running up or down) still
gets its small skew measured; turning it upright is the ``orientation`` step's job.

``find_page_quad`` looks for a bright, low-saturation paper quadrilateral on a contrasting
background; it is deliberately conservative, so that flat scans pass untouched.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from briefkasten.model import Page
from briefkasten.pipeline.runner import StepContext

_WORK_SIDE = 1600  # long side (px) of the copy the skew is measured on
_COARSE_STEP = 0.5
#: 0.1° steps with the parabolic refinement: max error 0.019° on 21 generated pages turned by
#: -7.3° … +11.9° (0.055° with 0.05° steps, whose peak is too flat for the parabola), 11
#: projections instead of 21.
_FINE_STEP = 0.1
_MIN_INK = 400  # ink pixels (on the work copy) below which the skew is undecidable
_MIN_CONTRAST = 1.08  # best profile score / median score: below it the page has no lines
_QUAD_SIDE = 800  # long side (px) of the copy the page quad is searched on
_FRAME_TOUCH = 0.02  # share of the image's edge the paper may touch and still be a whole page
_MAX_ASPECT = 2.0  # long side / short side of a straightened page: beyond it, not a page
_A4 = math.sqrt(2.0)
# Edge lengths of a photographed quad misjudge the page's aspect ratio by up to ~10 %
# (foreshortening); job-center paper is A4 (or A5, same ratio), so a ratio this close snaps.
_A4_SNAP = 0.12


def estimate_skew(gray: np.ndarray, *, max_angle: float = 20.0) -> float | None:
    """The counter-clockwise angle (degrees) of the page's text lines and rules, or ``None``.

    Only angles within ``±max_angle`` are considered, so a page on its side is measured by its
    small residual skew, never mistaken for a 90° one. ``None`` means undecidable: a blank page,
    noise, or too little straight structure.
    """
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_RGB2GRAY)
    if gray.shape[0] < 16 or gray.shape[1] < 16:
        return None
    ink = ink_mask(gray)
    if ink is None:
        return None
    ys, xs = np.nonzero(ink)
    if len(xs) < _MIN_INK:
        return None
    xs_f = xs.astype(np.float32)
    ys_f = ys.astype(np.float32)
    coarse = np.arange(-max_angle, max_angle + 1e-9, _COARSE_STEP)
    # Coarse search on every 4th ink pixel; decide whether lines run across (rows) or down.
    sub = slice(None, None, 4) if len(xs) > 20 * _MIN_INK else slice(None)
    rows = np.array([_score(xs_f[sub], ys_f[sub], a, columns=False) for a in coarse])
    cols = np.array([_score(xs_f[sub], ys_f[sub], a, columns=True) for a in coarse])
    row_contrast = rows.max() / max(float(np.median(rows)), 1e-9)
    col_contrast = cols.max() / max(float(np.median(cols)), 1e-9)
    columns = col_contrast > row_contrast
    scores = cols if columns else rows
    if max(row_contrast, col_contrast) < _MIN_CONTRAST:
        return None
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - _COARSE_STEP, best + _COARSE_STEP + 1e-9, _FINE_STEP)
    fine_scores = np.array([_score(xs_f, ys_f, a, columns=columns) for a in fine])
    i = int(np.argmax(fine_scores))
    angle = float(fine[i])
    if 0 < i < len(fine) - 1:  # parabolic refinement between the neighbouring steps
        left, mid, right = fine_scores[i - 1], fine_scores[i], fine_scores[i + 1]
        denom = left - 2 * mid + right
        if denom < 0:
            angle += _FINE_STEP * 0.5 * float(left - right) / float(denom)
    return float(np.clip(angle, -max_angle, max_angle))


def contrast(gray: np.ndarray) -> float:
    """The standard deviation of a grey image's pixels (OpenCV's, 25× faster than numpy's)."""
    if gray.size == 0:
        return 0.0
    return float(cv2.meanStdDev(np.ascontiguousarray(gray))[1][0, 0])


def ink_mask(gray: np.ndarray, long_side: int = _WORK_SIDE) -> np.ndarray | None:
    """Otsu-binarised ink (True) of a copy at most ``long_side`` pixels long, or ``None``.

    Components touching the image edge (scanner borders, the table a photo was taken on) and
    huge blobs are dropped; ``None`` when the page is blank.
    """
    scale = min(1.0, long_side / max(gray.shape))
    small = gray
    if scale < 1.0:
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    if contrast(small) < 4.0:
        return None
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = ink.shape
    x, y, bw, bh = (stats[:, i] for i in range(4))
    touching = (x == 0) | (y == 0) | (x + bw >= w) | (y + bh >= h)
    # Huge blobs (photos, filled areas) tell little about lines; tiny specks are noise.
    area = stats[:, cv2.CC_STAT_AREA]
    keep = ~touching & (area >= 2) & (area < 0.05 * h * w)
    keep[0] = False
    if count <= 1 or not keep.any():
        return None
    mask: np.ndarray = keep[labels]
    return mask


def _score(xs: np.ndarray, ys: np.ndarray, angle: float, *, columns: bool) -> float:
    """Sum of the squared histogram of ink projected across lines tilted CCW by ``angle``."""
    t = math.radians(angle)
    c, s = math.cos(t), math.sin(t)
    proj = xs * c - ys * s if columns else ys * c + xs * s
    bins = (proj - proj.min()).astype(np.int32)
    hist = np.bincount(bins).astype(np.float64)
    return float(np.dot(hist, hist))


def rotate_image(image: np.ndarray, angle: float, fill: tuple[int, ...]) -> np.ndarray:
    """``image`` turned CCW by ``angle`` degrees about its centre on an expanded canvas."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w = math.ceil(w * cos + h * sin - 1e-6)
    new_h = math.ceil(w * sin + h * cos - 1e-6)
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    border = fill[0] if image.ndim == 2 else tuple(int(v) for v in fill)
    return cv2.warpAffine(
        image,
        matrix,
        (new_w, new_h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )


def paper_colour(image: np.ndarray) -> tuple[int, ...]:
    """The median colour of the bright (paper) pixels, sampled from a small copy."""
    step = max(1, max(image.shape[:2]) // 400)
    small = image[::step, ::step]
    gray = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    if gray.size == 0:
        return (255,) * (1 if image.ndim == 2 else 3)
    threshold, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    paper = small[gray > threshold]
    if len(paper) == 0:
        return (255,) * (1 if image.ndim == 2 else 3)
    median = np.median(paper.reshape(len(paper), -1), axis=0)
    return tuple(int(v) for v in median)


def deskew(page: Page, ctx: StepContext) -> Page:
    """Straighten the page by the measured skew; flag ``skew_uncertain`` when undecidable."""
    image = page.image
    if image is None:
        return page
    angle = estimate_skew(image, max_angle=float(ctx.param("max_angle", 20.0)))
    if angle is None:
        return page.flagged("skew_uncertain").evolve(detail="skew undecidable, left unchanged")
    if abs(angle) < float(ctx.param("min_angle", 0.05)):
        return page.evolve(detail=f"skew {angle:+.2f}° below threshold, left unchanged")
    turned = rotate_image(image, -angle, paper_colour(image))
    return page.evolve(detail=f"rotated by {-angle:+.2f}°", image=turned, skew_degrees=-angle)


def find_page_quad(rgb: np.ndarray) -> np.ndarray | None:
    """The corners (TL, TR, BR, BL; float32, pixels) of a paper page photographed on a background.

    ``None`` when there is no page outline to straighten: a flat scan (the page fills the frame,
    is already a rectangle on a uniform border, or is cut off by the scanner bed's edges with
    the dark lid showing beside it), paper that touches the frame (no background all around:
    its outline is partly the frame's), no contrast between paper and background, or a shape
    that is not a convex quadrilateral covering 20–98 % of the image.
    """
    if rgb.ndim != 3 or min(rgb.shape[:2]) < 32:
        return None
    h, w = rgb.shape[:2]
    scale = min(1.0, _QUAD_SIDE / max(h, w))
    small = (
        cv2.resize(
            rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
        if scale < 1.0
        else rgb
    )
    gray = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (5, 5), 0)
    _, paper = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    k = max(3, round(0.02 * max(small.shape[:2])) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    paper = cv2.morphologyEx(paper, cv2.MORPH_CLOSE, kernel)
    paper = cv2.morphologyEx(paper, cv2.MORPH_OPEN, kernel)
    if _touches_frame(paper):
        return None
    contours, _ = cv2.findContours(paper, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    quad = _approx_quad(cv2.convexHull(contour))
    if quad is None:
        return None
    area = small.shape[0] * small.shape[1]
    quad_area = float(cv2.contourArea(quad))
    if not 0.2 * area <= quad_area <= 0.98 * area:
        return None
    if cv2.contourArea(contour) < 0.9 * quad_area:  # the paper must fill its quad
        return None
    if not _contrasts(gray, quad) or _is_rectangle(quad):
        return None
    corners = _refine_corners(_order_corners(quad.reshape(4, 2).astype(np.float32)), contour)
    # Small-copy pixel centres to full-size pixel centres.
    full: np.ndarray = ((corners + 0.5) / scale - 0.5).astype(np.float32)
    return full


def _touches_frame(paper: np.ndarray, allowed: float = _FRAME_TOUCH) -> bool:
    """Whether the paper mask runs along the image's edge for more than ``allowed`` of its
    perimeter: then the page is cut off by the frame (a flat scan on a small bed, a photo
    that does not show the whole page) and the quad would be partly the frame's edge."""
    ring = np.concatenate([paper[0, :], paper[-1, :], paper[1:-1, 0], paper[1:-1, -1]])
    return float(np.count_nonzero(ring)) > allowed * ring.size


def _approx_quad(hull: np.ndarray) -> np.ndarray | None:
    """Simplify a convex hull to four corners, loosening the tolerance step by step."""
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.04, 0.05):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            return approx if cv2.isContourConvex(approx) else None
        if len(approx) < 4:
            return None
    return None


def _contrasts(gray: np.ndarray, quad: np.ndarray) -> bool:
    """Whether the paper inside the quad is clearly brighter than the background outside."""
    inside = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(inside, quad.reshape(4, 2).astype(np.int32), 255)
    k = max(3, round(0.03 * max(gray.shape)))
    kernel = np.ones((k, k), np.uint8)
    core = cv2.erode(inside, kernel)
    ring = cv2.subtract(cv2.dilate(inside, kernel), inside)
    if not core.any() or not ring.any():
        return False
    paper = float(np.median(gray[core > 0]))
    background = float(np.median(gray[ring > 0]))
    return paper - background >= 30.0


def _is_rectangle(quad: np.ndarray, tolerance: float = 1.0) -> bool:
    """Whether every corner of ``quad`` is within ``tolerance`` degrees of a right angle."""
    points = quad.reshape(4, 2).astype(np.float64)
    for i in range(4):
        a = points[i - 1] - points[i]
        b = points[(i + 1) % 4] - points[i]
        cos = float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-9))
        if abs(math.degrees(math.acos(np.clip(cos, -1.0, 1.0))) - 90.0) > tolerance:
            return False
    return True


def _refine_corners(corners: np.ndarray, contour: np.ndarray) -> np.ndarray:
    """Intersect lines fitted to the contour along each side (sub-pixel, robust to rounding)."""
    points = contour.reshape(-1, 2).astype(np.float32)
    centre = corners.mean(axis=0)
    lines = []
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        direction = b - a
        length = float(np.linalg.norm(direction))
        if length < 8:
            return corners
        unit = direction / length
        rel = points - a
        along = rel @ unit
        across = np.abs(rel[:, 0] * unit[1] - rel[:, 1] * unit[0])
        near = (along > 0.1 * length) & (along < 0.9 * length) & (across < 0.02 * length + 2)
        if near.sum() < 5:
            return corners
        vx, vy, x0, y0 = cv2.fitLine(points[near], cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        # The contour runs through the outermost paper pixels' centres: the edge is half a
        # pixel further out.
        normal = np.array([vy, -vx])
        if np.dot(normal, np.array([x0, y0]) - centre) < 0:
            normal = -normal
        lines.append((np.array([x0, y0]) + 0.5 * normal, np.array([vx, vy])))
    refined = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        det = d1[0] * -d2[1] - d1[1] * -d2[0]
        if abs(det) < 1e-6:
            return corners
        t = ((p2 - p1)[0] * -d2[1] - (p2 - p1)[1] * -d2[0]) / det
        refined.append(p1 + t * d1)
    result = np.array(refined, dtype=np.float32)
    if np.abs(result - corners).max() > 0.05 * max(np.ptp(corners, axis=0)):
        return corners
    return result


def _order_corners(points: np.ndarray) -> np.ndarray:
    """Sort four points into TL, TR, BR, BL (image coordinates, y down)."""
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    ordered = points[np.argsort(angles)]  # clockwise on screen, starting near the left
    start = int(np.argmin(ordered.sum(axis=1)))  # TL: smallest x + y
    return np.roll(ordered, -start, axis=0).astype(np.float32)


def correct_perspective(page: Page, ctx: StepContext) -> Page:
    """Warp a photographed page's quadrilateral to an upright rectangle; flat scans pass."""
    image = page.image
    if image is None or image.ndim != 3:
        return page
    quad = find_page_quad(image)
    if quad is None:
        return page.evolve(detail="no page outline found, left unchanged")
    tl, tr, br, bl = quad
    width = float(np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = float(np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    ratio = max(width, height) / max(min(width, height), 1.0)
    if ratio > float(ctx.param("max_aspect", _MAX_ASPECT)):
        return page.evolve(detail=f"outline of aspect {ratio:.2f} is not a page, left unchanged")
    if abs(ratio - _A4) <= float(ctx.param("a4_snap", _A4_SNAP)) * _A4:
        ratio = _A4
    long_side = max(width, height)
    if height >= width:
        out_w, out_h = long_side / ratio, long_side
    else:
        out_w, out_h = long_side, long_side / ratio
    size = (max(1, round(out_w)), max(1, round(out_h)))
    target = np.array(
        [[0, 0], [size[0] - 1, 0], [size[0] - 1, size[1] - 1], [0, size[1] - 1]], dtype=np.float32
    )
    matrix = cv2.getPerspectiveTransform(quad, target)
    warped = cv2.warpPerspective(
        image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    corners = ", ".join(f"({x:.0f},{y:.0f})" for x, y in quad)
    return page.evolve(
        detail=f"perspective corrected from quad {corners} to {size[0]}×{size[1]}",
        image=warped,
        perspective_corrected=True,
    )

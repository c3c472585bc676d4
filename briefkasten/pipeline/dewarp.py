"""Dewarping: flatten curved and folded pages from the shape of their text lines.

A page photographed curved (a book page, a bank statement on a knee) or folded (a letter folded
in thirds) has text lines that bow or kink; Tesseract's line finder then cuts them into pieces
and loses text. The page model here is the text itself, after the idea of Matt Zucker's "page
dewarping": text lines are straight on the flat page, so the vertical displacement that makes
them straight *is* the warp. Unlike the cubic-sheet model (a 3-D pose and a cubic surface fitted
by a non-linear optimiser), the displacement is fitted directly in the image as a smooth 2-D
field, a tensor product of linear splines in x and y, by one linear least-squares solve (numpy
only): each text line's centre points must lie on a horizontal line after the shift, with one
free height per line. Splines bend where a fold kinks the lines, where a cubic cannot; the
price is no horizontal (arc-length) correction, which OCR does not need.

Steps, on a copy at most ``work_side`` (1200) pixels long: the ink mask
(``geometry.ink_mask``); a page whose lines run down rather than across (on its side) is left
alone; the text lines as chains of centre points (``pipeline/textlines.py``); the field fitted
to them (with a smoothness penalty; twice more without outliers), the middle column fixed.
Only if the field bends the most bent line by more than ``tolerance`` text heights *and*
explains the points clearly better than straight lines does the page change: the field is
inverted (fixed point), fitted once more on the flattened copy if lines still bend (at most
``max_passes``), and the full image is remapped once (cubic, colour kept). A flat page, or one
with fewer than ``min_lines`` lines, is returned unchanged (the same array), and the step's
detail says why; so is a blank or noisy one.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from briefkasten.model import Page
from briefkasten.pipeline.geometry import ink_mask
from briefkasten.pipeline.runner import StepContext
from briefkasten.pipeline.textlines import TextLine, empty_share, find_lines

_WORK_SIDE = 1200  # long side (px) of the copy the lines are found and the field fitted on
_MIN_LINES = 8  # lines needed (each _MIN_LINE_HEIGHTS text heights long); fewer: noise fits
_MIN_LINE_HEIGHTS = 8.0
TOLERANCE = 0.2  # bend (text heights) of the most bent line below which lines are straight
_MIN_GAIN = 0.9  # and the curved fit must leave under this share of the straight fit's error
_KNOTS_X = 13  # spline knots across (odd: the middle column is the field's zero)
_KNOTS_Y = 11
_SMOOTH = 0.05  # weight of the smoothness penalty per point
_ROUNDS = 3  # fits: the first, then two without the outliers of the one before
_MAX_PASSES = 2  # fits: the page, then once more on the flattened copy if lines still bend


@dataclass(frozen=True)
class Field:
    """A fitted vertical displacement: a source pixel at (x, y) belongs at (x, y - d(x, y)).

    ``d`` is on the work copy's grid (pixels of the work copy); ``bend`` the most it bends a
    text line (deviation from the straight line through its ends' displacement, work pixels);
    ``text_height`` the median character height it was fitted with."""

    straight_rms: float
    fitted_rms: float
    line_bends: np.ndarray
    d: np.ndarray
    bend: float
    text_height: float
    lines: int
    residual: float


def _hats(values: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Linear-spline (hat) basis: ``len(values)`` × ``len(knots)`` interpolation weights."""
    pos = np.clip(np.interp(values, knots, np.arange(len(knots))), 0, len(knots) - 1)
    low = np.minimum(np.floor(pos).astype(int), len(knots) - 2)
    frac = pos - low
    basis = np.zeros((len(values), len(knots)))
    rows = np.arange(len(values))
    basis[rows, low] = 1 - frac
    basis[rows, low + 1] = frac
    return basis


def fit_field(lines: list[TextLine], shape: tuple[int, int], height: float) -> Field:
    """Fit the displacement field to the lines' centre points (work-copy pixels)."""
    h, w = shape
    pts = np.concatenate([ln.points for ln in lines])
    owner = np.concatenate([np.full(len(ln.points), i) for i, ln in enumerate(lines)])
    left, top = pts.min(axis=0)
    right, bottom = pts.max(axis=0)
    kx = np.linspace(left, right, _KNOTS_X)
    ky = np.linspace(top, bottom, _KNOTS_Y)
    free = [j for j in range(_KNOTS_X) if j != _KNOTS_X // 2]  # d = 0 down the middle
    n_field = len(free) * _KNOTS_Y
    reg = _penalty(_KNOTS_X, _KNOTS_Y, free, weight=np.sqrt(_SMOOTH * len(pts) / n_field))
    design = (_hats(pts[:, 0], kx)[:, free][:, :, None] * _hats(pts[:, 1], ky)[:, None, :]).reshape(
        len(pts), n_field
    )
    normal_reg = reg.T @ reg
    keep = np.ones(len(pts), bool)
    coef = np.zeros(n_field)
    residual = 0.0
    for _ in range(_ROUNDS):
        # Each line's free height drops out when rows are centred on their line's mean.
        weight = keep.astype(float)
        count = np.maximum(np.bincount(owner, weight, len(lines)), 1.0)
        mean_a = (
            np.stack(
                [np.bincount(owner, weight * design[:, c], len(lines)) for c in range(n_field)], 1
            )
            / count[:, None]
        )
        mean_b = np.bincount(owner, weight * pts[:, 1], len(lines)) / count
        a = design - mean_a[owner]
        b = pts[:, 1] - mean_b[owner]
        aw = a * weight[:, None]
        coef = np.linalg.solve(aw.T @ aw + normal_reg, aw.T @ (b * weight))
        err = np.abs(b - a @ coef)
        residual = float(np.median(err[keep]))
        keep = err < max(0.35 * height, 4.0 * 1.4826 * residual)
        keep &= np.bincount(owner, keep, len(lines))[owner] >= 2
    straight = _straight_rms(pts[keep], owner[keep], len(lines))
    fitted = float(np.sqrt(np.mean(err[keep] ** 2))) if keep.any() else 0.0
    line_bends = _line_bends(pts[keep], owner[keep], design[keep] @ coef, len(lines))
    grid_x = _hats(np.clip(np.arange(w, dtype=float), left, right), kx)[:, free]
    grid_y = _hats(np.clip(np.arange(h, dtype=float), top, bottom), ky)
    d = grid_y @ coef.reshape(len(free), _KNOTS_Y).T @ grid_x.T
    return Field(
        straight_rms=straight,
        fitted_rms=fitted,
        line_bends=line_bends,
        d=d,
        bend=float(line_bends.max()) if len(line_bends) else 0.0,
        text_height=height,
        lines=len(lines),
        residual=residual,
    )


def _straight_rms(pts: np.ndarray, owner: np.ndarray, n: int) -> float:
    """RMS distance of the points from their own line's least-squares straight line."""
    if len(pts) == 0:
        return 0.0
    count = np.maximum(np.bincount(owner, None, n), 1)
    xc = pts[:, 0] - (np.bincount(owner, pts[:, 0], n) / count)[owner]
    yc = pts[:, 1] - (np.bincount(owner, pts[:, 1], n) / count)[owner]
    slope = np.bincount(owner, xc * yc, n) / np.maximum(np.bincount(owner, xc * xc, n), 1e-9)
    return float(np.sqrt(np.mean((yc - slope[owner] * xc) ** 2)))


def _line_bends(pts: np.ndarray, owner: np.ndarray, d: np.ndarray, n: int) -> np.ndarray:
    """Per line: how far the field bends it (largest deviation from its straight-line fit)."""
    if len(pts) == 0:
        return np.zeros(0)
    count = np.maximum(np.bincount(owner, None, n), 1)
    xc = pts[:, 0] - (np.bincount(owner, pts[:, 0], n) / count)[owner]
    dc = d - (np.bincount(owner, d, n) / count)[owner]
    slope = np.bincount(owner, xc * dc, n) / np.maximum(np.bincount(owner, xc * xc, n), 1e-9)
    dev = np.abs(dc - slope[owner] * xc)
    bends = np.zeros(n)
    np.maximum.at(bends, owner, dev)
    return bends


def _penalty(nx: int, ny: int, free: list[int], *, weight: float) -> np.ndarray:
    """Rows penalising second differences of the coefficients along x and along y (on the
    full knot grid, the fixed middle column counting as zero), and a faint pull to zero that
    keeps coefficients without data defined."""
    index = np.arange(nx * ny).reshape(nx, ny)
    rows = []
    for i in range(nx):
        for j in range(ny):
            for di, dj in ((1, 0), (0, 1)):
                if 0 < i < nx - 1 if di else 0 < j < ny - 1:
                    row = np.zeros(nx * ny)
                    row[index[i - di, j - dj]] += 1.0
                    row[index[i, j]] -= 2.0
                    row[index[i + di, j + dj]] += 1.0
                    rows.append(row)
    full = np.vstack(rows).reshape(len(rows), nx, ny)[:, free, :].reshape(len(rows), -1)
    faint = np.eye(len(free) * ny) * 1e-3
    result: np.ndarray = weight * np.vstack([full, faint])
    return result


def source_rows(d: np.ndarray, rounds: int = 3) -> np.ndarray:
    """For each output pixel, the source row offset: ``s`` with ``s = d(x, y + s)`` (fixed
    point, the field varies slowly), so that output (x, y) takes source (x, y + s)."""
    h, w = d.shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    field = d.astype(np.float32)
    shift: np.ndarray = field.copy()
    for _ in range(rounds):
        shift = cv2.remap(field, xs, ys + shift, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return shift


def compose(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The source offsets of applying ``first`` and then ``second`` (both from
    :func:`source_rows`): output (x, y) takes (x, y + s2) of the once-flattened image, which took
    (x, y + s2 + s1(x, y + s2)) of the original."""
    h, w = first.shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    inner = cv2.remap(first, xs, ys + second, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    result: np.ndarray = second + inner
    return result


def shift_rows(image: np.ndarray, shift: np.ndarray, *, cubic: bool = True) -> np.ndarray:
    """``image`` remapped once: output (x, y) takes source (x, y + shift), ``shift`` given on a
    smaller grid (work-copy pixels) and scaled up."""
    h, w = image.shape[:2]
    full = cv2.resize(shift * (h / shift.shape[0]), (w, h), interpolation=cv2.INTER_LINEAR)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mode = cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR
    warped: np.ndarray = cv2.remap(image, xs, ys + full, mode, borderMode=cv2.BORDER_REPLICATE)
    return warped


def flatten(image: np.ndarray, field: Field) -> np.ndarray:
    """``image`` with one fitted field removed (one ``cv2.remap``)."""
    return shift_rows(image, source_rows(field.d))


def work_copy(gray: np.ndarray, long_side: int) -> np.ndarray:
    """A grey copy at most ``long_side`` pixels long (area-averaged)."""
    scale = long_side / max(gray.shape[:2])
    if scale >= 1.0:
        return gray
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def model_page(
    gray: np.ndarray, *, work_side: int = _WORK_SIDE, min_lines: int = _MIN_LINES
) -> Field | str:
    """The fitted field of a grey page (on a copy at most ``work_side`` long, in its pixels), or
    why there is none (no text, too few lines)."""
    ink = ink_mask(gray, work_side)
    if ink is None:
        return "no text lines, no dewarp"
    if empty_share(ink) <= empty_share(ink.T):
        return "text lines do not run across the page, no dewarp"
    found = find_lines(ink)
    if found is None:
        return "no text lines, no dewarp"
    lines, height = found
    long_lines = [ln for ln in lines if ln.width >= _MIN_LINE_HEIGHTS * height]
    if len(long_lines) < min_lines:
        return f"{len(long_lines)} text lines (fewer than {min_lines}), no dewarp"
    return fit_field(long_lines, ink.shape, height)


def is_curved(model: Field, tolerance: float, *, min_gain: float = _MIN_GAIN) -> bool:
    """Whether the lines bend: the most bent line by more than ``tolerance`` text heights, and
    the curved fit leaves at most ``min_gain`` of the straight lines' error."""
    return (
        model.bend > tolerance * model.text_height
        and model.fitted_rms <= min_gain * model.straight_rms
    )


def dewarp(page: Page, ctx: StepContext) -> Page:
    """Flatten a curved or folded page; a flat page (straight lines) passes unchanged."""
    image = page.image
    if image is None:
        return page
    if min(image.shape[:2]) < 64:
        return page.evolve(detail="image too small, no dewarp")
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    small = work_copy(gray, int(ctx.param("work_side", _WORK_SIDE)))
    min_lines = int(ctx.param("min_lines", _MIN_LINES))
    tolerance = float(ctx.param("tolerance", TOLERANCE))
    model = model_page(small, min_lines=min_lines)
    if isinstance(model, str):
        return page.evolve(detail=model)
    scale = max(image.shape[:2]) / max(small.shape[:2])
    if not is_curved(model, tolerance):
        return page.evolve(
            detail=f"lines straight (bend {model.bend * scale:.1f} px over {model.lines} lines), "
            "no dewarp"
        )
    shift = source_rows(model.d)
    passes, left = 1, 0.0
    # The fit works in the warped page; what a strong bend leaves is fitted once more on the
    # flattened work copy, and both shifts go into the one remap of the full image.
    for _ in range(int(ctx.param("max_passes", _MAX_PASSES)) - 1):
        again = model_page(shift_rows(small, shift, cubic=False), min_lines=min_lines)
        if isinstance(again, str):
            break
        left = again.bend
        if not is_curved(again, tolerance, min_gain=1.0):  # the page is known to be curved
            break
        shift = compose(shift, source_rows(again.d))
        passes += 1
        left = 0.0
    moved = float(np.abs(shift).max()) * scale
    return page.evolve(
        detail=(
            f"dewarped: spline field {_KNOTS_X}×{_KNOTS_Y} fitted to {model.lines} text lines "
            f"({passes} pass{'es' if passes > 1 else ''}), bend {model.bend * scale:.1f} px"
            + (f" → {left * scale:.1f} px" if left else "")
            + f", max displacement {moved:.1f} px removed"
        ),
        image=shift_rows(image, shift),
    )

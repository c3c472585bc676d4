"""The dewarp step on arrays: the fitted field against a known warp, flat and hostile pages.

The integration tier's part (generated photos through ``ingest`` with Tesseract):
``tests/integration/test_dewarp.py``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from briefkasten.pipeline import dewarp as dw
from briefkasten.pipeline.geometry import correct_perspective, deskew, ink_mask
from briefkasten.pipeline.runner import Options, StepContext
from samples.generate import Plan, make_sample, render_page, warped_photo
from tests.support import factories
from tests.unit.test_geometry import page_of

SET_DIR = Path(__file__).resolve().parents[2] / "samples" / "set"


@pytest.fixture
def ctx(tmp_path: Path) -> StepContext:
    return StepContext(workdir=tmp_path, options=Options())


@functools.cache
def flat_page(kind: str = "brief", seed: int = 3) -> np.ndarray:
    """A 150-dpi grey page with known, straight lines."""
    img, _ = render_page(kind, seed=seed, dpi=150)
    return np.asarray(img.convert("L"))


def applied_warp(shape: tuple[int, ...], amplitude: float) -> np.ndarray:
    """A camera-like bow: zero down the middle column, growing with the distance from it
    (squared) and with the distance from the middle row, opposite above and below."""
    h, w = shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return amplitude * ((xs - (w - 1) / 2) / (w / 2)) ** 2 * (ys - h / 2) / (h / 2)


def warp_rows(image: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Content at (x, y) of ``image`` moves to (x, y + shift)."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    warped: np.ndarray = cv2.remap(
        image, xs, ys - shift, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return warped


def test_fitted_field_matches_the_applied_warp() -> None:
    flat = flat_page()
    truth = applied_warp(flat.shape, amplitude=40.0)  # ±40 px at the corners, 2.3 % of 1754
    curved = warp_rows(flat, truth)
    model = dw.model_page(curved, work_side=max(curved.shape))  # work at full size
    assert isinstance(model, dw.Field)
    assert dw.is_curved(model, dw.TOLERANCE)
    # Compare along the text lines where the model has data: the field is defined up to a
    # shift per row (the lines' free heights), so both are taken relative to the middle column.
    ink = ink_mask(curved, max(curved.shape))
    assert ink is not None
    ys, xs = np.nonzero(ink)
    mid = curved.shape[1] // 2
    got = model.d[ys, xs] - model.d[ys, mid]
    want = truth[ys, xs] - truth[ys, mid]
    assert np.percentile(np.abs(got - want), 95) < 0.25 * model.text_height
    assert np.abs(want).max() > 1.5 * model.text_height  # the warp was not trivial
    # Flattened, the lines are straight again.
    again = dw.model_page(dw.flatten(curved, model), work_side=max(curved.shape))
    assert isinstance(again, dw.Field)
    assert not dw.is_curved(again, dw.TOLERANCE)


def test_curved_page_is_dewarped_in_colour(ctx: StepContext) -> None:
    flat = flat_page()
    curved = warp_rows(flat, applied_warp(flat.shape, amplitude=24.0))
    rgb = np.ascontiguousarray(np.dstack([curved, curved, np.full_like(curved, 200)]))
    page = dw.dewarp(page_of(rgb, dpi=150.0), ctx)
    assert page.detail.startswith("dewarped: spline field")
    assert "text lines" in page.detail and "max displacement" in page.detail
    assert page.image is not None and page.image.shape == rgb.shape
    assert (page.image[..., 2] >= 199).all()  # the colour channels are kept (cubic overshoot aside)
    gray = cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
    again = dw.model_page(gray)
    assert isinstance(again, dw.Field) and not dw.is_curved(again, dw.TOLERANCE)


@pytest.mark.parametrize(("kind", "seed"), [("brief", 3), ("kontoauszug", 4), ("form", 5)])
def test_flat_page_is_untouched(ctx: StepContext, kind: str, seed: int) -> None:
    if kind == "form":
        img, _ = make_sample(Plan("form", seed), dpi=150)
        image = np.asarray(img)
    else:
        image = flat_page(kind, seed)
    page = page_of(image, dpi=150.0)
    result = dw.dewarp(page, ctx)
    assert result.image is page.image  # the same array: byte-identical, nothing resampled
    assert "no dewarp" in result.detail


@pytest.mark.parametrize("repeat", [1, 2, 3])
def test_flat_page_of_big_short_lines_is_untouched(ctx: StepContext, repeat: int) -> None:
    """Six or more lines of large text, flat: ascenders and descenders make their centres wave
    a little, which a spline field fitted to only a few lines mistook for a bend (found by
    tests/integration/test_bundle.py's pass-through PNG)."""
    image = np.asarray(factories.text_page(factories.LINES * repeat))
    page = page_of(image, dpi=150.0)
    result = dw.dewarp(page, ctx)
    assert result.image is page.image, result.detail
    assert "no dewarp" in result.detail


def test_committed_samples_are_untouched(ctx: StepContext) -> None:
    """The demo set through the geometry steps before dewarp: every page passes unchanged
    (the turned pay slip too, whose lines run down the page: the orientation step comes first
    in the pipeline, but should it be unsure, dewarp must not bend a sideways page)."""
    for path in sorted(SET_DIR.glob("*.[jp][pn]g")):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        page = deskew(correct_perspective(page_of(rgb, dpi=150.0), ctx), ctx)
        result = dw.dewarp(page, ctx)
        assert result.image is page.image, (path.name, result.detail)
        assert "no dewarp" in result.detail


def test_straight_but_tilted_lines_are_left_to_deskew(ctx: StepContext) -> None:
    flat = flat_page()
    h, w = flat.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 1.5, 1.0)
    tilted = cv2.warpAffine(flat, matrix, (w, h), borderValue=255)
    page = page_of(tilted, dpi=150.0)
    assert dw.dewarp(page, ctx).image is page.image


def test_too_few_lines_is_untouched(ctx: StepContext) -> None:
    flat = flat_page()
    few = np.full_like(flat, 255)
    few[:250] = flat[:250]  # the letterhead: a few lines only
    curved = warp_rows(few, applied_warp(few.shape, amplitude=24.0))
    page = page_of(curved, dpi=150.0)
    result = dw.dewarp(page, ctx)
    assert result.image is page.image
    assert "fewer than" in result.detail


@pytest.mark.parametrize(
    "image",
    [
        np.full((1200, 900), 255, np.uint8),  # blank
        np.zeros((1200, 900, 3), np.uint8),  # black
        np.random.default_rng(1).integers(0, 256, (1200, 900), dtype=np.uint8),  # noise
        (np.random.default_rng(2).random((1200, 900)) < 0.05).astype(np.uint8) * 255,  # specks
        np.full((10, 10, 3), 128, np.uint8),  # tiny
        np.full((40, 5000), 255, np.uint8),  # a sliver
    ],
    ids=["blank", "black", "noise", "specks", "tiny", "sliver"],
)
def test_hostile_input_is_untouched(ctx: StepContext, image: np.ndarray) -> None:
    page = page_of(image, dpi=150.0)
    result = dw.dewarp(page, ctx)
    assert result.image is page.image
    assert "no dewarp" in result.detail


def test_source_rows_inverts_the_field() -> None:
    field = applied_warp((200, 300), amplitude=6.0)
    shift = dw.source_rows(field)
    ys, xs = np.mgrid[0:200, 0:300].astype(np.float32)
    # Output (x, y) takes source (x, y + s); that source pixel moves by d(x, y + s) = s.
    back = cv2.remap(field, xs, ys + shift, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    assert np.abs(back - shift).max() < 0.05


# The samples the step is measured on.


def test_warped_photos_are_deterministic_and_realistic() -> None:
    img, _ = render_page("brief", seed=7, dpi=100)
    first, info = warped_photo(img, "curved", seed=7)
    second, again = warped_photo(img, "curved", seed=7)
    assert first.tobytes() == second.tobytes() and info == again
    warp = info["warp"]
    assert isinstance(warp, dict)
    assert warp["type"] == "curved" and warp["axis"] == "x"
    assert 0.005 <= warp["bow"] <= 0.05  # bow of the worst text line, share of page height
    for seed in range(6):
        _, folded = warped_photo(img, "folded", seed=seed)
        fold = folded["warp"]
        assert isinstance(fold, dict) and fold["folds"] in (1, 2)
        lifted = [abs(a) for a in fold["panel_angles"] if a]
        assert lifted and all(5.0 <= a <= 35.0 for a in lifted)
        assert len(folded["corners"]) == 4  # type: ignore[arg-type]


def test_plan_warp_goes_into_name_and_truth() -> None:
    plan = Plan("mietvertrag", 9, photo=True, warp="folded")
    assert plan.name(3) == "003_mietvertrag_folded_photo.jpg"
    img, entry = make_sample(plan, dpi=100)
    assert entry["warp"] == "folded" and entry["warp_params"]["type"] == "folded"
    assert entry["phone_photo"] and entry["expected"]["dewarped"]
    assert img.info["dpi"][0] == 72
    _, plain = make_sample(Plan("mietvertrag", 9, photo=True), dpi=100)
    assert "warp" not in plain  # the entries of unwarped samples are as they were
    with pytest.raises(ValueError, match="phone photo"):
        Plan("brief", 1, warp="curved")
    with pytest.raises(ValueError, match="one of"):
        Plan("brief", 1, photo=True, warp="rolled")


def test_page_on_its_side_is_untouched(ctx: StepContext) -> None:
    flat = flat_page()
    curved = warp_rows(flat, applied_warp(flat.shape, amplitude=40.0))
    sideways = np.ascontiguousarray(np.rot90(curved))
    page = page_of(sideways, dpi=150.0)
    result = dw.dewarp(page, ctx)
    assert result.image is page.image
    assert result.detail == "text lines do not run across the page, no dewarp"


def test_a_tall_blob_splits_where_its_centre_points_jump() -> None:
    """``textlines._runs``: a bowed line (smooth) stays one piece; two lines touching (a jump of
    more than half a text height) or a gap of over three bins fall apart; single points go."""
    from briefkasten.pipeline.textlines import _runs

    height = 10.0
    xs = np.arange(0.0, 200.0, 10.0)
    bowed = np.stack([xs, 50 + 0.002 * (xs - 100) ** 2], axis=1)  # 20 px of bow, smooth
    assert [len(p) for p in _runs(bowed, height)] == [20]
    jump = bowed.copy()
    jump[10:, 1] += 12.0  # the second half is the next line
    assert [len(p) for p in _runs(jump, height)] == [10, 10]
    shift = np.array([50.0, 0.0])
    gap = np.concatenate([bowed[:8], bowed[8:] + shift])  # a 60 px gap: over 3 bins
    assert [len(p) for p in _runs(gap, height)] == [8, 12]
    lonely = np.concatenate([bowed[:1] - 2 * shift, bowed[1:]])
    assert [len(p) for p in _runs(lonely, height)] == [19]

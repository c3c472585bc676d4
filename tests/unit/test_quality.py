"""Quality flags on generated pages: clean pages get none, each degradation gets its flag.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_quality.py``.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from briefkasten.model import Original, Page, PageRef
from briefkasten.pipeline.quality import FLAGS, Thresholds, assess, judge, measure
from briefkasten.pipeline.runner import Options, StepContext
from samples import generate
from samples.degrade import low_resolution, skew

KINDS = (*generate.KINDS, "form")


def render_kind(kind: str, seed: int = 0) -> Image.Image:
    if kind == "form":
        return generate.render_form(seed=seed)[0]
    return generate.render_page(kind, seed=seed)[0]


@pytest.fixture(scope="module")
def pages() -> dict[str, np.ndarray]:
    """One clean RGB A4 page at 300 dpi of every kind, rendered once for the module."""
    return {kind: np.asarray(render_kind(kind).convert("RGB")) for kind in KINDS}


def _page(image: np.ndarray | None, dpi: float = 300.0) -> Page:
    original = Original(
        name="t.png", path=Path("t.png"), sha256="0" * 64, size=1, media_type="image/png", pages=1
    )
    return Page(ref=PageRef(original, 0, "raster"), image=image, dpi=dpi)


def _ctx(tmp_path: Path, **params: object) -> StepContext:
    return StepContext(workdir=tmp_path, options=Options(), params=params)


def flags_of(image: np.ndarray, dpi: float = 300.0) -> tuple[str, ...]:
    return judge(measure(image, dpi), Thresholds())


def _text_line_row(dark: np.ndarray) -> int:
    """The middle row of the text line nearest the page's middle (not a rule: 1.5-5 mm high)."""
    rows = np.concatenate(([0], dark.any(axis=1).astype(np.int8), [0]))
    change = np.flatnonzero(np.diff(rows))
    runs = [(s, e) for s, e in zip(change[0::2], change[1::2], strict=True) if 18 <= e - s <= 60]
    middle = dark.shape[0] / 2
    start, end = min(runs, key=lambda r: abs((r[0] + r[1]) / 2 - middle))
    return (int(start) + int(end)) // 2


def _text_column(dark: np.ndarray) -> int:
    """A column in the right half that crosses many characters (not a table rule)."""
    width = int(dark.shape[1])
    crossings = np.abs(np.diff(dark.astype(np.int8), axis=0)).sum(axis=0)
    return width // 2 + int(np.argmax(crossings[width // 2 : 4 * width // 5]))


@pytest.mark.parametrize("kind", KINDS)
def test_clean_page_gets_no_flags(pages: dict[str, np.ndarray], kind: str) -> None:
    assert flags_of(pages[kind]) == ()


@pytest.mark.parametrize("kind", KINDS)
def test_clean_grey_page_gets_no_flags(pages: dict[str, np.ndarray], kind: str) -> None:
    grey = cv2.cvtColor(pages[kind], cv2.COLOR_RGB2GRAY)
    assert flags_of(grey) == ()


@pytest.mark.parametrize("kind", KINDS)
def test_blurred_page_is_blurry(pages: dict[str, np.ndarray], kind: str) -> None:
    blurred = cv2.GaussianBlur(pages[kind], (0, 0), 3)
    assert flags_of(blurred) == ("blurry",)


@pytest.mark.parametrize("kind", KINDS)
def test_darkened_page_is_too_dark(pages: dict[str, np.ndarray], kind: str) -> None:
    dark = (pages[kind] * 0.35).astype(np.uint8)
    assert flags_of(dark) == ("too_dark",)


@pytest.mark.parametrize("value", [255, 240])
def test_white_page_is_blank(value: int) -> None:
    white = np.full((3508, 2480, 3), value, np.uint8)
    assert flags_of(white) == ("blank",)


def test_noisy_white_page_is_blank() -> None:
    rng = np.random.default_rng(0)
    noisy = np.clip(rng.normal(245, 6, (3508, 2480)), 0, 255).astype(np.uint8)
    assert flags_of(noisy) == ("blank",)


@pytest.mark.parametrize("kind", KINDS)
def test_page_cut_through_a_text_line_is_cut_off(pages: dict[str, np.ndarray], kind: str) -> None:
    dark = cv2.cvtColor(pages[kind], cv2.COLOR_RGB2GRAY) < 128
    row, column = _text_line_row(dark), _text_column(dark)
    assert flags_of(pages[kind][:row]) == ("cut_off",)
    assert flags_of(pages[kind][row:]) == ("cut_off",)
    assert flags_of(pages[kind][:, :column]) == ("cut_off",)


@pytest.mark.parametrize("kind", KINDS)
def test_100_dpi_page_is_low_resolution(kind: str) -> None:
    small = low_resolution(render_kind(kind), 100)
    assert flags_of(np.asarray(small.convert("RGB")), 100) == ("low_resolution",)


def test_small_image_is_low_resolution_even_without_dpi() -> None:
    assert "low_resolution" in flags_of(np.full((400, 300), 255, np.uint8), 0.0)


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (1, 500), (500, 1, 3), (3, 3)])
def test_tiny_image_is_low_resolution_not_a_crash(tmp_path: Path, shape: tuple[int, ...]) -> None:
    page = assess(_page(np.zeros(shape, np.uint8)), _ctx(tmp_path))
    assert "low_resolution" in page.flags


@pytest.mark.parametrize("kind", ["brief", "form"])
def test_black_scanner_border_is_ignored(kind: str) -> None:
    scanned = skew(render_kind(kind), 7, border="black")
    assert flags_of(np.asarray(scanned.convert("RGB"))) == ()


def test_blank_page_with_black_border_is_blank_only() -> None:
    scanned = skew(Image.new("RGB", (2480, 3508), "white"), 4, border="black")
    assert flags_of(np.asarray(scanned)) == ("blank",)


def test_sparse_page_is_neither_blank_nor_blurry() -> None:
    page = np.full((3508, 2480), 250, np.uint8)
    cv2.putText(page, "Seite 2 von 3", (300, 1700), cv2.FONT_HERSHEY_SIMPLEX, 3, 20, 6)
    cv2.putText(page, "Unterschrift", (300, 1900), cv2.FONT_HERSHEY_SIMPLEX, 3, 20, 6)
    assert flags_of(page) == ()


def test_assess_adds_flags_and_numbers_only(pages: dict[str, np.ndarray], tmp_path: Path) -> None:
    page = _page(cv2.GaussianBlur(pages["brief"], (0, 0), 3)).flagged("low_ocr_confidence")
    result = assess(page, _ctx(tmp_path))
    assert result.flags == ("low_ocr_confidence", "blurry")
    assert result.image is page.image
    for name in ("sharpness=", "brightness=", "ink=", "edge="):
        assert name in result.detail
    assert "Jobcenter" not in result.detail


def test_assess_reads_thresholds_from_the_pipeline(
    pages: dict[str, np.ndarray], tmp_path: Path
) -> None:
    page = _page(pages["brief"])
    assert assess(page, _ctx(tmp_path)).flags == ()
    strict = assess(page, _ctx(tmp_path, min_dpi=400, min_brightness=253, min_sharpness=5000))
    assert strict.flags == ("blurry", "too_dark", "low_resolution")


def test_assess_leaves_vector_pages_alone(tmp_path: Path) -> None:
    page = _page(None)
    assert assess(page, _ctx(tmp_path)).flags == ()


def test_measure_is_fast_enough_to_be_run_on_every_page(pages: dict[str, np.ndarray]) -> None:
    """Not a timing assertion: the analysis copy must stay small for A4 at 300 dpi."""
    m = measure(pages["kontoauszug"], 300)
    assert (m.width, m.height) == (2480, 3508)
    assert m.sharpness is not None and m.sharpness > 200
    assert 0.005 < m.ink < 0.2


_images = st.one_of(
    arrays(np.uint8, st.tuples(st.integers(1, 70), st.integers(1, 70))),
    arrays(np.uint8, st.tuples(st.integers(1, 70), st.integers(1, 70), st.just(3))),
)


@settings(max_examples=150, deadline=None)
@given(
    image=_images,
    dpi=st.one_of(st.floats(allow_nan=True), st.sampled_from([0.0, 72.0, 300.0])),
)
def test_any_small_image_gets_known_flags(image: np.ndarray, dpi: float) -> None:
    page = _page(image, dpi)
    result = assess(page, StepContext(workdir=Path(), options=Options()))
    assert isinstance(result.flags, tuple)
    assert set(result.flags) <= set(FLAGS)
    assert "low_resolution" in result.flags
    m = measure(image, dpi)
    assert 0.0 <= m.ink <= 1.0 and 0.0 <= m.edge <= 1.0 and 0.0 <= m.brightness <= 255.0
    assert m.sharpness is None or math.isfinite(m.sharpness)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    height=st.integers(16, 900),
    width=st.integers(16, 900),
    colour=st.booleans(),
)
def test_random_noise_pages_never_crash(seed: int, height: int, width: int, colour: bool) -> None:
    rng = np.random.default_rng(seed)
    shape = (height, width, 3) if colour else (height, width)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    assert set(judge(measure(image, 150.0), Thresholds())) <= set(FLAGS)

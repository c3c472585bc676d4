"""The page image encoded while OCR runs (``bundle.EarlyImage``): used only for the pixels it
was started on, its errors not lost, its thread always joined.

The unit tier (no servers, no external programs): the OCR step is a stand-in here.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from briefkasten.errors import ProcessingError
from briefkasten.model import Original, Page, PageRef
from briefkasten.pipeline import bundle
from briefkasten.pipeline.bundle import EarlyImage, raster_page_pdf
from briefkasten.pipeline.runner import Options, Pipeline, StepSpec, run_steps

QUALITY = 80


def photo_page(seed: int = 1, *, lossy: bool = True) -> Page:
    original = Original(
        name="p.jpg", path=Path("p.jpg"), sha256="0" * 64, size=1, media_type="image/jpeg", pages=1
    )
    pixels = np.random.default_rng(seed).integers(0, 256, (120, 90, 3), dtype=np.uint8)
    return Page(ref=PageRef(original, 0, "raster"), image=pixels, dpi=150.0, lossy_source=lossy)


def started(page: Page) -> EarlyImage:
    early = EarlyImage(QUALITY)
    early.before_step("ocr", page)
    return early


def test_the_early_encoding_is_the_encoding_bundling_would_make() -> None:
    page = photo_page()
    early = started(page)
    try:
        assert early.encoded(page, QUALITY) == bundle._page_image_bytes(page, QUALITY)
    finally:
        early.close()


def test_it_starts_before_the_ocr_step_only_and_only_once() -> None:
    early = EarlyImage(QUALITY)
    page = photo_page()
    for step in ("perspective", "deskew", "quality"):
        early.before_step(step, page)
    assert early.encoded(page, QUALITY) is None  # nothing started
    early.before_step("ocr", page)
    other = photo_page(seed=2)
    early.before_step("ocr", other)  # a second OCR step (verify_orientation): not restarted
    try:
        assert early.encoded(page, QUALITY) is not None
        assert early.encoded(other, QUALITY) is None
    finally:
        early.close()


def test_a_page_turned_after_ocr_is_encoded_again(tmp_path: Path) -> None:
    page = photo_page(lossy=False)  # lossless: the PDF holds the pixels exactly
    early = started(page)
    assert page.image is not None
    turned = page.evolve(image=np.ascontiguousarray(np.rot90(page.image, k=-1)))
    assert early.encoded(turned, QUALITY) is None
    out = tmp_path / "page.pdf"
    try:
        raster_page_pdf(turned, out, jpeg_quality=QUALITY, early=early)
    finally:
        early.close()
    image = PdfReader(out).pages[0].images[0].image
    assert image.size == (120, 90)  # the turned page, not the one the encoding started on
    assert np.array_equal(np.asarray(image.convert("RGB")), turned.image)


def test_other_settings_or_source_are_not_taken() -> None:
    page = photo_page()
    early = started(page)
    try:
        assert early.encoded(page, QUALITY + 1) is None
        assert early.encoded(page.evolve(lossy_source=False), QUALITY) is None
        assert early.encoded(page.evolve(passthrough=Path("p.jpg")), QUALITY) is None
    finally:
        early.close()


def test_an_encoding_error_is_raised_where_the_page_is_bundled(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bundle.cv2, "imencode", lambda *a, **k: (False, None))
    page = photo_page()
    early = started(page)
    try:
        with pytest.raises(ProcessingError, match="cannot encode page image"):
            raster_page_pdf(page, tmp_path / "page.pdf", jpeg_quality=QUALITY, early=early)
    finally:
        early.close()


def test_close_waits_for_the_thread_and_may_be_called_without_a_start() -> None:
    EarlyImage(QUALITY).close()
    early = started(photo_page())
    early.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("early-image")]


def test_run_steps_tells_of_every_step_before_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, int]] = []

    def step(page: Page, ctx: object) -> Page:
        return page.evolve(dpi=page.dpi + 1)

    monkeypatch.setattr("briefkasten.pipeline.runner.resolve", lambda name: step)
    pipeline = Pipeline("t", "1", "", (StepSpec("deskew", {}), StepSpec("ocr", {})))
    done = run_steps(
        photo_page(), pipeline, Path(), Options(), lambda n, p: seen.append((n, int(p.dpi)))
    )
    assert seen == [("deskew", 150), ("ocr", 151)]  # each told the page as that step gets it
    assert done.dpi == 152


def test_a_page_over_the_pixel_bound_is_encoded_when_bundled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bundle, "EARLY_MAX_PIXELS", 120 * 90 - 1)
    page = photo_page()
    early = started(page)
    try:
        assert early.encoded(page, QUALITY) is None
    finally:
        early.close()


def test_no_thread_to_be_had_leaves_the_encoding_to_bundling(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(bundle.ThreadPoolExecutor, "submit", refuse)
    page = photo_page(lossy=False)
    early = started(page)
    out = tmp_path / "page.pdf"
    try:
        assert early.encoded(page, QUALITY) is None
        raster_page_pdf(page, out, jpeg_quality=QUALITY, early=early)
    finally:
        early.close()
    image = PdfReader(out).pages[0].images[0].image
    assert np.array_equal(np.asarray(image.convert("RGB")), page.image)

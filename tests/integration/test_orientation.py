"""Page orientation on generated pages, with the real Tesseract for OSD.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_orientation.py``.
"""

from __future__ import annotations

import functools
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from briefkasten import ingest
from briefkasten.config import Settings
from briefkasten.model import Original, Page, PageRef
from briefkasten.pipeline.ocr import ocr
from briefkasten.pipeline.orientation import orient, turn_clockwise
from briefkasten.pipeline.runner import Options, StepContext
from briefkasten.tools import tesseract
from samples.evaluate import char_errors
from samples.generate import quarter_turn, render_form, render_page
from samples.orientation import mixed_rotation_tiff, render_descender_page
from tests.support import factories
from tests.support.env import need


@pytest.fixture(autouse=True)
def tesseract_installed() -> None:
    need(tesseract.available(), "tesseract not installed")


@functools.cache
def upright_image(kind: str, seed: int, dpi: int = 200) -> np.ndarray:
    image = (
        render_form(seed=seed, dpi=dpi)[0]
        if kind == "form"
        else render_page(kind, seed=seed, dpi=dpi)[0]
    )
    return np.asarray(image.convert("RGB"))


def as_page(image: np.ndarray) -> Page:
    original = Original(
        name="t.png", path=Path("t.png"), sha256="0" * 64, size=1, media_type="image/png", pages=1
    )
    return Page(ref=PageRef(original, 0, "raster"), image=image, dpi=200.0)


def turned_image(image: np.ndarray, turns: int) -> np.ndarray:
    return np.asarray(quarter_turn(Image.fromarray(image), turns))


def step_context(tmp_path: Path, **params: object) -> StepContext:
    return StepContext(workdir=tmp_path, options=Options(), params=params)


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
@pytest.mark.parametrize("kind", ["brief", "kontoauszug"])
def test_every_quarter_turn_becomes_upright(tmp_path: Path, kind: str, turns: int) -> None:
    upright = upright_image(kind, 3)
    result = orient(as_page(turned_image(upright, turns)), step_context(tmp_path))
    if result.orientation_pending:  # axis settled, up/down left to the OCR run
        result = ocr(result, step_context(tmp_path))
        assert not result.orientation_pending
        assert result.ocr is not None and result.ocr.lines  # the text layer's lines
    assert result.rotation == 90 * turns
    assert "orientation_uncertain" not in result.flags
    assert result.image is not None
    shown = turn_clockwise(result.image, result.view_rotation)  # what the PDF page shows
    assert np.array_equal(shown, upright)  # lossless
    assert list(tmp_path.iterdir()) == []  # the OSD and OCR copies are cleaned up


def test_up_down_of_a_table_is_left_to_the_ocr_run(tmp_path: Path) -> None:
    """Figures have no ascenders: the line check sees the axis only, the OCR run settles it."""
    upside_down = turned_image(upright_image("kontoauszug", 3), 2)
    oriented = orient(as_page(upside_down), step_context(tmp_path))
    assert oriented.orientation_pending and oriented.image is upside_down  # no pixels moved
    read = ocr(oriented, step_context(tmp_path))
    assert read.rotation == 180 and read.view_rotation == 180
    assert "upside down" in read.detail
    assert read.ocr is not None and "Kontoauszug" in read.ocr.text


def test_deferring_can_be_switched_off(tmp_path: Path) -> None:
    upside_down = turned_image(upright_image("kontoauszug", 3), 2)
    result = orient(as_page(upside_down), step_context(tmp_path, defer_up_down_to_ocr=False))
    assert not result.orientation_pending
    assert result.rotation == 180 and "OSD confidence" in result.detail


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_osd_turns_pages_upright(tmp_path: Path, turns: int) -> None:
    # Force Tesseract's OSD by distrusting the cheap line check.
    upright = upright_image("mietvertrag", 5)
    ctx = step_context(tmp_path, min_line_ratio=math.inf, defer_up_down_to_ocr=False)
    result = orient(as_page(turned_image(upright, turns)), ctx)
    assert result.rotation == 90 * turns
    assert "OSD confidence" in result.detail
    assert np.array_equal(result.image, upright)


@pytest.mark.parametrize("turns", [1, 2])
def test_form_with_little_text_becomes_upright(tmp_path: Path, turns: int) -> None:
    upright = upright_image("form", 1)
    result = orient(as_page(turned_image(upright, turns)), step_context(tmp_path))
    assert result.rotation == 90 * turns
    assert np.array_equal(result.image, upright)


# -- issue 11: orientation never delivers upside-down text ----------------------------------
# Descender-heavy pages (samples/orientation.py) fool the line check into turning them upside
# down; OCR then reads mirror-gibberish, and verify_orientation must find the turn that reads.


def page_texts(pdf: Path, pages: int) -> list[str]:
    return [
        subprocess.run(
            ["pdftotext", "-raw", "-enc", "UTF-8", "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        for n in range(1, pages + 1)
    ]


def cer(text: str, truth: str) -> float:
    errors, length = char_errors(text, truth)
    return errors / length


def verify_details(report: Path) -> list[str]:
    pages = json.loads(report.read_text("utf-8"))["pages"]
    return [
        next(s["detail"] for s in page["steps"] if s["step"] == "verify_orientation")
        for page in pages
    ]


def test_multi_page_tiff_of_mixed_rotations_is_delivered_readable(
    tmp_path: Path, settings: Settings
) -> None:
    turns = (0, 1, 2, 3)  # counter-clockwise quarter turns, as scanned
    tiff, truths = mixed_rotation_tiff(tmp_path / "scan.tif", turns, seed=4)
    report = tmp_path / "report.json"
    result = ingest([tiff], tmp_path / "out.pdf", settings=settings, report=report)
    texts = page_texts(tmp_path / "out.pdf", len(turns))
    assert [cer(t, truth) for t, truth in zip(texts, truths, strict=True)] == pytest.approx(
        [0.0] * 4, abs=0.02
    )
    assert [p.rotation for p in result.pages] == [90 * t for t in turns]
    for detail in verify_details(report):
        # The line check turned every page upside down; the report says what was undone.
        assert detail.startswith("OCR text not words"), detail
        assert "turned 180° further clockwise, reads best" in detail
    assert all("orientation_uncertain" not in p.flags for p in result.pages)


def test_ordinary_pages_in_every_rotation_pass_verify_without_extra_runs(
    tmp_path: Path, settings: Settings
) -> None:
    tiff, truths = mixed_rotation_tiff(tmp_path / "scan.tif", (2, 3), seed=1, kind="brief")
    report = tmp_path / "report.json"
    result = ingest([tiff], tmp_path / "out.pdf", settings=settings, report=report)
    texts = page_texts(tmp_path / "out.pdf", 2)
    assert all(cer(t, truth) < 0.02 for t, truth in zip(texts, truths, strict=True))
    assert [p.rotation for p in result.pages] == [180, 270]
    assert all(d.startswith("text reads as text") for d in verify_details(report))


def test_scanned_pdf_pages_upside_down_are_turned_by_what_reads(
    tmp_path: Path, settings: Settings
) -> None:
    parts, truths = [], []
    for index, turn in enumerate((2, 0)):
        image, truth = render_descender_page(seed=10 + index, dpi=150)
        parts.append(factories.scanned_pdf(tmp_path / f"p{index}.pdf", quarter_turn(image, turn)))
        truths.append(truth)
    source = factories.merged_pdf(tmp_path / "scan.pdf", *parts)
    report = tmp_path / "report.json"
    result = ingest([source], tmp_path / "out.pdf", settings=settings, report=report)
    texts = page_texts(tmp_path / "out.pdf", 2)
    assert all(cer(t, truth) < 0.02 for t, truth in zip(texts, truths, strict=True))
    assert [p.rotation for p in result.pages] == [180, 0]
    assert all("reads best" in d for d in verify_details(report))

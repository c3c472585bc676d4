"""Page orientation on generated pages, with the real Tesseract for OSD.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_orientation.py``.
"""

# ruff: noqa: RUF001  (OCR's mirror-gibberish is made of look-alike letters)
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from briefkasten.model import OcrLine, OcrResult, OcrWord, Page
from briefkasten.pipeline import ocr as ocr_step
from briefkasten.pipeline.orientation import orient, text_orientation, turn_clockwise, verify
from briefkasten.pipeline.runner import StepContext
from tests.integration.test_orientation import (
    as_page,
    step_context,
    turned_image,
    upright_image,
)


@pytest.mark.parametrize("kind", ["lohnabrechnung", "mietvertrag"])
def test_line_check_reads_text_pages(kind: str) -> None:
    upright = upright_image(kind, 9)[..., 1]
    for turns in range(4):
        verdict = text_orientation(np.ascontiguousarray(turned_image(upright, turns)))
        assert verdict is not None
        assert verdict.rotate == 90 * turns
        assert verdict.ratio > 1.8


def test_blank_page_is_flagged_and_unchanged(tmp_path: Path) -> None:
    blank = np.full((2339, 1654, 3), 250, np.uint8)
    result = orient(as_page(blank), step_context(tmp_path))
    assert result.image is blank
    assert result.rotation == 0
    assert "orientation_uncertain" in result.flags


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (40, 3)])
def test_tiny_page_is_flagged_not_crashed(tmp_path: Path, shape: tuple[int, ...]) -> None:
    tiny = np.zeros(shape, np.uint8)
    result = orient(as_page(tiny), step_context(tmp_path))
    assert result.image is tiny
    assert "orientation_uncertain" in result.flags


def test_turn_clockwise_is_lossless() -> None:
    image = np.arange(24, dtype=np.uint8).reshape(4, 6)
    assert turn_clockwise(image, 0) is image
    assert turn_clockwise(image, 90)[0, -1] == image[0, 0]
    assert np.array_equal(turn_clockwise(turn_clockwise(image, 90), 270), image)


# -- verify: after OCR, text that is not words makes it try the other quarter turns ----------
# Tesseract is replaced by a reader that sees words only when the pixels are the upright
# page, and whose one text-layer line says which turn it was read at.

GOOD = "Sehr geehrte Frau Müller, bitte reichen Sie die Kontoauszüge bis zum 15. Juli ein."
GIBBERISH = "JoH uop ıoqn fueßnz Jorarjararıreq KmqzımM 0L0/6 ‘OL PgJeigsIouLley :ossaıp"


def layer_at(rotation: int) -> OcrLine:
    word = OcrWord(f"layer{rotation}", (0, 0, 10, 10), 90.0)
    return OcrLine((word,), (0, 0, 10, 10), (0.0, 0.0), 10.0, 0, 0)


def layer_of(page: Page) -> str:
    assert page.ocr is not None
    return page.ocr.lines[0].words[0].text


class FakeReader:
    def __init__(self, upright: np.ndarray) -> None:
        self.upright = upright
        self.reads: list[int] = []

    def __call__(self, page: Page, ctx: StepContext) -> Page:
        assert page.image is not None
        self.reads.append(page.rotation)
        good = np.array_equal(page.image, self.upright)
        result = OcrResult(
            GOOD if good else GIBBERISH, 95.0 if good else 35.0, 14, (layer_at(page.rotation),)
        )
        return page.evolve(detail="OCR", ocr=result)


def read_as_lying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, turns: int, **changes: object
) -> tuple[Page, FakeReader]:
    upright = upright_image("brief", 3)
    reader = FakeReader(upright)
    page = as_page(turned_image(upright, turns)).evolve(**changes)
    page = reader(page, step_context(tmp_path))
    reader.reads.clear()
    monkeypatch.setattr(ocr_step, "ocr", reader)
    return page, reader


def test_a_page_that_reads_as_text_costs_no_extra_ocr_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page, reader = read_as_lying(tmp_path, monkeypatch, 0)
    result = verify(page, step_context(tmp_path))
    assert reader.reads == []
    assert result.image is page.image and result.ocr is page.ocr
    assert result.detail.startswith("text reads as text (score")


def test_an_upside_down_reading_is_turned_and_its_text_layer_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page, reader = read_as_lying(tmp_path, monkeypatch, 2, rotation=0)
    result = verify(page, step_context(tmp_path))
    assert reader.reads == [180]  # the likeliest turn first, and it read as text
    assert result.rotation == 180 and "orientation_uncertain" not in result.flags
    assert result.ocr is not None and result.ocr.text == GOOD
    assert layer_of(result) == "layer180"  # the text layer of the run that read well
    assert "OCR text not words" in result.detail and "turned 180° further" in result.detail


def test_a_page_whose_lines_run_down_tries_only_the_sideways_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page, reader = read_as_lying(tmp_path, monkeypatch, 1)  # 90° counter-clockwise
    result = verify(page, step_context(tmp_path))
    assert reader.reads[0] == 90 and 180 not in reader.reads
    assert result.rotation == 90
    assert result.image is not None and np.array_equal(result.image, reader.upright)


def test_a_page_shown_turned_by_the_pdf_is_judged_as_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The OCR step settled "upside down" by the PDF's /Rotate, and that was wrong.
    page, reader = read_as_lying(tmp_path, monkeypatch, 0, rotation=180, view_rotation=180)
    page = page.evolve(ocr=dataclasses.replace(page.ocr, text=GIBBERISH, confidence=35.0))
    result = verify(page, step_context(tmp_path))
    assert reader.reads == [0]  # 180° further than shown: the pixels as they lie
    assert (result.rotation, result.view_rotation) == (0, 0)


def test_when_no_turn_reads_better_the_page_stays_and_is_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page, reader = read_as_lying(tmp_path, monkeypatch, 0)
    reader.upright = np.zeros((1, 1), np.uint8)  # nothing reads as text
    page = page.evolve(ocr=dataclasses.replace(page.ocr, text=GIBBERISH, confidence=35.0))
    result = verify(page, step_context(tmp_path))
    assert reader.reads == [180, 90, 270]
    assert result.image is page.image and result.rotation == 0
    assert "orientation_uncertain" in result.flags
    assert result.ocr is page.ocr and layer_of(result) == "layer0"  # the first run's layer
    assert result.detail.endswith("left as it was")


def test_too_little_text_is_not_judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page, reader = read_as_lying(tmp_path, monkeypatch, 2)
    page = page.evolve(ocr=dataclasses.replace(page.ocr, text="uop ıoqn"))
    result = verify(page, step_context(tmp_path))
    assert reader.reads == [] and result.rotation == page.rotation
    assert "too few words" in result.detail


def test_an_unsure_orientation_needs_clearer_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page, reader = read_as_lying(tmp_path, monkeypatch, 2)
    # Words, but few of them common and read unsurely: enough for a page whose orientation
    # was judged, not for one no judge was sure about.
    middling = "Wohnung Heizung Vermieter Nebenkosten Abrechnung Kaution Quadratmeter Zimmer"
    page = page.evolve(ocr=dataclasses.replace(page.ocr, text=middling, confidence=40.0))
    assert verify(page, step_context(tmp_path)).rotation == 0 and reader.reads == []
    result = verify(page.flagged("orientation_uncertain"), step_context(tmp_path))
    assert reader.reads == [180]
    assert result.rotation == 180 and "orientation_uncertain" not in result.flags

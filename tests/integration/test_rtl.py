"""Right-to-left pages (Arabic, Persian) with the real Tesseract: the words come out of the
engine in reading order (as Tesseract's hOCR has them), and the PDF's text layer, written in
visual order, gives them back in reading order to the extractors with a bidi step: pdftotext
(plain, -layout), PDFBox (Tika), PDFium and pypdf."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest

from briefkasten.config import OCR_LANGUAGES
from briefkasten.model import Original, Page, PageRef
from briefkasten.pipeline.bundle import raster_page_pdf
from briefkasten.pipeline.ocr import ocr
from briefkasten.pipeline.runner import Options, StepContext
from briefkasten.tools import engine, tesseract
from samples.evaluate import word_misses
from samples.extract import pdf_text
from samples.langpages import render
from tests.support import preflight
from tests.support.env import need
from tests.unit.test_textlayer import page_pdf
from tests.unit.test_textlayer_rtl import WORDS, arabic_line, words_of

PAGES = [("ara", 1), ("ara", 2), ("fas", 0), ("fas", 2)]


@pytest.fixture(autouse=True)
def models() -> None:
    need(tesseract.available(), "tesseract language data not installed")
    need({"ara", "fas"} <= tesseract.languages(), "tesseract-ocr-ara / -fas not installed")


@pytest.mark.parametrize(("lang", "index"), PAGES)
def test_words_come_in_reading_order_as_in_hocr(lang: str, index: int) -> None:
    image, _ = render(lang, index)
    with tesseract._ENGINES.use(tesseract.tessdata(), lang) as api:
        api.SetPageSegMode(3)
        engine.set_pixels(api, np.asarray(image), 300)
        assert api.Recognize()
        words = re.findall(r"ocrx_word[^>]*>(?:<[^>]*>)*([^<]*)<", api.GetHOCRText(0))
        hocr = [" ".join(html.unescape(w).replace("\u200f", "").split()) for w in words]
        ours = [w.text for line in engine.read_lines(api) for w in line.words]
    assert len(ours) == len(hocr)
    same = sum(a == b for a, b in zip(ours, hocr, strict=True))
    assert same >= len(hocr) - 1  # measured: 433 of 434 words over six pages


@pytest.mark.parametrize(("lang", "index"), PAGES)
def test_the_text_layer_reads_in_reading_order(lang: str, index: int, tmp_path: Path) -> None:
    image, truth = render(lang, index)
    original = Original("p.png", Path("p.png"), "0" * 64, 1, "image/png", 1)
    page = Page(ref=PageRef(original, 0, "raster"), image=np.asarray(image), dpi=300)
    read = ocr(page, StepContext(workdir=tmp_path, options=Options(languages=OCR_LANGUAGES)))
    assert read.ocr is not None and read.ocr.language == lang
    pdf = tmp_path / "page.pdf"
    raster_page_pdf(read, pdf, jpeg_quality=85)
    texts = {tool: pdf_text(pdf, tool) for tool in ("plain", "layout", "pypdf", "pdfium")}
    if preflight.available():
        texts["pdfbox"] = preflight.extract_text(pdf)
        texts["pdfbox-sort"] = preflight.extract_text(pdf, sort=True)
    ocr_missed, words = word_misses(read.ocr.text, truth)
    for tool, text in texts.items():
        missed, words = word_misses(text, truth)
        # Reversed words would nearly all be missed (pdfminer.six, which has no bidi step:
        # 0.98); measured 0.09-0.16 over the four pages where the OCR's own text misses 0.09
        # (misreadings, punctuation split off by poppler's bidi marks, pypdf's numbers).
        assert missed / words <= ocr_missed / words + 0.15, tool
    assert word_misses(pdf_text(pdf, "pdfminer"), truth)[0] / words > 0.8  # what it cannot


def test_a_word_box_over_its_neighbours_does_not_scramble_the_line(tmp_path: Path) -> None:
    """Tesseract gave one Arabic word a box over the two words before it: poppler would
    interleave their letters (``اللهخ المعمرس``); the layer shortens the box first."""
    pdf = page_pdf(tmp_path, [arabic_line(400, bogus=3), arabic_line(470)])
    # Poppler moves the space after a number in a right-to-left line before it (into its
    # embedding marks): its lines are compared without spaces, letters and words in order.
    plain = [words_of(line) for line in pdf_text(pdf, "plain").splitlines() if line.strip()]
    assert ["".join(words) for words in plain] == ["".join(WORDS)] * 2
    if preflight.available():
        for sort in (True, False):
            text = preflight.extract_text(pdf, sort=sort)
            assert [line.split() for line in text.splitlines()] == [list(WORDS)] * 2

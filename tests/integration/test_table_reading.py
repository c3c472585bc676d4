"""A bank statement's table is read row by row, with the real Tesseract, in the two cases where
Tesseract missed the table and read it column by column (all dates, then all texts): the OCR
copy shrunk so far that its one-pixel rules fade, and a skewed scan on a black scanner bed.
``tablerows`` joins the columns back into rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from briefkasten import ingest
from briefkasten.config import Settings
from briefkasten.model import Original, Page, PageRef
from briefkasten.pipeline import ocrscale
from briefkasten.pipeline.ocr import ocr as ocr_step
from briefkasten.pipeline.runner import Options, StepContext
from briefkasten.tools import tesseract
from samples.extract import pdf_text
from samples.generate import Plan, make_sample
from tests.support.env import need

SEED = 1003  # the statement of the eval's skew class (seed 0) that was read by columns


@pytest.fixture(autouse=True)
def engine_installed() -> None:
    need(tesseract.available(), "tesseract language data not installed")


def rows_in_order(text: str, truth: str) -> float:
    """The share of the truth's table rows (lines starting with a date) found whole, as lines."""
    lines = {" ".join(line.split()) for line in text.splitlines()}
    rows = [" ".join(r.split()) for r in truth.splitlines() if r[:2].isdigit() and r[2] == "."]
    assert len(rows) > 20
    return sum(r in lines for r in rows) / len(rows)


def test_a_statement_shrunk_until_its_rules_fade_is_read_row_by_row(tmp_path: Path) -> None:
    image, entry = make_sample(Plan("kontoauszug", SEED), dpi=300)
    grey = np.asarray(image.convert("L"))
    x_height = ocrscale.x_height(grey)
    assert x_height is not None
    original = Original("p.png", Path("p.png"), "0" * 64, 1, "image/png", 1)
    page = Page(ref=PageRef(original, 0, "raster"), image=grey, dpi=300)
    # 0.72×: the 1-px rules land between two rows at about 60 % darkness.
    params = {"target_x_height": 0.72 * x_height}
    read = ocr_step(page, StepContext(workdir=tmp_path, options=Options(), params=params))
    assert "read at 0.72×" in read.detail
    assert read.ocr is not None
    assert rows_in_order(read.ocr.text, entry["text"]) > 0.9


def test_a_skewed_statement_on_a_black_bed_is_read_row_by_row(
    tmp_path: Path, settings: Settings
) -> None:
    image, entry = make_sample(
        Plan("kontoauszug", SEED, skew=16.75, border="black", fmt="jpg"), dpi=300
    )
    source = tmp_path / "statement.jpg"
    image.save(source, quality=90)
    ingest([source], output=tmp_path / "out.pdf", settings=settings)
    for tool in ("raw", "plain"):
        assert rows_in_order(pdf_text(tmp_path / "out.pdf", tool), entry["text"]) > 0.9, tool

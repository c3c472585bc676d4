"""The text layer on real OCR: what pdftotext (plain and -layout), pdfminer.six and pypdf read.

Every line Tesseract recognised must come out whole (words joined by single spaces) and in
Tesseract's reading order (a two-column page column by column), and the character error rate
against the drawn text stays within the OCR's own: the layer loses nothing.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from briefkasten.model import Original, Page, PageRef
from briefkasten.pipeline.bundle import raster_page_pdf
from briefkasten.pipeline.ocr import ocr
from briefkasten.pipeline.runner import Options, StepContext
from briefkasten.tools import tesseract
from tests.support.env import need
from tests.support.textpages import (
    TOOLS,
    TextPage,
    cer,
    dense_page,
    extract,
    lines_of,
    two_column_page,
)
from tests.unit.test_textlayer import page_pdf, table_row

PAGES = {"two-column": two_column_page, "dense": dense_page}


@pytest.fixture(autouse=True)
def tools_installed() -> None:
    need(tesseract.available(), "tesseract not installed")
    need(shutil.which("pdftotext"), "pdftotext not installed (poppler-utils)")


def as_page(image: np.ndarray, dpi: float, *, orientation_pending: bool = False) -> Page:
    original = Original("p.png", Path("p.png"), "0" * 64, 1, "image/png", 1)
    ref = PageRef(original, 0, "raster")
    return Page(ref=ref, image=image, dpi=dpi, orientation_pending=orientation_pending)


@functools.cache
def rendered(name: str) -> TextPage:
    return PAGES[name]()


def ocr_pdf(tmp_path: Path, page: Page) -> tuple[Path, list[str]]:
    """The page's one-page PDF and the lines Tesseract recognised (words joined by spaces)."""
    read = ocr(page, StepContext(workdir=tmp_path, options=Options(lang="deu"), params={}))
    assert read.ocr is not None
    out = tmp_path / "page.pdf"
    raster_page_pdf(read, out, jpeg_quality=85)
    return out, [" ".join(w.text for w in line.words) for line in read.ocr.lines]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_line_whole_and_in_order(tmp_path: Path, name: str) -> None:
    page = rendered(name)
    pdf, recognised = ocr_pdf(tmp_path, as_page(page.image, page.dpi))
    assert len(recognised) == sum(len(column) for column in page.columns)
    for tool in ("pdftotext", "pdfminer", "pypdf"):
        assert lines_of(extract(pdf, tool)) == recognised, tool
    # -layout keeps the columns side by side: each row holds one line of each column.
    rows = lines_of(extract(pdf, "pdftotext-layout"))
    assert len(rows) == max(len(column) for column in page.columns)
    per_column = [recognised[: len(page.columns[0])], recognised[len(page.columns[0]) :]]
    for column in per_column:
        for row, line in zip(rows, column, strict=False):
            assert line in row


@pytest.mark.parametrize("name", sorted(PAGES))
def test_character_error_rate_per_tool(tmp_path: Path, name: str) -> None:
    page = rendered(name)
    pdf, recognised = ocr_pdf(tmp_path, as_page(page.image, page.dpi))
    ocr_cer = cer("\n".join(recognised), page.truth)
    side_by_side = "\n".join("   ".join(row) for row in zip(*page.columns, strict=False))
    for tool in TOOLS:
        truth = side_by_side if tool == "pdftotext-layout" else page.truth
        rate = cer(extract(pdf, tool), truth)
        assert rate <= 0.02, f"{tool}: CER {rate:.4f}"
        assert rate <= ocr_cer + 0.002, f"{tool}: CER {rate:.4f}, the OCR's own {ocr_cer:.4f}"


def test_upside_down_page_reads_upright(tmp_path: Path) -> None:
    """Read upside down in the OCR run, turned by /Rotate 180: the text comes out upright."""
    page = rendered("dense")
    turned = np.ascontiguousarray(page.image[::-1, ::-1])
    pdf, recognised = ocr_pdf(tmp_path, as_page(turned, page.dpi, orientation_pending=True))
    for tool in ("pdftotext", "pdfminer", "pypdf"):
        assert lines_of(extract(pdf, tool)) == recognised, tool
    assert cer(extract(pdf, "pdftotext"), page.truth) <= 0.02


@pytest.mark.parametrize("mode", [[], ["-raw"], ["-layout"]], ids=["plain", "raw", "layout"])
def test_table_rows_extract_whole_in_pdftotext(tmp_path: Path, mode: list[str]) -> None:
    """Word boxes of a table (no OCR): each row one line, its cells in order, in every mode
    of pdftotext; the default mode used to read such a table column by column."""
    pdf = page_pdf(tmp_path, [table_row(300 + 57 * i) for i in range(8)])
    text = subprocess.run(
        ["pdftotext", *mode, "-enc", "UTF-8", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert lines_of(text) == ["02.02.2024 Miete Februar -612,50"] * 8

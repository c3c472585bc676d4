"""The text layer on real OCR: what pdftotext (plain and -layout), pdfminer.six and pypdf read.

Every line Tesseract recognised must come out whole (words joined by single spaces) and in
Tesseract's reading order (a two-column page column by column, a leaflet's footer under three
columns last), and the character error rate against the drawn text stays within the OCR's
own: the layer loses nothing.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from briefkasten.model import Original, Page, PageRef
from briefkasten.pipeline import textlayer
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
    leaflet_page,
    lines_of,
    two_column_page,
)
from tests.unit.test_textlayer import page_pdf, table_row
from tests.unit.test_textreach import FOOTER, leaflet

PAGES = {"two-column": two_column_page, "dense": dense_page, "leaflet": leaflet_page}
#: What the filler word of a line that reaches under the columns above it extracts as.
FILLER = chr(int(textlayer.FILLER, 16))
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<')


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


@pytest.mark.parametrize("name", ["dense", "two-column"])
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


@pytest.mark.parametrize("name", ["dense", "two-column"])
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


def pdftotext(pdf: Path, *mode: str) -> str:
    argv = ["pdftotext", *mode, "-enc", "UTF-8", str(pdf), "-"]
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout


def test_a_leaflet_s_footer_comes_last_in_every_tool(tmp_path: Path) -> None:
    """The leaflet: title, a paragraph, three columns, a footer under the first two. Tesseract
    reads the footer last; plain pdftotext read it before column 3 (poppler's rule 2) until
    the footer's filler word reached under column 3."""
    page = rendered("leaflet")
    pdf, recognised = ocr_pdf(tmp_path, as_page(page.image, page.dpi))
    footer = page.columns[0][-1]
    assert cer(recognised[-1], footer) <= 0.05  # Tesseract's last line is the footer
    for tool in ("pdftotext", "pdfminer", "pypdf"):
        text = extract(pdf, tool)
        assert lines_of(text.replace(FILLER, "")) == recognised, tool
        assert cer(text.replace(FILLER, ""), page.truth) <= 0.02, tool
        assert text.count(FILLER) == 1, tool


def bbox_words(pdf: Path) -> list[tuple[str, float, float, float, float]]:
    """Every word ``pdftotext -bbox`` finds: text and box (what a viewer selects)."""
    words = []
    for match in WORD.finditer(pdftotext(pdf, "-bbox")):
        x0, y0, x1, y1 = (float(v) for v in match.groups()[:4])
        words.append((match.group(5), x0, y0, x1, y1))
    return words


def test_footer_under_columns_last_in_plain_pdftotext_words_keep_their_boxes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Word boxes (no OCR): the footer comes last, every word's box is the one drawn without
    the filler, and the filler is one more word after the footer reaching under column 3."""
    lines = leaflet(FOOTER)
    pdf = page_pdf(tmp_path, lines)
    texts = [" ".join(w.text for w in line.words) for line in lines]
    assert lines_of(pdftotext(pdf).replace(FILLER, "")) == texts
    assert lines_of(pdftotext(pdf))[-1] == f"{FOOTER} {FILLER}"
    with_filler = bbox_words(pdf)
    monkeypatch.setattr(textlayer, "reaches", lambda rows: [None] * len(rows))
    (tmp_path / "without").mkdir()
    without = bbox_words(page_pdf(tmp_path / "without", lines))
    assert lines_of(pdftotext(tmp_path / "without" / "page.pdf"))[-1] != texts[-1]  # the bug
    assert sorted(w for w in with_filler if w[0] != FILLER) == sorted(without)
    (filler,) = [w for w in with_filler if w[0] == FILLER]
    last = next(w for w in without if w[0] == lines[-1].words[-1].text)
    column_3 = min(w[1] for w in without if w[0] == lines[8].words[0].text)
    assert last[3] < filler[1] and filler[3] > column_3
    assert filler[2] == pytest.approx(last[2]) and filler[4] == pytest.approx(last[4])


def test_a_two_line_footer_comes_last_in_plain_pdftotext_as_two_lines(tmp_path: Path) -> None:
    """One filler, on the first line: the second follows it, not joined to it."""
    lines = leaflet(FOOTER, "Seite 1 von 1")
    texts = [" ".join(w.text for w in line.words) for line in lines]
    got = lines_of(pdftotext(page_pdf(tmp_path, lines)))
    assert got == [*texts[:-2], f"{FOOTER} {FILLER}", "Seite 1 von 1"]

"""The text layer on synthetic word boxes (no Tesseract): what extractors read back, the font."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import img2pdf
import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject

from briefkasten.model import OcrLine, OcrResult, OcrWord, Original, Page, PageRef
from briefkasten.pipeline.bundle import raster_page_pdf
from briefkasten.pipeline.textfont import GLYPH_WIDTH, to_unicode_cmap
from briefkasten.pipeline.textlayer import (
    CELL_GAP,
    MAX_GAP,
    Mapping,
    add_text_layer,
    content,
    font_sizes,
)
from samples.extract import pdf_text
from tests.support.textpages import LEFT, RIGHT, extract, lines_of

WIDTH, HEIGHT, DPI = 2480, 3508, 300


def line_at(text: str, x: int, y: int, *, block: int = 0, char: int = 24) -> OcrLine:
    """A line of ``text`` whose baseline is at ``y``, words ``char`` px per letter."""
    words, left = [], x
    for word in text.split():
        right = left + char * len(word)
        words.append(OcrWord(word, (left, y - 40, right, y + 10), 96.0))
        left = right + char
    return OcrLine(tuple(words), (x, y - 40, left - char, y + 10), (0.0, -10.0), 50.0, block, 0)


def two_columns() -> list[OcrLine]:
    left = [line_at(t, 230, 300 + 60 * i, block=0) for i, t in enumerate(LEFT)]
    right = [line_at(t, 1300, 300 + 60 * i, block=1) for i, t in enumerate(RIGHT)]
    return left + right  # Tesseract's order: column by column


def page_pdf(tmp_path: Path, lines: list[OcrLine], *, rotate: int = 0) -> Path:
    pixels = np.full((HEIGHT // 4, WIDTH // 4), 255, np.uint8)  # a quarter-size image
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    layout = img2pdf.get_fixed_dpi_layout_fun((DPI / 4, DPI / 4))
    writer = PdfWriter(clone_from=io.BytesIO(img2pdf.convert(buf.getvalue(), layout_fun=layout)))
    add_text_layer(writer, writer.pages[0], lines, (WIDTH, HEIGHT))  # boxes in full-size px
    if rotate:
        writer.pages[0].rotate(rotate)
    out = tmp_path / "page.pdf"
    with out.open("wb") as handle:
        writer.write(handle)
    return out


@pytest.mark.parametrize("tool", ["pdfminer", "pypdf"])
def test_two_columns_come_out_line_by_line_column_by_column(tmp_path: Path, tool: str) -> None:
    pdf = page_pdf(tmp_path, two_columns())
    assert lines_of(extract(pdf, tool)) == LEFT + RIGHT


@pytest.mark.parametrize("tool", ["pdfminer", "pypdf"])
def test_umlauts_sharp_s_and_euro_extract_as_written(tmp_path: Path, tool: str) -> None:
    text = "Größe Straße Maß ÄÖÜ äöü 612,50 € «ok» “quote” – naïve"
    pdf = page_pdf(tmp_path, [line_at(text, 200, 400)])
    assert lines_of(extract(pdf, tool)) == [text]


def test_words_are_placed_on_their_boxes(tmp_path: Path) -> None:
    """pdfminer's character boxes: each word starts at its box and ends at its box."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTChar, LTTextContainer

    line = line_at("Antrag vom 02.01.2024 bewilligt", 600, 1000)
    pdf = page_pdf(tmp_path, [line])
    chars = [
        c
        for element in next(iter(extract_pages(str(pdf))))
        if isinstance(element, LTTextContainer)
        for text_line in element
        for c in text_line
        if isinstance(c, LTChar)
    ]
    scale = 72 / DPI
    starts = [
        c
        for i, c in enumerate(chars)
        if c.get_text() != " " and (i == 0 or chars[i - 1].get_text() == " ")
    ]
    assert len(starts) == len(line.words)
    for start, word in zip(starts, line.words, strict=True):
        assert start.x0 == pytest.approx(word.box[0] * scale, abs=0.5)
    last = [c for c in chars if c.get_text() != " "][-1]
    assert last.x1 == pytest.approx(line.words[-1].box[2] * scale, abs=0.5)
    baseline_pt = (HEIGHT - 1000) * scale
    assert min(c.y0 for c in chars) < baseline_pt < max(c.y1 for c in chars)


def test_upside_down_line_reads_upright_after_rotate(tmp_path: Path) -> None:
    """Tesseract reads an upside-down page at text angle 180: words right to left in image
    pixels, baseline near the top of the box. With ``/Rotate 180`` it extracts upright."""
    words, right = [], WIDTH - 300
    for word in ["Kontoauszug", "Nr.", "7", "vom", "31.01.2024"]:
        left = right - 24 * len(word)
        words.append(OcrWord(word, (left, 990, right, 1040), 95.0))
        right = left - 24
    box = (right + 24, 990, WIDTH - 300, 1040)
    line = OcrLine(tuple(words), box, (0.0, -40.0), 50.0, 0, 0, angle=180)
    pdf = page_pdf(tmp_path, [line], rotate=180)
    for tool in ("pdfminer", "pypdf"):
        assert lines_of(extract(pdf, tool)) == ["Kontoauszug Nr. 7 vom 31.01.2024"], tool


def test_font_is_embedded_glyphless_and_maps_every_code(tmp_path: Path) -> None:
    pdf = page_pdf(tmp_path, [line_at("Text", 200, 400)])
    resources = PdfReader(pdf).pages[0]["/Resources"].get_object()
    assert isinstance(resources, DictionaryObject)
    fonts = resources["/Font"].get_object()
    assert isinstance(fonts, DictionaryObject)
    (font,) = [f.get_object() for f in fonts.values()]
    assert font["/Subtype"] == "/Type0" and font["/Encoding"] == "/Identity-H"
    cid = font["/DescendantFonts"][0].get_object()
    assert cid["/Subtype"] == "/CIDFontType2" and cid["/DW"] == GLYPH_WIDTH
    assert len(cid["/FontDescriptor"]["/FontFile2"].get_data()) > 0  # embedded
    gids = cid["/CIDToGIDMap"].get_object().get_data()
    assert len(gids) == 2 * 0x10000 and set(gids[0::2]) == {0} and set(gids[1::2]) == {1}
    cmap = to_unicode_cmap().decode()
    assert "<0000> <00FF> <0000>" in cmap and "<2000> <20FF> <2000>" in cmap  # € is U+20AC
    assert "<D800>" not in cmap  # no lone surrogates


@pytest.mark.parametrize("tool", ["pdfminer", "pypdf", "pdfium"])
def test_one_letter_words_are_read(tmp_path: Path, tool: str) -> None:
    """PDFium dropped a text object of one character whose glyph had no outline."""
    text = "Nr. 7 vom 3. Mai: 12 € a"
    pdf = page_pdf(tmp_path, [line_at(text, 200, 400), line_at("a b c", 200, 470)])
    assert lines_of(pdf_text(pdf, tool)) == [text, "a b c"]


def test_text_is_invisible_and_under_the_image(tmp_path: Path) -> None:
    pdf = page_pdf(tmp_path, [line_at("unsichtbar", 200, 400)])
    data = PdfReader(pdf).pages[0].get_contents()
    assert data is not None
    ops = data.get_data()
    assert b"3 Tr" in ops and ops.index(b"ET") < ops.index(b"Do")


def test_raster_page_keeps_size_and_carries_the_layer(tmp_path: Path) -> None:
    original = Original("p.png", tmp_path / "p.png", "0" * 64, 1, "image/png", 1)
    lines = (line_at("Seite eins", 200, 400),)
    page = Page(
        ref=PageRef(original, 0, "raster"),
        image=np.full((HEIGHT, WIDTH), 255, np.uint8),
        dpi=DPI,
        ocr=OcrResult("Seite eins\n", 96.0, 2, lines),
    )
    out = tmp_path / "out.pdf"
    raster_page_pdf(page, out, jpeg_quality=85)
    reader = PdfReader(out)
    assert float(reader.pages[0].mediabox.width) == pytest.approx(WIDTH * 72 / DPI, abs=0.01)
    assert float(reader.pages[0].mediabox.height) == pytest.approx(HEIGHT * 72 / DPI, abs=0.01)
    assert lines_of(extract(out, "pypdf")) == ["Seite eins"]


def test_results_stay_picklable() -> None:
    result = OcrResult("a", 90.0, 1, (line_at("a b", 0, 100),))
    assert pickle.loads(pickle.dumps(result)) == result


def table_row(y: int) -> OcrLine:
    """A bank-statement row: date, booking text, amount, with column-wide gaps between; the
    words of the booking text 12 px (0.24 text heights) apart."""
    cells = [("02.02.2024", 230), ("Miete", 700), ("Februar", 832), ("-612,50", 2000)]
    words = tuple(OcrWord(t, (x, y - 40, x + 24 * len(t), y + 10), 95.0) for t, x in cells)
    return OcrLine(words, (230, y - 40, 2168, y + 10), (0.0, -10.0), 50.0, 0, 0)


def placed(lines: list[OcrLine], scale: float) -> list[tuple[float, float, float]]:
    """(x, font size, length) of every word the content stream draws (spaces left out)."""
    ops = content(lines, Mapping(scale, scale, 842.0)).decode().split("\n")
    out, size, x = [], 0.0, 0.0
    for op in ops:
        parts = op.split()
        if parts[-1:] == ["Tf"]:
            size = float(parts[1])
        elif parts[-1:] == ["Tm"]:
            x = float(parts[4])
        elif parts[-1:] == ["Tj"] and parts[2] != "<0020>":
            glyphs = (len(parts[2]) - 2) // 4
            out.append((x, size, float(parts[0]) / 100 * glyphs * size * GLYPH_WIDTH / 1000))
    return out


def test_a_table_row_keeps_one_size_and_its_cell_gaps_are_closed() -> None:
    """Between cells the word before is stretched so that CELL_GAP text heights are left;
    a gap narrower than MAX_GAP stays as it is on the image; every word starts at its box."""
    scale = 0.24
    words = placed([table_row(300 + 57 * i) for i in range(3)], scale)
    assert [size for _, size, _ in words] == [pytest.approx(50 * scale)] * 12  # one size
    row = words[:4]
    ends = [x + length for x, _, length in row]
    starts = [x for x, _, _ in row]
    assert starts == [pytest.approx(x * scale) for x in (230, 700, 832, 2000)]
    cell_gap = CELL_GAP * 50 * scale
    assert starts[1] - ends[0] == pytest.approx(cell_gap, abs=0.01)  # closed
    assert starts[2] - ends[1] == pytest.approx(12 * scale, abs=0.01)  # kept
    assert MAX_GAP > 12 / 50
    assert starts[3] - ends[2] == pytest.approx(cell_gap, abs=0.01)  # closed
    assert ends[3] == pytest.approx((2000 + 24 * 7) * scale, abs=0.01)  # the last word as is


def test_prose_words_start_on_their_boxes_and_cover_them() -> None:
    scale = 0.24
    line = line_at("ein ganz normaler Satz", 230, 300)
    words = placed([line], scale)
    for (x, _, length), word in zip(words, line.words, strict=True):
        assert x == pytest.approx(word.box[0] * scale)
        assert x + length >= word.box[2] * scale - 0.01
    assert words[-1][0] + words[-1][2] == pytest.approx(line.words[-1].box[2] * scale, abs=0.01)


@pytest.mark.parametrize("tool", ["pdfminer", "pypdf"])
def test_table_rows_extract_row_by_row(tmp_path: Path, tool: str) -> None:
    pdf = page_pdf(tmp_path, [table_row(300 + 57 * i) for i in range(5)])
    assert lines_of(extract(pdf, tool)) == ["02.02.2024 Miete Februar -612,50"] * 5


def sized(size: float, block: int) -> OcrLine:
    line = line_at("Wort", 230, 300, block=block)
    return OcrLine(line.words, line.box, line.baseline, size, block, 0)


def test_jittering_line_heights_are_set_in_the_body_size() -> None:
    """Tesseract's heights of one column's lines differ by a few per cent (poppler splits a
    block at 5 %); a heading keeps its size, a block of small print its own median."""
    body = [sized(s, 1) for s in (41, 40, 42, 45, 41, 36)] + [sized(s, 2) for s in (39, 41, 40)]
    heading = [sized(66, 0)]
    footnote = [sized(s, 3) for s in (31, 30, 33)]
    sizes = font_sizes(heading + body + footnote)
    assert sizes[0] == 66
    assert set(sizes[1:10]) == {40}  # the page's median, 45 and 36 included (within 15 %)
    assert sizes[10:] == [31, 31, 31]  # the footnote block's median
    assert font_sizes([]) == []

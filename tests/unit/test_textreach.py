"""A line below text columns reaches under the last of them (synthetic boxes, no poppler)."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefkasten.model import OcrLine
from briefkasten.pipeline.textlayer import CELL_GAP, FILLER, Mapping, content
from briefkasten.pipeline.textreach import REACH_MARGIN, reaches
from tests.support.textpages import extract, lines_of
from tests.unit.test_textlayer import line_at, page_pdf

COLUMNS = [
    ["Bürgergeld sichert", "den Lebensunterhalt", "von Menschen, die", "ihren Bedarf nicht"],
    ["Änderungen teilen", "Sie uns sofort mit:", "Umzug, Arbeit oder", "binnen 14 Tagen."],
    ["Kontoauszüge laden", "Sie über den", "Briefkasten hoch;", "nicht geschwärzt."],
]
FOOTER = "Stand: 01.03.2024 - BG-Nummer 12345BG67890"
COLUMN_X = (230, 1000, 1770)


def leaflet(*below: str, column_lines: int = 4) -> list[OcrLine]:
    """Three columns of lines 24 px per letter (Tesseract's order: column by column), then
    ``below`` from the left margin under them: the footer ends under column 2."""
    lines = [
        line_at(text, COLUMN_X[c], 300 + 60 * i, block=c)
        for c, column in enumerate(COLUMNS)
        for i, text in enumerate(column[:column_lines])
    ]
    top = 300 + 60 * (column_lines + 2)
    lines += [line_at(text, 230, top + 60 * i, block=3) for i, text in enumerate(below)]
    return lines


def test_a_footer_under_three_columns_reaches_past_the_third_column_s_left_edge() -> None:
    lines = leaflet(FOOTER)
    got = reaches(lines)
    assert got[:-1] == [None] * 12  # the columns' lines stay as they are
    footer = lines[-1]
    assert footer.box[2] < COLUMN_X[2]  # it ended under column 2
    assert got[-1] == pytest.approx(COLUMN_X[2] + REACH_MARGIN * footer.size)


def test_a_footer_of_two_lines_needs_one_filler() -> None:
    """The first line, widened, lies between the columns and the second (poppler's rule 2
    exception), so the second is read after the columns too."""
    got = reaches(leaflet(FOOTER, "Seite 1 von 1"))
    assert got[-2] is not None and got[-1] is None


def test_a_column_s_last_line_is_not_widened() -> None:
    """Column 1 runs on below columns 2 and 3: those come after it in Tesseract's order."""
    lines = leaflet()
    tail = line_at("und die Heizung.", COLUMN_X[0], 300 + 60 * 6, block=0)
    assert reaches([*lines[:4], tail, *lines[4:]]) == [None] * 13


def test_no_filler_when_a_full_width_line_lies_between() -> None:
    wide = "Bitte beachten Sie: alle Angaben gelten für die ganze Bedarfsgemeinschaft bis"
    got = reaches(leaflet(wide, FOOTER))
    assert line_at(wide, 230, 0).box[2] > COLUMN_X[2]
    assert got == [None] * 14


def test_no_filler_when_poppler_widens_the_line_by_a_wide_line_below() -> None:
    """poppler widens a block to the lines below it: a short line above a wide one already
    reaches under the columns (a letter's subject above its body)."""
    wide = "Bitte beachten Sie: alle Angaben gelten für die ganze Bedarfsgemeinschaft bis"
    assert reaches(leaflet(FOOTER, wide))[-2:] == [None, None]


def test_no_filler_across_a_line_on_the_same_row() -> None:
    lines = leaflet(FOOTER)
    page_number = line_at("Seite 1", 1500, lines[-1].box[3] - 10, block=4)
    assert reaches([*lines, page_number]) == [None] * 14


def test_a_single_column_page_gets_no_filler() -> None:
    texts = [
        "Sehr geehrte Frau Schulz,",
        "wir bitten um Ihre Unterlagen.",
        "Mit freundlichen Grüßen",
    ]
    assert reaches([line_at(t, 230, 300 + 60 * i) for i, t in enumerate(texts)]) == [None] * 3


def test_rotated_lines_are_left_alone() -> None:
    lines = leaflet(FOOTER)
    footer = lines[-1]
    turned = OcrLine(footer.words, footer.box, footer.baseline, footer.size, 3, 0, angle=90)
    assert reaches([*lines[:-1], turned])[-1] is None


def test_the_filler_is_a_word_of_its_own_after_the_last_word() -> None:
    """The footer's words are drawn as before; one filler word follows, ``CELL_GAP`` text
    heights after the last word, and ends where ``reaches`` says."""
    scale = 0.24
    lines = leaflet(FOOTER)
    ops = content(lines, Mapping(scale, scale, 842.0)).decode().split("BT\n")[-1].split("\n")
    shows = [(i, op) for i, op in enumerate(ops) if op.endswith("Tj") and "<0020>" not in op]
    assert [op.split()[2] for _, op in shows][-1] == f"<{FILLER}>"
    at = float(ops[shows[-1][0] - 1].split()[4])  # the filler's Tm: its start x
    size = lines[-1].size * scale
    assert at == pytest.approx(lines[-1].box[2] * scale + CELL_GAP * size, abs=0.01)
    length = float(shows[-1][1].split()[0]) / 100 * size * 0.5
    assert at + length == pytest.approx(reaches(lines)[-1] * scale, abs=0.01)  # type: ignore[operator]


@pytest.mark.parametrize("tool", ["pdfminer", "pypdf"])
def test_the_footer_comes_last_with_one_filler(tmp_path: Path, tool: str) -> None:
    lines = leaflet(FOOTER)
    got = lines_of(extract(page_pdf(tmp_path, lines), tool))
    texts = [" ".join(w.text for w in line.words) for line in lines]
    assert got == [*texts[:-1], f"{FOOTER} \N{SOFT HYPHEN}"]

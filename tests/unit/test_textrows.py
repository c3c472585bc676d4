"""Joining the end of a line that Tesseract put into a block of its own (synthetic boxes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefkasten.model import OcrLine
from briefkasten.pipeline.textrows import baseline_at, join_rows
from tests.support.textpages import extract, lines_of
from tests.unit.test_textlayer import line_at, page_pdf, two_columns


def statement_head() -> list[OcrLine]:
    """Block 0: three lines, the second cut after "Zeitraum:"; block 1: the rest of it."""
    return [
        line_at("Kontoinhaber: Grete Meißner", 230, 300, block=0),
        line_at("Zeitraum:", 230, 360, block=0),
        line_at("Alter Kontostand: 333,95 €", 230, 420, block=0),
        line_at("01.09.2024 bis 30.09.2024", 230 + 24 * 10 + 30, 362, block=1),
    ]


def test_a_one_line_block_on_a_line_s_baseline_is_joined_to_it() -> None:
    lines = statement_head()
    out = join_rows(lines)
    assert [" ".join(w.text for w in line.words) for line in out] == [
        "Kontoinhaber: Grete Meißner",
        "Zeitraum: 01.09.2024 bis 30.09.2024",
        "Alter Kontostand: 333,95 €",
    ]
    row = out[1]
    assert row.box[0] == 230 and row.box[2] == lines[3].box[2]
    assert baseline_at(row, 300.0) == pytest.approx(baseline_at(lines[1], 300.0))


@pytest.mark.parametrize("tool", ["pdfminer", "pypdf"])
def test_the_joined_row_extracts_in_place(tmp_path: Path, tool: str) -> None:
    pdf = page_pdf(tmp_path, statement_head())
    assert lines_of(extract(pdf, tool))[1] == "Zeitraum: 01.09.2024 bis 30.09.2024"


def test_columns_and_distant_or_misaligned_lines_stay_apart() -> None:
    assert join_rows(two_columns()) == two_columns()  # many-line blocks: columns
    far = [
        line_at("Zeitraum:", 230, 360, block=0),
        line_at("rechts", 230 + 24 * 9 + 90, 360, block=1),
    ]
    assert join_rows(far) == far  # a gap of 1.8 text heights: a column, not a cut line
    lower = [line_at("Zeitraum:", 230, 360, block=0), line_at("tiefer", 490, 380, block=1)]
    assert join_rows(lower) == lower  # 20 px below: another baseline
    same = [line_at("Zeitraum:", 230, 360, block=0), line_at("Wort", 490, 360, block=0)]
    assert join_rows(same) == same  # one block: Tesseract's own two lines

"""Right-to-left lines in the text layer: written in visual order (words left to right, each
word's letters as they stand), so that extractors with a bidi step (pypdf, PDFium here;
poppler and PDFBox in tests/integration/test_rtl.py) read them back in reading order."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pypdfium2
import pytest

from briefkasten.model import OcrLine, OcrWord
from briefkasten.pipeline.textlayer import Mapping, content, right_to_left
from briefkasten.tools.bidi import swap_order
from tests.unit.test_textlayer import page_pdf

#: A rent receipt's line in reading order, with a number in it.
WORDS = ("استلمت", "مبلغ", "500", "دولار", "شهر", "كانون.")


def arabic_line(y: int, *, bogus: int | None = None) -> OcrLine:
    """``WORDS`` from right to left, 26 px per letter; ``bogus``: that word's box reaches
    over the two words before it (as Tesseract's boxes of Arabic words sometimes do)."""
    words, right = [], 2200
    for i, text in enumerate(WORDS):
        left = right - 26 * len(text)
        box_right = right + 26 * 12 if i == bogus else right
        words.append(OcrWord(text, (left, y - 40, box_right, y + 10), 90.0))
        right = left - 26
    return OcrLine(tuple(words), (right + 26, y - 40, 2200, y + 10), (0.0, -10.0), 50.0, 0, 0)


def pdfium_text(pdf: Path) -> str:
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        return str(document[0].get_textpage().get_text_range())
    finally:
        document.close()


def pypdf_text(pdf: Path) -> str:
    from pypdf import PdfReader

    return PdfReader(pdf).pages[0].extract_text()


#: The bidi marks extractors put around runs (poppler: U+202B … U+202C around a line).
MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"))


def words_of(text: str) -> list[str]:
    """``text``'s words with the bidi marks taken out."""
    return text.translate(MARKS).split()


def test_swap_order_reverses_letters_keeps_numbers_and_undoes_itself() -> None:
    assert swap_order("شهادة") == "ةداهش"
    assert swap_order("2021.") == ".2021"
    assert swap_order("مبلغ500") == "500غلبم"
    for word in (*WORDS, "2021.", "abc-شهر"):
        assert swap_order(swap_order(word)) == word


def test_an_arabic_line_is_right_to_left_a_latin_one_is_not() -> None:
    assert right_to_left(arabic_line(400))
    latin = OcrLine(
        (OcrWord("Miete 500", (0, 0, 100, 10), 90.0),), (0, 0, 100, 10), (0, 0), 10, 0, 0
    )
    assert not right_to_left(latin)


def test_the_stream_holds_the_line_in_visual_order() -> None:
    stream = content([arabic_line(400)], Mapping(0.24, 0.24, 842.0)).decode("ascii")
    codes = [part.split(">")[0] for part in stream.split("<")[1:]]
    shown = [bytes.fromhex(code).decode("utf-16-be") for code in codes]
    words = [word for word in shown if word != " "]
    assert words == [swap_order(word) for word in reversed(WORDS)]


@pytest.mark.parametrize("bogus", [None, 3])
def test_pdfium_reads_the_lines_in_reading_order(tmp_path: Path, bogus: int | None) -> None:
    pdf = page_pdf(tmp_path, [arabic_line(400, bogus=bogus), arabic_line(470)])
    lines = [words_of(line) for line in pdfium_text(pdf).splitlines() if line.strip()]
    assert lines == [list(WORDS), list(WORDS)]


@pytest.mark.parametrize("bogus", [None, 3])
def test_pypdf_reads_every_word_right(tmp_path: Path, bogus: int | None) -> None:
    """pypdf's bidi step is a heuristic over character ranges: each word comes out right (a
    search finds it), but a number and a line's final full stop can land out of place."""
    pdf = page_pdf(tmp_path, [arabic_line(400, bogus=bogus), arabic_line(470)])
    got = Counter(word.strip(".") for word in words_of(pypdf_text(pdf)) if word.strip("."))
    assert got == Counter(word.strip(".") for word in WORDS * 2)

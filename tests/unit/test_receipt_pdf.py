"""The receipt PDF in every applicant language: its texts from the catalogue, every glyph drawn,
Arabic and Persian right to left, and file names from outside that cannot break it."""

from __future__ import annotations

import io
import re
import unicodedata

import pikepdf
import pytest
from pypdf import PdfReader

from briefkasten import i18n
from briefkasten.catalogue import label
from briefkasten.errors import ConfigError
from briefkasten.gateway import receipt
from briefkasten.gateway.receipt_fonts import MAX_MARKS, displayable, has_arabic, is_arabic
from briefkasten.gateway.receipt_layout import ReceiptLayout
from tests.support.receipts import CASE, SUBMISSION_ID, chars, notdef_shows, submission, text_of

PT_PER_MM = 72 / 25.4
LEFT, RIGHT = 20 * PT_PER_MM, (210 - 20) * PT_PER_MM  # the receipt's margins
PADDING = 1 * PT_PER_MM  # fpdf2's cell margin: text starts this far inside
SLACK = 1.5  # points: side bearings, a mark's overhang
#: Marks (placed on their letter) and format characters (zero width): not part of a line.
VISUALLY_EMPTY = frozenset({"Mn", "Me", "Mc", "Cf"})


def words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_language_has_its_receipt(lang: str) -> None:
    pdf = receipt.receipt_pdf(submission(), "Jobcenter Musterstadt", lang=lang)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages) == 1
        assert str(doc.Root.Lang) == lang
    text = text_of(pdf)
    texts = i18n.section(lang, "receipt")
    assert texts["title"] in text
    if lang not in i18n.RTL:  # pypdf orders a right-to-left line holding Latin words its own way
        for key in ("jobcenter", "file"):
            assert texts[key] in text, key
        assert words(texts["intro"])[0] in text
        assert label("kontoauszug", lang) in text
    assert "Jobcenter Musterstadt" in text
    assert CASE in text and SUBMISSION_ID in text
    assert "0" * 64 in text.replace("\n", "")  # the SHA-256, one run
    assert notdef_shows(pdf) == 0


def test_an_unknown_language_is_german() -> None:
    german = text_of(receipt.receipt_pdf(submission(), "Jobcenter Test", lang="de"))
    for lang in ("xx", "", "DE", "de-AT", "../en"):
        assert text_of(receipt.receipt_pdf(submission(), "Jobcenter Test", lang=lang)) == german


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_arabic_script_receipts_are_in_that_script(lang: str) -> None:
    text = text_of(receipt.receipt_pdf(submission(), "Jobcenter Test", lang=lang))
    title = i18n.text(lang, "receipt.title")
    assert has_arabic(title)
    assert title in text


def test_dates_follow_the_language_with_latin_digits() -> None:
    at = "2026-11-24T17:03:00+00:00"
    assert receipt.received_local(at) == "24.11.2026, 18:03:00 (CET)"
    assert receipt.received_local(at, "uk") == "24.11.2026, 18:03:00 (CET)"
    assert receipt.received_local(at, "en") == "2026-11-24, 18:03:00 (CET)"
    assert receipt.received_local(at, "ar") == "2026-11-24, 18:03:00 (CET)"
    assert receipt.received_local("2026-07-01T08:00:00+00:00", "fa").endswith("10:00:00 (CEST)")
    assert receipt.received_local(at, "xx") == receipt.received_local(at, "de")
    assert receipt.byte_count(1234567, "de") == "1.234.567"
    assert receipt.byte_count(1234567, "en") == "1,234,567"
    assert receipt.byte_count(1234567, "pl") == "1\u00a0234\u00a0567"


def lines(pdf: bytes) -> dict[float, list[tuple[float, float, str]]]:
    """The characters of page 1 by baseline: ``(x0, x1, text)`` from left to right (marks,
    which HarfBuzz places above or below their letter, left out: by category, or as glyphs
    without width, whose ToUnicode may name their whole cluster, e.g. ``أُ``)."""
    rows: dict[float, list[tuple[float, float, str]]] = {}
    for page, char in chars(pdf):
        text = char.get_text()
        mark = unicodedata.category(text[0]) in VISUALLY_EMPTY or char.x1 - char.x0 < 0.01
        if page == 1 and text.strip() and not mark:
            baseline = round(char.matrix[5])
            rows.setdefault(baseline, []).append((char.x0, char.x1, char.get_text()))
    return {y: sorted(row) for y, row in rows.items()}


def row_with(pdf: bytes, needle: str) -> list[tuple[float, float, str]]:
    for row in lines(pdf).values():
        if needle in "".join(c for _, _, c in row):
            return row
    raise AssertionError(f"no line shows {needle!r}")


def test_arabic_lines_run_right_to_left_with_left_to_right_values() -> None:
    names = ("Довідка 2026.pdf", "2026-11 Bescheid.pdf")
    pdf = receipt.receipt_pdf(submission(*names), "Jobcenter Test", lang="ar")
    rows = lines(pdf)
    # right-aligned
    assert all(abs(row[-1][1] - (RIGHT - PADDING)) < SLACK for row in rows.values())
    # the case number reads left to right, its label stands right of it
    row = row_with(pdf, CASE)
    case = "".join(c for _, _, c in row).index(CASE)
    label_x = [x0 for x0, _, c in row if any(is_arabic(ch) for ch in c)]
    assert label_x and min(label_x) > row[case + len(CASE) - 1][1]
    assert "".join(c for _, _, c in row_with(pdf, SUBMISSION_ID)).startswith(SUBMISSION_ID)
    name = "Довідка" + "2026.pdf"  # as read from left to right, without spaces
    assert name in "".join(c for _, _, c in row_with(pdf, "Довідка"))
    assert "2026-11Bescheid.pdf" in "".join(c for _, _, c in row_with(pdf, "Bescheid"))
    # the direction marks that fence the values are not drawn, so not in the text layer
    raw = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "\u200e" not in raw and "\u200f" not in raw


def test_german_lines_start_at_the_left_margin() -> None:
    rows = lines(receipt.receipt_pdf(submission(), "Jobcenter Test", lang="de"))
    assert all(abs(row[0][0] - (LEFT + PADDING)) < SLACK for row in rows.values())


def test_an_arabic_receipt_shows_latin_and_cyrillic_file_names() -> None:
    names = ("Kontoauszug März.pdf", "Довідка про доходи.jpg", "عقد الإيجار.pdf")
    for lang in ("ar", "fa", "de"):
        pdf = receipt.receipt_pdf(submission(*names), "Jobcenter Test", lang=lang)
        text = text_of(pdf)
        assert all(name in text for name in names[:2]), lang
        assert "عقد الإيجار" in text, lang
        assert notdef_shows(pdf) == 0, lang


HOSTILE = (
    "rechnung\u202efdp.exe",  # RTL override: would show as "rechnungexe.pdf"
    "\u2067\u202b" + "x" * 118,  # long, no space to break at, opened isolates and embeddings
    "Zalgo " + "e" + "\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308" * 12,
    "tab\there\nnew\u2028line\x85\ue000\U0001f4c4\u4e2d.pdf",  # controls, private use, CJK
)


@pytest.mark.parametrize("lang", ["de", "ar", "uk"])
def test_hostile_file_names_neither_crash_nor_break_the_layout(lang: str) -> None:
    pdf = receipt.receipt_pdf(submission(*HOSTILE), "Jobcenter \u202eTest", lang=lang)
    assert notdef_shows(pdf) == 0
    text = text_of(pdf)
    assert "\u202e" not in text and "rechnungfdp.exe" in text
    assert "x" * 50 in text.replace("\n", "")
    latin_marks = [c for c in text if 0x300 <= ord(c) < 0x370]
    assert len(latin_marks) == MAX_MARKS  # the pile of marks on one letter cut to a few
    last_word = i18n.text(lang, "receipt.footer").split()[-1].strip(".,;:!?،؛")
    assert last_word in text  # everything after the names drawn too
    for _, char in chars(pdf):
        assert char.x0 > LEFT - SLACK and char.x1 < RIGHT + SLACK, char.get_text()


def test_outside_text_is_cleaned() -> None:
    cmaps = [range(0x20, 0x250), range(0xFFFD, 0xFFFE)]
    assert displayable("a\u202eb\u2066c", cmaps) == "abc"
    assert displayable("a\tb\u4e2d", cmaps) == "a\ufffdb\ufffd"
    marks = [*cmaps, range(0x300, 0x370)]
    assert displayable("a" + "\u0301\u0302" * 5, marks) == "\u00e1\u0302\u0301\u0302"  # NFC
    assert displayable("y" * 300, cmaps) == "y" * 199 + "…"
    assert displayable("Ko\u0308ln", cmaps) == "Köln"  # NFC


def test_a_glyph_missing_from_our_own_texts_is_an_error() -> None:
    layout = ReceiptLayout(rtl=False)
    layout.add_page()
    with pytest.raises(ConfigError, match=re.escape("U+4E2D")):
        layout.line_of("Eingang \u4e2d")
    layout.line_of("Eingang")  # the same page still takes text that has its glyphs


def test_every_catalogue_text_has_its_glyphs(monkeypatch: pytest.MonkeyPatch) -> None:
    receipt.check_receipt_texts()  # the catalogues as they are
    german = i18n.section("de", "receipt")
    monkeypatch.setattr(i18n, "section", lambda lang, prefix: {**german, "title": "\u4e2d\u6587"})
    with pytest.raises(ConfigError, match=re.escape("U+4E2D, U+6587")):
        receipt.check_receipt_texts()


def test_the_page_count_takes_the_plural_form_of_its_number() -> None:
    """Arabic: 3-10 pages "صفحات", 11-99 pages "صفحة" (CLDR few / many)."""
    few = text_of(receipt.receipt_pdf(submission("a", "b", "c", "d"), "Jobcenter", lang="ar"))
    many = text_of(receipt.receipt_pdf(submission("a", "b", "c", "d", "e"), "Jobcenter", lang="ar"))
    assert i18n.plural_category("ar", 10) == "few" and i18n.plural_category("ar", 15) == "many"
    plural_few, plural_many = (
        i18n.text("ar", "receipt.pages"),
        i18n.text("ar", "receipt.pages#many"),
    )
    assert plural_few != plural_many
    assert few.count(plural_few) == many.count(plural_few) + 1  # only the count line differs

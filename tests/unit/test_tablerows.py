"""``tablerows``: a table Tesseract read column by column is joined back into rows; text
columns, a letter's head and ordinary pages keep Tesseract's order."""

from __future__ import annotations

from briefkasten.model import OcrLine, OcrWord
from briefkasten.pipeline.tablerows import merge_rows, text_of

SIZE = 30  # text height, px


def line(text: str, x: int, y: int, block: int, *, width: int | None = None) -> OcrLine:
    """A line whose baseline is at ``y``, starting at ``x``; words 20 px apart."""
    words, left = [], x
    for word in text.split():
        w = width or 18 * len(word)
        words.append(OcrWord(word, (left, y - SIZE, left + w, y), 95.0))
        left += w + 20
    box = (x, y - SIZE, words[-1].box[2], y)
    return OcrLine(tuple(words), box, (0.0, 0.0), float(SIZE), block, block, 0)


def texts(lines: list[OcrLine]) -> list[str]:
    return [" ".join(w.text for w in ln.words) for ln in lines]


DATES = ["03.07.2025", "04.07.2025", "05.07.2025", "06.07.2025", "07.07.2025"]
TEXTS = ["Kartenzahlung REWE", "Miete Juli", "Gutschrift Jobcenter", "Strom", "Telefon"]
AMOUNTS = ["-28,46", "-612,00", "+1.047,76", "-85,30", "-24,67"]


def statement_by_columns() -> list[OcrLine]:
    """Tesseract's reading when it missed the table: a title, the date column in two blocks,
    the texts (with a booking's second line), the amounts, then a closing line."""
    rows = [400 + 50 * i for i in range(5)]
    out = [line("Kontoauszug Nr. 7", 100, 200, 0), line("Datum", 100, 340, 1)]
    out += [line(d, 100, y, 2) for d, y in zip(DATES[:3], rows[:3], strict=True)]
    out += [line(d, 100, y, 3) for d, y in zip(DATES[3:], rows[3:], strict=True)]
    out.append(line("Buchungstext", 400, 340, 4))
    body = [line(t, 400, y, 5) for t, y in zip(TEXTS, rows, strict=True)]
    body.insert(2, line("Verwendungszweck 8934", 400, 475, 5))  # between rows 2 and 3
    out += body
    out.append(line("Betrag", 1500, 340, 6))
    out += [line(a, 1500, y, 7) for a, y in zip(AMOUNTS, rows, strict=True)]
    out.append(line("Bitte prüfen Sie die Buchungen.", 100, 800, 8))
    return out


def test_a_table_read_by_columns_comes_out_row_by_row() -> None:
    merged = merge_rows(statement_by_columns())
    assert texts(merged) == [
        "Kontoauszug Nr. 7",
        "Datum Buchungstext Betrag",
        "03.07.2025 Kartenzahlung REWE -28,46",
        "04.07.2025 Miete Juli -612,00",
        "Verwendungszweck 8934",
        "05.07.2025 Gutschrift Jobcenter +1.047,76",
        "06.07.2025 Strom -85,30",
        "07.07.2025 Telefon -24,67",
        "Bitte prüfen Sie die Buchungen.",
    ]
    # Every word is kept, with its box.
    before = sorted((w.text, w.box) for ln in statement_by_columns() for w in ln.words)
    assert sorted((w.text, w.box) for ln in merged for w in ln.words) == before
    assert "03.07.2025 Kartenzahlung REWE -28,46\n" in text_of(merged)


def test_two_text_columns_on_the_same_baselines_stay_apart() -> None:
    words = "Leistungen nach dem Zweiten Buch werden auf Antrag erbracht"
    left = [line(words, 100, 300 + 50 * i, 1, width=60) for i in range(8)]
    right = [line(words, 1300, 300 + 50 * i, 2, width=60) for i in range(8)]
    lines = left + right
    assert merge_rows(lines) == lines


def test_a_letter_head_with_address_and_contact_blocks_stays_apart() -> None:
    address = ["Herrn", "Björn Strauß", "Grüner Weg 136", "04109 Leipzig"]
    contact = ["BG-Nummer: 44318BG7764378", "Telefon: 0471 782-4454", "Datum: 27.12.2024", "x"]
    lines = [line(t, 100, 300 + 50 * i, 1) for i, t in enumerate(address)]
    lines += [line(t, 1200, 300 + 50 * i, 2) for i, t in enumerate(contact)]
    assert merge_rows(lines) == lines  # neither block is narrow


def test_fewer_than_three_shared_rows_are_not_a_table() -> None:
    lines = [line(d, 100, 400 + 50 * i, 1) for i, d in enumerate(DATES[:2])]
    lines += [line(t, 400, 400 + 50 * i, 2) for i, t in enumerate(TEXTS[:2])]
    lines += [line("Mit freundlichen Grüßen", 100, 900 + 50 * i, 3) for i in range(4)]
    assert merge_rows(lines) == lines


def test_a_page_with_turned_lines_keeps_tesseracts_order() -> None:
    lines = statement_by_columns()
    turned = [*lines[:-1], OcrLine(lines[-1].words, lines[-1].box, (0.0, 0.0), 30.0, 9, 9, 90)]
    assert merge_rows(turned) == turned


def test_text_of_puts_a_blank_line_between_paragraphs() -> None:
    lines = [line("eins zwei", 0, 100, 1), line("drei", 0, 150, 1), line("vier", 0, 250, 2)]
    assert text_of(lines) == "eins zwei\ndrei\n\nvier\n"
    assert text_of([]) == ""


def test_one_block_holding_both_amount_columns_joins_the_rows() -> None:
    """Tesseract put date and text in one wide block per run of rows and both amount columns
    (30 % of the text's width) in one block of their own."""
    rows = [400 + 50 * i for i in range(5)]
    lines = [
        line(f"{d} {t}", 100, y, 1 + i // 3)
        for i, (d, t, y) in enumerate(zip(DATES, TEXTS, rows, strict=True))
    ]
    lines += [line(f"{a} € 1.234,56 €", 1450, y, 9) for a, y in zip(AMOUNTS, rows, strict=True)]
    merged = merge_rows(lines)
    assert texts(merged)[0] == "03.07.2025 Kartenzahlung REWE -28,46 € 1.234,56 €"
    assert len(merged) == 5


def test_a_hostile_page_of_lines_all_on_one_baseline_is_bounded() -> None:
    """3000 one-word blocks on one row: beyond MAX_LINES the page keeps Tesseract's order;
    under it the search ends (quadratic only in that worst case) and finds no table."""
    many = [line("7", 10 * i, 400, i) for i in range(3000)]
    assert merge_rows(many) == many
    fewer = [line("7", 40 * i, 400 + 50 * (i % 3), i) for i in range(600)]
    assert merge_rows(fewer) == fewer  # one-line blocks, each pair sharing one row: no table

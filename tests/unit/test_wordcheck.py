"""Are OCR'd words words: the statistics that tell text from a page read upside down."""

# ruff: noqa: RUF001  (OCR's mirror-gibberish is made of look-alike letters)
from __future__ import annotations

import pytest

from briefkasten.pipeline.wordcheck import is_word_like, readability

LETTER = (
    "Sehr geehrte Frau Müller,\nbitte reichen Sie die Kontoauszüge der letzten drei Monate "
    "bis zum 15.07.2024 ein. Die Größe der Wohnung beträgt 54 Quadratmeter. Für Rückfragen "
    "erreichen Sie uns unter der Telefonnummer 0931 12345-0.\nMit freundlichen Grüßen"
)
STATEMENT = (
    "01.06.2024 Kartenzahlung Schuhgeschäft Größenwahn -35,63 €\n"
    "Verwendungszweck: Kundennummer 59947\n"
    "02.06.2024 Gutschrift Bürgergeld Jobcenter Saarbrücken +694,54 €\n"
    "02.06.2024 Kartenzahlung Apotheke am Brühl -6,47 €\n"
    "03.06.2024 Lastschrift Stadtwerke Strom Abschlag -83,78 €"
)
#: What Tesseract read from generated pages lying upside down (issue 11's mirror-gibberish).
UPSIDE_DOWN = (
    "JoH uop ıoqn fueßnz Jorarjararıreq KmqzımM 0L0/6 ‘OL PgJeigsIouLley :ossaıpersysnsog\n"
    "69 LEIPF 99ET 0688 8GTV TrAA NVal ‘Noqay any myuoßesopung :Bunpurqoayueg\nISIN\n"
    "ussNIg uoyarpunay AW\n1oJusIgo[\nsep ywuuIsqn InFep usIyng9H ap 'MUI IOUIOA SYIq sep",
    '"uoPIoM uagoy.a\nBueßnz yseu uay9oM SY9as uon qjeyiauu! usssnw assnıyssgesßunuysay '
    "uaßah uaßunpusmuıg \"usßunyang alp als uajnıd anıq\n3 02'352’S :PueJSOJUOY J9NaN\n"
    "3 65'92- YUnyIgoW WOYSIOL YUySIseT r202'90'v2",
    "yuyasJayun ‘wnyeq\nusßunyswag\n&pleßJapuıy J2po 1reylajun als uarfeyıg\n"
    "eBunfiyeyssag Jauls sne uEWWOYUIT 3IS U9JaIZIg\nay9oM old uspunIs yos Jhyeyasag",
)


@pytest.mark.parametrize("text", [LETTER, STATEMENT])
def test_german_text_and_statements_read_as_text(text: str) -> None:
    rated = readability(text, 93.0)
    assert rated.score >= 0.75, rated
    assert rated.plausible >= 0.9


@pytest.mark.parametrize("text", UPSIDE_DOWN)
def test_text_read_upside_down_does_not(text: str) -> None:
    rated = readability(text, 28.0)
    assert rated.score < 0.5, rated
    assert rated.common < 0.06


def test_the_words_decide_not_only_the_confidence() -> None:
    # Tesseract can be sure of gibberish and unsure of a real letter; words outweigh it.
    assert readability(UPSIDE_DOWN[0], 90.0).score < 0.6 < readability(LETTER, 45.0).score


def test_empty_text_has_no_score() -> None:
    assert readability("  \n ", None) == (0, 0.0, 0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("Wohnung", True),
        ("BÜRGERGELD", True),
        ("Miet-Vertrag", True),
        ("Angstschweiß", False),  # six consonants in a row: rare enough to count against
        ("uaßunpusmuı", False),  # a dotless i: not a German letter
        ("KmqzımM", False),
        ("J9SSOW", False),
        ("xyz", True),
        ("bcd", False),
        ("uEWWOYUIT", False),
        ("a", True),
        ("q", False),
    ],
)
def test_word_shapes(token: str, expected: bool) -> None:
    assert is_word_like(token) is expected

"""The document type suggestion (``pipeline.doctype``, ``pipeline.mrz``): every type, OCR noise,
ties, ``sonstiges``, MRZ check digits, hostile texts in bounded time."""

from __future__ import annotations

import random

import pytest

from briefkasten import catalogue
from briefkasten.config import DEFAULT_DOCUMENT_TYPES
from briefkasten.model import TypeSuggestion
from briefkasten.pipeline import doctype, mrz
from briefkasten.pipeline.doctype_cues import CUES, OTHER, TYPES
from samples.doctypes import TYPES as SAMPLE_TYPES
from samples.doctypes import mrz_lines, render

TEXTS = {
    "kontoauszug": """Sparkasse Leipzig
Kontoauszug Nr. 4/2025 Blatt 1 von 1
IBAN DE89 3704 0044 0532 0130 00  BIC COBADEFFXXX
Buchungstag Valuta Buchungstext Betrag
02.04. 02.04. Lastschrift Stadtwerke Strom -45,00
05.04. 05.04. Gutschrift Bürgergeld Jobcenter 563,00
alter Saldo 120,00 EUR   neuer Saldo 638,00 EUR""",
    "lohnabrechnung": """Bäckerei Müller GmbH
Abrechnung der Brutto/Netto-Bezüge für März 2025
Personalnummer 00412  Steuerklasse I  Steuer-ID 12 345 678 901
Gesamtbrutto 1.820,00  Lohnsteuer 95,16  Solidaritätszuschlag 0,00
Rentenversicherung 169,26  Arbeitslosenversicherung 23,66
Nettoverdienst 1.402,11  Auszahlungsbetrag 1.402,11""",
    "mietvertrag": """Mietvertrag über Wohnraum
zwischen Frau Käthe Krüger (Vermieterin) und Herrn Jörg Weiß (Mieter)
§ 1 Mietsache: Wohnung im 2. OG, Hauptstraße 4, 04109 Leipzig
§ 2 Mietzeit: Das Mietverhältnis beginnt am 01.05.2025
§ 3 Miete: Die Grundmiete beträgt 450,00 EUR. § 4 Kaution: 900,00 EUR.
§ 5 Schönheitsreparaturen trägt der Mieter.""",
    "ausweis": "\n".join(
        [
            "BUNDESREPUBLIK DEUTSCHLAND",
            "PERSONALAUSWEIS / IDENTITY CARD",
            "Staatsangehörigkeit DEUTSCH   Gültig bis 01.02.2031",
            "IDD<<T220001293<<<<<<<<<<<<<<<",
            "6408125<2010315D<<<<<<<<<<<<<4",
            "MUSTERMANN<<ERIKA<<<<<<<<<<<<<",
        ]
    ),
    "bescheinigung": """Pflegedienst Fürsorge gGmbH
Arbeitsbescheinigung
Hiermit bescheinigen wir, dass Frau Özlem Yilmaz seit dem 01.02.2024 bei uns als
Pflegehelferin beschäftigt ist. Die wöchentliche Arbeitszeit beträgt 20 Stunden.
Stempel und Unterschrift""",
    "heizkosten": """Wärmedienst Nord GmbH
Heizkostenabrechnung 2024
Abrechnungszeitraum 01.01.2024 bis 31.12.2024
Brennstoffkosten Erdgas 12.400,00  Grundkosten 30 % 210,00
Verbrauchskosten 70 % nach Verbrauchseinheiten 480,00  Warmwasser 120,00
Ihre Vorauszahlungen 700,00  Nachzahlung 110,00""",
    "bescheid": """Jobcenter Leipzig
Bescheid über die Bewilligung von Leistungen zur Sicherung des Lebensunterhalts
auf Ihren Antrag bewillige ich Ihnen Leistungen nach dem SGB II.
Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach
Bekanntgabe Widerspruch erhoben werden.""",
}
LETTER = """Kleingartenverein Grüne Aue e.V.
Einladung zum Sommerfest
Sehr geehrte Damen und Herren, am Samstag feiern wir ab 15 Uhr unser Sommerfest auf der
Festwiese. Für Kuchen und Getränke ist gesorgt, Spenden für die Tombola sind willkommen.
Bitte melden Sie sich bis zum Ende des Monats beim Vorstand an, damit wir gut planen können.
Wir freuen uns auf viele Gäste, Kinder sind herzlich willkommen, es gibt Spiele und Musik.
Mit freundlichen Grüßen, der Vorstand"""


def ocr_noise(text: str, seed: int) -> str:
    """``text`` as a poor OCR reads it: umlauts lost, l/1/I and O/0 swapped, upper case now
    and then, long words hyphenated or split, line breaks moved."""
    rng = random.Random(seed)
    text = text.translate(str.maketrans("äöüÄÖÜß", "aouAOUB"))
    words = []
    for word in text.split():
        if rng.random() < 0.15:
            word = word.upper()
        word = "".join(
            {"l": "1", "I": "l", "O": "0", "i": "l"}.get(ch, ch) if rng.random() < 0.2 else ch
            for ch in word
        )
        if len(word) > 8 and rng.random() < 0.3:
            cut = rng.randint(3, len(word) - 3)
            word = (
                f"{word[:cut]}-\n{word[cut:]}"
                if rng.random() < 0.5
                else f"{word[:cut]} {word[cut:]}"
            )
        words.append(word)
    return " ".join(words)


@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_each_type_is_named_with_its_cues(kind: str) -> None:
    s = doctype.suggest(TEXTS[kind])
    assert s.type == kind
    assert 0.6 <= s.confidence <= 1.0
    assert s.cues and all(c.isidentifier() for c in s.cues)


@pytest.mark.parametrize("kind", sorted(TEXTS))
@pytest.mark.parametrize("seed", range(4))
def test_ocr_noise_does_not_change_the_type(kind: str, seed: int) -> None:
    noisy = ocr_noise(TEXTS[kind], seed)
    assert noisy != TEXTS[kind]
    assert doctype.suggest(noisy).type == kind


def test_cues_are_names_never_content() -> None:
    s = doctype.suggest(TEXTS["kontoauszug"] + "\n" + TEXTS["ausweis"])
    listed = " ".join(s.cues)
    for secret in ("DE89", "3704", "MUSTERMANN", "T22000129", "Sparkasse"):
        assert secret.lower() not in listed.lower()
    assert set(s.to_report()) == {"type", "confidence", "cues"}


def test_nothing_known_is_sonstiges() -> None:
    s = doctype.suggest(LETTER)
    assert s == TypeSuggestion(OTHER, s.confidence, ())
    assert 0.2 < s.confidence < 0.9
    # less text, less sure
    assert doctype.suggest("Sehr geehrte Damen und Herren").confidence < s.confidence


def test_a_tie_is_not_confident() -> None:
    both = TEXTS["lohnabrechnung"] + "\n" + TEXTS["heizkosten"]
    tie = doctype.suggest(both)
    assert tie.type in ("lohnabrechnung", "heizkosten")
    assert tie.confidence < 0.5
    assert tie.confidence < doctype.suggest(TEXTS[tie.type]).confidence - 0.3


def test_a_title_mentioned_in_a_letter_counts_little() -> None:
    """A letter asking for "Kontoauszüge" is not a Kontoauszug; on top, it is one."""
    asking = LETTER + "\nBitte reichen Sie Ihre Kontoauszüge der letzten drei Monate ein."
    assert doctype.suggest(asking).type == OTHER
    assert doctype.suggest("Kontoauszug\n" + LETTER).type == "kontoauszug"


def test_more_cues_more_confidence() -> None:
    weak = doctype.suggest("Lohnabrechnung März\n" + LETTER)
    strong = doctype.suggest(TEXTS["lohnabrechnung"])
    assert weak.type == strong.type == "lohnabrechnung"
    assert weak.confidence < strong.confidence


def test_pages_of_a_document_add_up() -> None:
    head, _, rest = TEXTS["mietvertrag"].partition("\n")
    first = head + "\nzwischen den Parteien"
    later = rest
    alone = doctype.suggest(later)
    together = doctype.suggest_pages([first, later])
    assert together.type == "mietvertrag"
    assert together.confidence > alone.confidence
    assert doctype.suggest_pages([]) == doctype.suggest("")
    assert doctype.suggest_pages([TEXTS["bescheid"]]) == doctype.suggest(TEXTS["bescheid"])


def test_mrz_check_digits() -> None:
    assert mrz.check_digit("T22000129") == 3
    assert mrz.check_digit("640812") == 5
    assert mrz.check_digit("<<<") == 0
    lines = TEXTS["ausweis"].splitlines()[3:]
    zone = mrz.find("\n".join(lines))
    assert zone is not None and zone.kind == "td1" and zone.valid == zone.checked == 4
    broken = [lines[0], lines[1].replace("6408125", "6408126"), lines[2]]
    hurt = mrz.find("\n".join(broken))
    assert hurt is not None and hurt.valid == 2  # birth date and composite fail


def test_mrz_tolerates_ocr_confusions() -> None:
    ocr = [
        "IDD << T22OOO129 3 <<<<<<<<<<<<<<<",  # O for 0, spaces
        "64O8125<2O1O315D««««««<<4",  # O for 0, « for <<
        "MUSTERMANN<<ERIKA<<<<<<<<<<<ce",  # fillers misread as letters
    ]
    zone = mrz.find("\n".join(ocr))
    assert zone is not None and zone.verified
    s = doctype.suggest("\n".join(ocr))
    assert s.type == "ausweis" and "mrz_check_digits" in s.cues and s.confidence > 0.9


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["td1", "td3"])
def test_generated_mrz_is_valid(kind: str, seed: int) -> None:
    person = {"first": "Jörg", "last": "Weiß"}
    lines = mrz_lines(random.Random(seed), person, kind)
    assert {len(line) for line in lines} == {30 if kind == "td1" else 44}
    zone = mrz.find("\n".join(lines))
    assert zone is not None and zone.kind == kind and zone.valid == zone.checked


def test_text_lines_are_not_an_mrz() -> None:
    prose = "\n".join(
        ["Geburtsort / Place of birth LEIPZIG", "Staatsangehörigkeit / Nationality DEUTSCH"] * 3
    )
    assert mrz.find(prose) is None
    assert mrz.find("<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<\n" * 3) is not None  # shape only
    assert not mrz.find("<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<\n" * 3).verified  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \n\t ",
        "\x00" * 1000,
        "Kontoauszug " * 1_000_000,  # 12 MB
        "x" * 10_000_000,
        bytes(random.Random(1).randbytes(10_000_000)).decode("latin-1"),
        "<" * 10_000_000,
        ("<" * 30 + "\n") * 300_000,
        "\ud800\udfff" * 1000,
    ],
    ids=[
        "empty",
        "blank",
        "nul",
        "repeat-12mb",
        "x-10mb",
        "garbage-10mb",
        "fillers",
        "mrz-ish",
        "surrogates",
    ],
)
def test_hostile_text_is_read_only_up_to_its_bound(text: str) -> None:
    s = doctype.suggest(text)
    pages = doctype.suggest_pages([text] * 3)
    assert s.type in (*TYPES, OTHER) and 0.0 <= s.confidence <= 1.0
    assert pages.type in (*TYPES, OTHER)
    # the work is bounded by what is read: a page's first MAX_CHARS decide alone
    assert s == doctype.suggest(text[: doctype.MAX_CHARS])


def test_garbage_is_sonstiges_and_unsure() -> None:
    garbage = bytes(random.Random(2).randbytes(200_000)).decode("latin-1")
    s = doctype.suggest(garbage)
    assert s.type == OTHER and s.confidence < 0.3


def test_many_pages_are_bounded() -> None:
    s = doctype.suggest_pages([TEXTS["kontoauszug"]] * 10_000)
    assert s.type == "kontoauszug"
    # only the first MAX_PAGES pages are read: what comes after them changes nothing
    later = [TEXTS["kontoauszug"]] * doctype.MAX_PAGES + [TEXTS["mietvertrag"]] * 10_000
    assert doctype.suggest_pages(later) == doctype.suggest_pages(later[: doctype.MAX_PAGES])


def test_fold() -> None:
    assert doctype.fold("Größe") == doctype.fold("GROESSE") == doctype.fold("Grosse")
    assert doctype.fold("Kontoaus-\nzug") == doctype.fold("KONTO AUSZUG") == "kontoauszug"
    assert doctype.fold("Mieter") == doctype.fold("M1eter") == doctype.fold("MlETER")


def test_cue_patterns_are_long_enough_to_mean_something() -> None:
    for cues in CUES.values():
        for cue in cues:
            for pattern in cue.patterns:
                assert len(doctype.fold(pattern)) >= 5, pattern


def test_types_are_catalogue_codes_and_new_ones_not_allowed_by_default() -> None:
    assert set(TYPES) | {OTHER} == set(SAMPLE_TYPES) <= catalogue.BUILT_IN
    default = DEFAULT_DOCUMENT_TYPES.split(",")
    assert "heizkosten" not in default and "bescheid" not in default
    assert catalogue.label("heizkosten", "de") == "Heizkostenabrechnung"
    assert catalogue.label("bescheid", "en") == "Official decision"


@pytest.mark.parametrize("kind", SAMPLE_TYPES)
def test_generated_pages_are_named_by_their_text(kind: str) -> None:
    for seed in range(3):
        _, text = render(kind, seed, dpi=72)
        assert doctype.suggest(text).type == kind


def test_garbled_ocr_is_not_a_sure_sonstiges() -> None:
    """Words that are not words (a page read at far too low a resolution) say nothing."""
    rng = random.Random(3)
    garbled = " ".join(
        "".join(rng.choice("BESRZTKNHbesrztknh") for _ in range(rng.randint(3, 9)))
        for _ in range(300)
    )
    unsure = doctype.suggest(garbled)
    assert unsure.type == OTHER
    assert unsure.confidence < 0.2 < doctype.suggest(LETTER).confidence

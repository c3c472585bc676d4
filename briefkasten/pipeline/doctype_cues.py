"""The cue tables of the document type suggestion (``pipeline.doctype``).

A cue is a named group of German (and a few English) words that a type of document prints.
``pipeline.doctype`` folds the page's text and every pattern the same way (lower case, umlauts
and ``ae``/``oe``/``ue`` folded, the OCR's look-alikes ``1``/``i``/``l``/``|`` and ``0``/``o``
and ``rn``/``m`` made one letter, everything but letters dropped), so a cue is found across
lost umlauts, hyphenated and split words and line breaks. The weights are the evidence a cue
gives: a **title** cue (the document's own name, ``Kontoauszug``) weighs ``weight`` in the
page's head (its first lines) and a third of it further down, where a letter merely mentions
it ("bitte reichen Sie Ihre Kontoauszüge ein"); other cues weigh the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    """One cue of a type: its name (what the report lists), its patterns (any of them found
    counts once), its weight, and whether it is a title (full weight only in the head)."""

    name: str
    patterns: tuple[str, ...]
    weight: float
    title: bool = False


def _cue(name: str, patterns: str, weight: float, *, title: bool = False) -> Cue:
    return Cue(name, tuple(p.strip() for p in patterns.split(";")), weight, title)


#: The types, each with its cues. ``sonstiges`` has none: it is what is left.
CUES: dict[str, tuple[Cue, ...]] = {
    "kontoauszug": (
        _cue(
            "kontoauszug",
            "Kontoauszug; Kontoauszüge; Finanzstatus; Umsatzübersicht",
            5.0,
            title=True,
        ),
        _cue("buchungstag", "Buchungstag; Buchungsdatum; Buchung / Valuta; Bu-Tag", 2.5),
        _cue("valuta", "Valuta; Wertstellung", 1.5),
        _cue(
            "saldo",
            "alter Saldo; neuer Saldo; Saldo vom; Saldo alt; Saldo neu; Anfangssaldo; Endsaldo",
            2.5,
        ),
        _cue("kontostand", "Kontostand; Kontostand am; Saldo", 1.0),
        _cue("buchungstext", "Buchungstext; Verwendungszweck; Umsätze", 1.5),
        _cue("lastschrift", "Lastschrift; SEPA-Lastschrift; Dauerauftrag; Kartenzahlung", 1.5),
        _cue("gutschrift", "Gutschrift; Überweisung; Bargeldauszahlung", 1.0),
        _cue("girokonto", "Girokonto; Kontoinhaber; Kontonummer; Kontokorrent", 1.0),
    ),
    "lohnabrechnung": (
        _cue(
            "lohnabrechnung",
            "Lohnabrechnung; Gehaltsabrechnung; Entgeltabrechnung; Verdienstabrechnung; "
            "Abrechnung der Brutto; Bezügemitteilung; Lohn- und Gehaltsabrechnung",
            5.0,
            title=True,
        ),
        _cue("brutto", "Brutto; Gesamtbrutto; Bruttolohn; Bruttogehalt; Steuerbrutto", 1.5),
        _cue("netto", "Netto; Nettolohn; Nettoverdienst; Auszahlungsbetrag; Nettobezüge", 1.5),
        _cue("steuerklasse", "Steuerklasse; Lohnsteuerklasse", 2.0),
        _cue("lohnsteuer", "Lohnsteuer; Solidaritätszuschlag; Kirchensteuer", 2.0),
        _cue(
            "sozialversicherung",
            "Rentenversicherung; Arbeitslosenversicherung; Pflegeversicherung; "
            "Sozialversicherungsnummer; SV-Nummer; SV-Beiträge; RV-Beitrag; AV-Beitrag",
            1.5,
        ),
        _cue("personalnummer", "Personalnummer; Personal-Nr; Pers.-Nr; Mitarbeiternummer", 1.5),
        _cue("steuer_id", "Steuer-ID; Steueridentifikationsnummer; Identifikationsnummer", 0.5),
    ),
    "mietvertrag": (
        _cue(
            "mietvertrag",
            "Mietvertrag; Wohnungsmietvertrag; Mietvertrag über Wohnraum",
            5.0,
            title=True,
        ),
        _cue("vermieter", "Vermieter; Vermieterin", 1.0),
        _cue("mieter", "Mieter; Mieterin", 0.5),
        _cue("kaltmiete", "Kaltmiete; Grundmiete; Nettokaltmiete; Nettomiete", 2.0),
        _cue("kaution", "Kaution; Mietsicherheit", 2.0),
        _cue("mietsache", "Mietsache; Mieträume; Mietgegenstand; Mietobjekt", 2.0),
        _cue("mietzeit", "Mietzeit; Mietverhältnis; Mietbeginn; beginnt am", 1.5),
        _cue(
            "vertragsklauseln",
            "Schönheitsreparaturen; Untervermietung; Hausordnung; Tierhaltung",
            2.0,
        ),
    ),
    "heizkosten": (
        _cue(
            "heizkostenabrechnung",
            "Heizkostenabrechnung; Heiz- und Warmwasserkosten; Heizkosten- und "
            "Warmwasserabrechnung; Abrechnung der Heizkosten; Heizkosten-Einzelabrechnung",
            5.0,
            title=True,
        ),
        _cue(
            "abrechnungszeitraum", "Abrechnungszeitraum; Abrechnungsjahr; Abrechnungsperiode", 1.5
        ),
        _cue(
            "verbrauch",
            "Verbrauchseinheiten; Verbrauchskosten; Verbrauchsanteil; Ablesewert; Ablesung",
            2.0,
        ),
        _cue("grundkosten", "Grundkosten; Grundanteil; Festkosten", 2.0),
        _cue(
            "heizkostenverteiler",
            "Heizkostenverteiler; Wärmemengenzähler; Wärmezähler; Messgerät",
            2.0,
        ),
        _cue("brennstoff", "Brennstoffkosten; Brennstoff; Heizöl; Fernwärme; Erdgas", 1.5),
        _cue("warmwasser", "Warmwasser; Kaltwasser", 1.0),
        _cue("nachzahlung", "Nachzahlung; Guthaben; Ihr Anteil", 1.0),
        _cue("vorauszahlung", "Vorauszahlung; Vorauszahlungen; Abschlagszahlung", 0.5),
        _cue("heizkosten", "Heizkosten; Heizung", 0.5),
    ),
    "bescheid": (
        _cue(
            "bescheid",
            "Bescheid; Bewilligungsbescheid; Änderungsbescheid; Aufhebungsbescheid; "
            "Erstattungsbescheid; Ablehnungsbescheid; Festsetzungsbescheid",
            4.0,
            title=True,
        ),
        _cue("rechtsbehelfsbelehrung", "Rechtsbehelfsbelehrung; Rechtsmittelbelehrung", 4.0),
        _cue("widerspruch", "Widerspruch; Bekanntgabe", 1.5),
        _cue(
            "bewilligung",
            "bewillige; bewilligt; Bewilligungszeitraum; lehne ich ab; festgesetzt",
            1.5,
        ),
        _cue(
            "sgb", "SGB II; SGB XII; Sozialgesetzbuch; Bundeskindergeldgesetz; Wohngeldgesetz", 1.0
        ),
        _cue(
            "leistungen",
            "Leistungen zur Sicherung des Lebensunterhalts; Bedarfsgemeinschaft; Regelbedarf",
            1.0,
        ),
    ),
    "bescheinigung": (
        _cue(
            "bescheinigung",
            "Bescheinigung; Arbeitsbescheinigung; Schulbescheinigung; Mietbescheinigung; "
            "Immatrikulationsbescheinigung; Mitgliedsbescheinigung; Einkommensbescheinigung",
            6.0,
            title=True,
        ),
        _cue(
            "bescheinigt",
            "bescheinigt; bescheinigen; wird bestätigt; bestätigen wir; bestätige ich",
            2.0,
        ),
        _cue("hiermit", "Hiermit; Die Richtigkeit", 1.0),
        _cue("bestaetigung", "Bestätigung; Nachweis", 1.0),
        _cue("stempel", "Stempel; Unterschrift des; Ort, Datum", 0.5),
    ),
    "ausweis": (
        _cue(
            "ausweis_titel",
            "Personalausweis; Reisepass; Aufenthaltstitel; Aufenthaltserlaubnis; Identity Card; "
            "Passport; Carte d'identité; Passeport",
            4.0,
            title=True,
        ),
        _cue("bundesrepublik", "Bundesrepublik Deutschland; Federal Republic of Germany", 1.0),
        _cue("staatsangehoerigkeit", "Staatsangehörigkeit; Nationality; Nationalité", 1.5),
        _cue("geburtsort", "Geburtsort; Place of birth; Geburtstag; Date of birth", 1.0),
        _cue("gueltig_bis", "Gültig bis; Date of expiry; Date d'expiration", 1.5),
        _cue("merkmale", "Augenfarbe; Colour of eyes; Körpergröße; Height", 1.5),
        _cue("namen", "Given names; Surname; Vornamen", 0.5),
    ),
}

#: The types in the order a tie is broken in (the more specific first).
TYPES: tuple[str, ...] = (
    "ausweis",
    "heizkosten",
    "lohnabrechnung",
    "kontoauszug",
    "mietvertrag",
    "bescheinigung",
    "bescheid",
)
OTHER = "sonstiges"

#: The MRZ's cues (``pipeline.mrz``): its shape alone, and its check digits right.
MRZ_SHAPE_WEIGHT = 3.0
MRZ_CHECKED_WEIGHT = 8.0
#: The IBAN's cue: a well-formed German IBAN (checksum right) on the page.
IBAN_WEIGHT = 0.5

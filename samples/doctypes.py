"""Labelled pages of every document type ``pipeline.doctype`` suggests.

``render(doctype, seed, dpi=...)`` draws one page of a type (a code of ``briefkasten.catalogue``)
and returns it with its text. Kontoauszug, Lohnabrechnung and Mietvertrag are the layouts of
:mod:`samples.layouts`; the others are drawn here, each in several variants with varied wording:
an ID card, a residence permit and a passport scanned on A4 (with a machine-readable zone whose
check digits are right), certificates (employer, school, landlord, membership), heating bills,
official decisions (Jobcenter, Familienkasse, Wohngeld) and other letters (an invitation, a
gym's termination, an electricity price notice, a club newsletter). Everything is invented.
"""

from __future__ import annotations

import random

from PIL import Image

from briefkasten.pipeline.mrz import check_digit
from samples import doctype_texts, texts
from samples.doctype_variants import VARIANTS
from samples.layouts import LAYOUTS
from samples.sheet import MONO, Sheet, available_fonts

TYPES = (
    "kontoauszug",
    "lohnabrechnung",
    "mietvertrag",
    "ausweis",
    "bescheinigung",
    "heizkosten",
    "bescheid",
    "sonstiges",
)
#: How often a type with variants (``samples.doctype_variants``) is drawn as one of them.
VARIANT_SHARE = 0.35
_COLOURS = ((170, 20, 30), (20, 60, 140), (25, 25, 30), (0, 100, 80))


def new_sheet(rng: random.Random, dpi: int, doctype: str) -> Sheet:
    """A blank A4 sheet with margins, paper, ink and font chosen by ``rng`` (as
    ``samples.generate`` chooses them): monospace now and then for statements and pay slips."""
    fonts = available_fonts()
    if not fonts:
        raise RuntimeError("no fonts found; install fonts-dejavu-core and fonts-liberation2")
    mono = [f for f in fonts if f in MONO]
    if doctype in ("kontoauszug", "lohnabrechnung") and mono and rng.random() < 0.4:
        family = rng.choice(mono)
    else:
        family = rng.choice([f for f in fonts if f not in MONO] or list(fonts))
    margins = (rng.uniform(20, 25), rng.uniform(12, 18), rng.uniform(15, 20), rng.uniform(12, 16))
    paper = rng.choice(((255, 255, 255), (252, 251, 247), (248, 248, 246)))
    ink = rng.choice(((20, 20, 25), (35, 35, 40), (10, 10, 40)))
    return Sheet(dpi=dpi, family=family, margins=margins, ink=ink, paper=paper)


def _letterhead(sheet: Sheet, rng: random.Random, sender: str, lines: list[str]) -> None:
    sheet.text(sender, rng.choice((15.0, 17.0, 19.0)), bold=True, color=rng.choice(_COLOURS))
    for line in lines:
        sheet.text(line, 9.0)
    sheet.rule(after_mm=6)


def _address(sheet: Sheet, rng: random.Random, pt: float) -> dict[str, str]:
    p = texts.person(rng)
    for line in (
        p["salutation"],
        f"{p['first']} {p['last']}",
        p["street"],
        f"{p['plz']} {p['city']}",
    ):
        sheet.text(line, pt)
    sheet.space(6)
    return p


def _body(sheet: Sheet, rng: random.Random, paragraphs: list[str], pt: float) -> None:
    for para in paragraphs:
        if not sheet.paragraph(para, pt, after_mm=rng.choice((2.0, 3.0))):
            break


def _closing(sheet: Sheet, rng: random.Random, pt: float, name: str) -> None:
    sheet.space(3)
    sheet.text(rng.choice(("Mit freundlichen Grüßen", "Freundliche Grüße", "Hochachtungsvoll")), pt)
    sheet.space(6)
    sheet.text(name, pt)


def _mrz_name(p: dict[str, str]) -> str:
    table = str.maketrans({"Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "SS"})
    return f"{p['last'].upper().translate(table)}<<{p['first'].upper().translate(table)}"


def _yymmdd(rng: random.Random, first: int, last: int) -> str:
    return f"{rng.randint(first, last) % 100:02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"


def mrz_lines(rng: random.Random, p: dict[str, str], kind: str) -> list[str]:
    """A machine-readable zone with right check digits: TD1 (3×30) or TD3 (2×44)."""
    letters = "CFGHJKLMNPRTVWXYZ"
    number = rng.choice(letters) + "".join(rng.choice(letters + "0123456789") for _ in range(8))
    birth, expiry = _yymmdd(rng, 1950, 2004), _yymmdd(rng, 2027, 2035)
    sex = rng.choice("MF<")
    if kind == "td3":
        one = f"P<D<<{_mrz_name(p)}".ljust(44, "<")[:44]
        two = f"{number}{check_digit(number)}D<<{birth}{check_digit(birth)}{sex}"
        two = f"{two}{expiry}{check_digit(expiry)}".ljust(42, "<") + "<"
        composite = two[0:10] + two[13:20] + two[21:43]
        return [one, two + str(check_digit(composite))]
    code = rng.choice(("IDD", "ARD"))
    one = f"{code}<<{number}{check_digit(number)}".ljust(30, "<")
    two = f"{birth}{check_digit(birth)}{sex}{expiry}{check_digit(expiry)}D".ljust(29, "<")
    composite = one[5:30] + two[0:7] + two[8:15] + two[18:29]
    return [one, two + str(check_digit(composite)), _mrz_name(p).ljust(30, "<")[:30]]


def layout_ausweis(sheet: Sheet, rng: random.Random) -> None:
    """An ID card (front and back), a residence permit or a passport page, scanned on A4."""
    p = texts.person(rng)
    variant = rng.choice(("personalausweis", "aufenthaltstitel", "reisepass"))
    pt = rng.choice((9.0, 10.0))
    sheet.space(rng.uniform(5, 40))
    titles = {
        "personalausweis": ("PERSONALAUSWEIS", "IDENTITY CARD", "CARTE D'IDENTITÉ"),
        "aufenthaltstitel": ("AUFENTHALTSTITEL", "Aufenthaltserlaubnis", "RESIDENCE PERMIT"),
        "reisepass": ("REISEPASS", "PASSPORT", "PASSEPORT"),
    }[variant]
    sheet.text("BUNDESREPUBLIK DEUTSCHLAND", pt + 2, bold=True)
    sheet.text(" / ".join(titles), pt + 1, bold=True)
    sheet.space(3)
    day, month, year = texts.german_date(rng, rng.randint(1950, 2004))
    fields = [
        ("Name / Surname", p["last"].upper()),
        ("Vornamen / Given names", p["first"].upper()),
        ("Geburtstag / Date of birth", f"{day:02d}.{month:02d}.{year}"),
        ("Staatsangehörigkeit / Nationality", rng.choice(("DEUTSCH", "TÜRKISCH", "POLNISCH"))),
        ("Geburtsort / Place of birth", p["city"].upper()),
        (
            "Gültig bis / Date of expiry",
            f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.20{rng.randint(27, 35)}",
        ),
    ]
    rng.shuffle(fields[3:])
    for label, value in fields:
        sheet.text(label, pt - 1)
        sheet.text(value, pt + 1, bold=True)
    sheet.space(rng.uniform(8, 25))
    if variant != "reisepass":
        sheet.text(f"Anschrift / Address: {p['street']}, {p['plz']} {p['city']}", pt)
        sheet.text(f"Augenfarbe / Colour of eyes: {rng.choice(('BRAUN', 'BLAU', 'GRÜN'))}", pt)
        sheet.text(f"Größe / Height: {rng.randint(150, 199)} cm", pt)
        sheet.text(f"Behörde / Authority: Stadt {p['city']}", pt)
        sheet.space(4)
    mono = [f for f in available_fonts() if f in MONO] or [sheet.family]
    for line in mrz_lines(rng, p, "td3" if variant == "reisepass" else "td1"):
        sheet.text(line, 11.0 if variant == "reisepass" else 12.0, family=rng.choice(mono))


def layout_bescheinigung(sheet: Sheet, rng: random.Random) -> None:
    """A certificate: an employer, a school, a landlord, a health insurer or a course."""
    f = texts.facts(rng)
    p = texts.person(rng)
    pt = rng.choice((10.0, 10.5, 11.0))
    title, *paras = rng.choice(doctype_texts.CERTIFICATES)
    sender = rng.choice(
        (
            *texts.EMPLOYERS,
            f"Grundschule am Park {f['city']}",
            *texts.INSURERS,
            "Sprachschule Weltoffen",
        )
    )
    _letterhead(sheet, rng, sender, [f"{texts.person(rng)['street']}, {f['plz']} {f['city']}"])
    sheet.text(f"{f['city']}, den {f['date']}", pt, align="right")
    sheet.space(8)
    sheet.text(title, pt + 4, bold=True, align=rng.choice(("left", "center")))
    sheet.space(6)
    values = {
        **f,
        "name": f"{p['salutation']} {p['first']} {p['last']}",
        "born": texts.fmt_date(*texts.german_date(rng, rng.randint(1960, 2012))),
        "job": rng.choice(("Verkäuferin", "Lagerhelfer", "Reinigungskraft", "Pflegehelfer")),
        "hours": str(rng.randint(10, 40)),
        "status": rng.choice(("unbefristet", "befristet bis zum 31.12.2026", "ungekündigt")),
        "next": str(int(f["year"]) + 1),
        "klasse": f"{rng.randint(1, 10)}{rng.choice('abc')}",
        "street": p["street"],
    }
    _body(sheet, rng, [para.format(**values) for para in paras], pt)
    sheet.space(10)
    sheet.text(
        rng.choice(("Ort, Datum", "Stempel und Unterschrift", "Unterschrift des Ausstellers")),
        pt - 1,
    )


def layout_heizkosten(sheet: Sheet, rng: random.Random) -> None:
    """A heating bill of a metering service: period, costs, units, the tenant's share."""
    f = texts.facts(rng)
    p = texts.person(rng)
    pt = rng.choice((9.0, 9.5, 10.0))
    firm = rng.choice(
        ("Wärmedienst Nord GmbH", "Messtechnik Süß & Co. KG", "Hausverwaltung Köhler")
    )
    _letterhead(sheet, rng, firm, [f"Abrechnungsservice, {f['plz']} {f['city']}"])
    _address(sheet, rng, pt + 1)
    year = int(f["year"]) - 1
    title = rng.choice(
        (
            "Heizkostenabrechnung",
            "Heiz- und Warmwasserkostenabrechnung",
            "Abrechnung der Heizkosten",
        )
    )
    sheet.text(f"{title} {year}", pt + 4, bold=True)
    sheet.text(f"Abrechnungszeitraum: 01.01.{year} bis 31.12.{year}", pt)
    sheet.text(f"Liegenschaft: {p['street']}, Nutzer: {p['last']}, Wohnfläche: {f['sqm']} m²", pt)
    sheet.space(3)
    fuel = rng.choice(("Erdgas", "Fernwärme", "Heizöl"))
    total = rng.randint(800, 1600)
    rows = [
        (f"Brennstoffkosten {fuel}", rng.randint(8000, 30000)),
        ("Betriebsstrom Heizung", rng.randint(100, 600)),
        ("Wartung und Messdienst", rng.randint(200, 900)),
        ("Grundkosten 30 % nach Wohnfläche", rng.randint(100, 400)),
        ("Verbrauchskosten 70 % nach Verbrauchseinheiten", rng.randint(300, 900)),
        ("Warmwasser Verbrauchskosten", rng.randint(100, 300)),
    ]
    for label, value in rows:
        sheet.row([(label, 0.0, "left"), (texts.german_amount(value), 130.0, "right")], pt)
    sheet.space(3)
    sheet.text(f"Ablesewerte Heizkostenverteiler: {rng.randint(100, 900)} Einheiten", pt)
    paid = rng.randint(600, 1500)
    sheet.row(
        [("Ihre Kosten", 0.0, "left"), (texts.german_amount(total), 130.0, "right")], pt, bold=True
    )
    sheet.row(
        [("Ihre Vorauszahlungen", 0.0, "left"), (texts.german_amount(paid), 130.0, "right")], pt
    )
    outcome = "Nachzahlung" if total > paid else "Guthaben"
    sheet.row(
        [(outcome, 0.0, "left"), (texts.german_amount(abs(total - paid)), 130.0, "right")],
        pt,
        bold=True,
    )
    sheet.space(4)
    _body(
        sheet,
        rng,
        [
            rng.choice(
                (
                    "Die Abrechnung wurde nach der Heizkostenverordnung erstellt. Einwände "
                    "richten Sie bitte innerhalb von zwölf Monaten an Ihre Hausverwaltung.",
                    "Bitte prüfen Sie die Abrechnung. Ein Guthaben wird mit der nächsten Miete "
                    "verrechnet, eine Nachzahlung ist binnen 30 Tagen fällig.",
                )
            )
        ],
        pt,
    )


def layout_bescheid(sheet: Sheet, rng: random.Random) -> None:
    """An official decision: Jobcenter, Familienkasse or Wohngeldstelle, with its legal remedy."""
    f = texts.facts(rng)
    pt = rng.choice((10.0, 10.5))
    office, subject, para = rng.choice(doctype_texts.DECISIONS)
    _letterhead(
        sheet, rng, office.format(**f), [f"{texts.person(rng)['street']}, {f['plz']} {f['city']}"]
    )
    _address(sheet, rng, pt + 1)
    for line in (f"Aktenzeichen: {f['bg']}", f"Datum: {f['date']}", f"Bearbeitung: {f['clerk']}"):
        sheet.text(line, pt, x_mm=rng.choice((0.0, 95.0)))
    sheet.space(5)
    sheet.paragraph(subject, pt + 1, bold=True, after_mm=4)
    body = ["Sehr geehrte Damen und Herren,", para.format(**f)]
    body.append(
        rng.choice(
            (
                "Die Berechnung entnehmen Sie bitte der Anlage. Änderungen Ihrer Verhältnisse "
                "teilen Sie mir bitte unverzüglich mit.",
                "Bitte beachten Sie die Hinweise auf der Rückseite dieses Schreibens.",
            )
        )
    )
    body.extend(doctype_texts.LEGAL[rng.randrange(len(doctype_texts.LEGAL))].split("\n"))
    _body(sheet, rng, body, pt)
    _closing(sheet, rng, pt, f["clerk"])


def layout_sonstiges(sheet: Sheet, rng: random.Random) -> None:
    """Another letter: an invitation, a termination, a price notice, a club's invitation."""
    f = texts.facts(rng)
    pt = rng.choice((10.0, 10.5, 11.0))
    sender, subject, *paras = rng.choice(doctype_texts.OTHERS)
    _letterhead(
        sheet, rng, sender.format(**f), [f"{texts.person(rng)['street']}, {f['plz']} {f['city']}"]
    )
    _address(sheet, rng, pt + 1)
    sheet.text(f"{f['city']}, {f['date']}", pt, align="right")
    sheet.space(4)
    sheet.text(subject, pt + 1, bold=True)
    sheet.space(3)
    _body(sheet, rng, ["Sehr geehrte Damen und Herren,", *(p.format(**f) for p in paras)], pt)
    _closing(sheet, rng, pt, f["clerk"])


DRAWN = {
    "ausweis": layout_ausweis,
    "bescheinigung": layout_bescheinigung,
    "heizkosten": layout_heizkosten,
    "bescheid": layout_bescheid,
    "sonstiges": layout_sonstiges,
}


def render(doctype: str, seed: int, *, dpi: int = 200) -> tuple[Image.Image, str]:
    """Page ``seed`` of ``doctype`` on white A4 at ``dpi`` and the text drawn on it."""
    if doctype not in TYPES:
        raise ValueError(f"unknown type {doctype!r}; choose one of {', '.join(TYPES)}")
    rng = random.Random(f"doctype:{doctype}:{seed}")
    sheet = new_sheet(rng, dpi, doctype)
    layout = DRAWN.get(doctype) or LAYOUTS[doctype]
    variants = VARIANTS.get(doctype, ())
    if variants and rng.random() < VARIANT_SHARE:
        layout = rng.choice(variants)
    layout(sheet, rng)
    return sheet.finish()

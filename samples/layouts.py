"""The page layouts: a Jobcenter letter, a Kontoauszug, a Mietvertrag, a Lohnabrechnung, a form
(and, from :mod:`samples.columns`, the multi-column Merkblatt).

Each ``layout_*`` function fills a :class:`~samples.sheet.Sheet` from a seeded ``random.Random``
so that the same seed always gives the same page and the same truth text.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from samples import texts
from samples.columns import layout_merkblatt
from samples.sheet import Sheet

_LETTERHEAD_COLOURS = ((170, 20, 30), (20, 60, 140), (25, 25, 30), (0, 100, 80))


def _name_line(p: dict[str, str]) -> str:
    return f"{p['first']} {p['last']}"


def layout_brief(sheet: Sheet, rng: random.Random) -> None:
    """A Jobcenter letter: letterhead, address block, BG-Nummer, date, Betreff, body, footer."""
    f = texts.facts(rng)
    office = texts.person(rng)
    f["street"] = office["street"]
    reader = texts.person(rng)
    f["home"] = reader["street"]
    pt = rng.choice((10.0, 10.5, 11.0))
    align = rng.choice(("left", "right"))
    sheet.text(
        f"Jobcenter {f['city']}",
        rng.choice((18.0, 20.0, 22.0)),
        bold=True,
        align=align,
        color=rng.choice(_LETTERHEAD_COLOURS),
    )
    sheet.text(
        f"Geschäftsstelle {rng.choice(('Nord', 'Süd', 'Mitte', 'Ost', 'West'))}",
        pt + 1,
        align=align,
    )
    sheet.rule(after_mm=8)
    sheet.text(f"Jobcenter {f['city']}, {office['street']}, {f['plz']} {f['city']}", 8.0)
    sheet.space(3)
    sheet.text(reader["salutation"], pt + 1)
    for line in (_name_line(reader), reader["street"], f"{reader['plz']} {reader['city']}"):
        sheet.text(line, pt + 1)
    sheet.space(8)
    info = [
        f"BG-Nummer: {f['bg']}",
        f"Ansprechpartner: {f['clerk']}, Zimmer {f['room']}",
        f"Telefon: {f['phone']}",
        f"Datum: {f['date']}",
    ]
    info_x = rng.choice((0.0, sheet.width_mm * 0.55))
    for line in info:
        sheet.text(line, pt, x_mm=info_x)
    sheet.space(6)
    subject = rng.choice(sorted(texts.LETTER_TYPES))
    sheet.paragraph(subject, pt + 1, bold=True, after_mm=5)
    body = list(texts.LETTER_TYPES[subject])
    extras = list(texts.LETTER_EXTRAS)
    rng.shuffle(extras)
    closing_lines = 5
    footer_lines = 2
    reserve = sheet.line_height(pt) * closing_lines + sheet.line_height(8.0) * footer_lines
    sheet.bottom -= reserve + sheet.px(12)
    for para in body + extras:
        if not sheet.paragraph(para.format(**f), pt, after_mm=rng.choice((2.0, 3.0, 4.0))):
            break
    sheet.bottom += reserve + sheet.px(12)
    sheet.space(3)
    sheet.text("Mit freundlichen Grüßen", pt)
    sheet.space(4)
    sheet.text("Im Auftrag", pt)
    sheet.text(f["clerk"].split(" ", 1)[1], pt)
    sheet.y = max(sheet.y + sheet.px(6), sheet.bottom - sheet.line_height(8.0) * 2 - sheet.px(4))
    sheet.rule(width_px=1, after_mm=1.5)
    sheet.text(f"Bankverbindung: Bundesagentur für Arbeit, IBAN {texts.iban(rng)}", 8.0)
    sheet.text(
        f"Besucheradresse: {office['street']}, {f['plz']} {f['city']}, "
        "barrierefreier Zugang über den Hof",
        8.0,
    )


def layout_kontoauszug(sheet: Sheet, rng: random.Random) -> None:
    """A bank statement: header, a table Datum / Buchungstext / Betrag (/ Saldo), balances."""
    f = texts.facts(rng)
    owner = texts.person(rng)
    pt = rng.choice((9.0, 9.5, 10.0))
    month = rng.randint(1, 12)
    year = int(f["year"])
    bank = rng.choice(texts.BANKS).format(city=f["city"])
    sheet.text(bank, 15.0, bold=True, color=rng.choice(_LETTERHEAD_COLOURS))
    sheet.text(f"Kontoauszug Nr. {rng.randint(1, 12)}/{year}, Blatt 1 von 1", pt + 1, bold=True)
    sheet.space(3)
    sheet.text(f"Kontoinhaber: {_name_line(owner)}", pt)
    sheet.text(f"{owner['street']}, {owner['plz']} {owner['city']}", pt)
    sheet.text(f"IBAN: {texts.iban(rng)}", pt)
    last_day = 30 if month != 2 else 28
    sheet.text(f"Zeitraum: 01.{month:02d}.{year} bis {last_day}.{month:02d}.{year}", pt)
    balance = rng.randint(-30000, 150000) / 100
    sheet.text(f"Alter Kontostand: {texts.german_amount(balance)}", pt, bold=True)
    sheet.space(4)
    with_saldo = rng.random() < 0.5
    right = sheet.width_mm
    amount_x = right - 32 if with_saldo else right
    header = [("Datum", 0.0, "left"), ("Buchungstext", 24.0, "left"), ("Betrag", amount_x, "right")]
    if with_saldo:
        header.append(("Saldo", right, "right"))
    sheet.row(header, pt, bold=True)
    sheet.rule(width_px=1, after_mm=1.5)
    reserve = sheet.line_height(pt) * 5 + sheet.px(12)
    day = 1
    while sheet.room() > reserve:
        text, sign, lo, hi = rng.choice(texts.BOOKINGS)
        amount = sign * rng.randint(lo * 100, hi * 100) / 100
        balance += amount
        day = min(last_day, day + rng.choice((0, 0, 1, 1, 2)))
        cells = [
            (f"{day:02d}.{month:02d}.{year}", 0.0, "left"),
            (text.format(month=texts.MONTHS[month - 1], city=f["city"]), 24.0, "left"),
            (texts.german_amount(amount, sign=True), amount_x, "right"),
        ]
        if with_saldo:
            cells.append((texts.german_amount(balance), right, "right"))
        sheet.row(cells, pt)
        if rng.random() < 0.25 and sheet.room() > reserve:
            sheet.row(
                [(f"Verwendungszweck: Kundennummer {rng.randint(10000, 99999)}", 24.0, "left")], pt
            )
    sheet.rule(width_px=1, after_mm=1.5)
    sheet.text(f"Neuer Kontostand: {texts.german_amount(balance)}", pt, bold=True)
    sheet.space(3)
    sheet.paragraph(
        "Bitte prüfen Sie die Buchungen. Einwendungen gegen Rechnungsabschlüsse "
        "müssen innerhalb von sechs Wochen nach Zugang erhoben werden.",
        pt - 1,
    )


def layout_mietvertrag(sheet: Sheet, rng: random.Random) -> None:
    """A rent contract: title, parties, then paragraphs § 1, § 2 … until the page is full."""
    f = texts.facts(rng)
    landlord = texts.person(rng)
    tenant = texts.person(rng)
    f.update(street=tenant["street"], plz=tenant["plz"], city=tenant["city"])
    pt = rng.choice((10.0, 10.5, 11.0))
    f["floor"] = rng.choice(
        ("Erdgeschoss rechts", "1. Obergeschoss links", "2. Obergeschoss Mitte", "Dachgeschoss")
    )
    f["rooms"] = str(rng.randint(2, 4))
    f["costs"] = texts.german_amount(rng.randint(9000, 22000) / 100)
    f["deposit"] = texts.german_amount(rng.randint(90000, 210000) / 100)
    f["keys"] = rng.choice(("zwei", "drei"))
    sheet.text("Mietvertrag für Wohnräume", 17.0, bold=True, align="center")
    sheet.space(5)
    sheet.text("Zwischen", pt)
    sheet.text(
        f"{_name_line(landlord)}, {landlord['street']}, {landlord['plz']} {landlord['city']}", pt
    )
    sheet.text("(Vermieter) und", pt)
    sheet.text(f"{_name_line(tenant)}, bisher wohnhaft {texts.person(rng)['street']}", pt)
    sheet.text("(Mieter) wird folgender Vertrag geschlossen:", pt)
    sheet.space(4)
    sections = list(texts.LEASE_SECTIONS)
    first, rest = sections[:3], sections[3:]
    rng.shuffle(rest)
    heading_style = rng.choice(("§ {n} {title}", "§ {n}. {title}", "§{n} {title}"))
    for n, (title, body) in enumerate(first + rest, start=1):
        heading = heading_style.format(n=n, title=title)
        lines = sheet.wrap(body.format(**f), pt)
        if not sheet.fits(len(lines) + 1, pt):
            break
        sheet.text(heading, pt, bold=True)
        sheet.paragraph(body.format(**f), pt, after_mm=rng.choice((2.5, 3.5)))


def layout_lohnabrechnung(sheet: Sheet, rng: random.Random) -> None:
    """A pay slip: employer, employee data, earnings, taxes, social insurance, net pay."""
    f = texts.facts(rng)
    worker = texts.person(rng)
    pt = rng.choice((9.0, 9.5, 10.0))
    employer = rng.choice(texts.EMPLOYERS)
    sheet.text(employer, 14.0, bold=True, color=rng.choice(_LETTERHEAD_COLOURS))
    sheet.text(f"{texts.person(rng)['street']}, {f['plz']} {f['city']}", pt)
    sheet.space(4)
    sheet.text(
        f"Abrechnung der Brutto/Netto-Bezüge für {f['month']} {f['year']}", pt + 2, bold=True
    )
    sheet.space(2)
    for line in (
        f"{worker['salutation']} {_name_line(worker)}",
        f"{worker['street']}, {worker['plz']} {worker['city']}",
        f"Personalnummer: {rng.randint(100, 99999):05d}",
        f"Steuerklasse: {rng.choice(('I', 'II', 'III', 'IV', 'V'))}, Kinderfreibeträge: "
        f"{rng.choice(('0,0', '0,5', '1,0', '1,5'))}, Konfession: {rng.choice(('ev', 'rk', '--'))}",
        f"Steuer-ID: {rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)} "
        f"{rng.randint(100, 999)}",
        f"Krankenkasse: {rng.choice(texts.INSURERS)}, Zusatzbeitrag 1,70 %",
        f"Beitragsgruppe: 1111, Personengruppe: 101, Tätigkeitsschlüssel: "
        f"{rng.randint(10000, 99999)}{rng.randint(1000, 9999)}",
        f"Eintritt: {texts.fmt_date(*texts.german_date(rng, rng.randint(2005, 2022)))}",
    ):
        sheet.text(line, pt)
    sheet.space(4)
    # A compact table: with wide gaps Tesseract reads the amount column as a separate block.
    right = min(sheet.width_mm, rng.uniform(115.0, 140.0))
    qty_x = right - 35

    def row(label: str, qty: str, amount: float, bold: bool = False) -> None:
        sheet.row(
            [
                (label, 0.0, "left"),
                (qty, qty_x, "right"),
                (texts.german_amount(amount), right, "right"),
            ],
            pt,
            bold=bold,
        )

    sheet.row(
        [("Bezeichnung", 0.0, "left"), ("Menge", qty_x, "right"), ("Betrag", right, "right")],
        pt,
        bold=True,
    )
    sheet.rule(width_px=1, after_mm=1.5)
    hours = rng.choice((80, 104, 120, 140, 160, 173))
    rate = rng.randint(1241, 1900) / 100
    items = [("Grundlohn", f"{hours},00 Std.", round(hours * rate, 2))]
    for label, lo, hi in (
        ("Überstundenzuschlag 25 %", 2, 12),
        ("Nachtzuschlag steuerfrei", 4, 20),
        ("Sonntagszuschlag steuerfrei", 3, 10),
        ("Fahrtkostenzuschuss", 0, 0),
        ("Vermögenswirksame Leistungen", 0, 0),
        ("Zulage für Schmutzarbeit", 1, 8),
    ):
        if rng.random() < 0.6:
            h = rng.randint(lo, hi) if hi else 0
            value = round(h * rate * 0.25, 2) if h else rng.randint(2000, 6000) / 100
            items.append((label, f"{h},00 Std." if h else "", value))
    for label, qty, value in items:
        row(label, qty, value)
    gross = round(sum(v for _, _, v in items), 2)
    row("Gesamtbrutto", "", gross, bold=True)
    sheet.space(3)
    sheet.text("Steuerrechtliche Abzüge", pt, bold=True)
    tax = round(max(0.0, gross - 1200) * rng.uniform(0.12, 0.2), 2)
    church = round(tax * 0.09, 2) if rng.random() < 0.5 else 0.0
    for label, value in (
        ("Lohnsteuer", tax),
        ("Solidaritätszuschlag", 0.0),
        ("Kirchensteuer", church),
    ):
        row(label, "", value)
    sheet.space(3)
    sheet.text("Sozialversicherungsrechtliche Abzüge", pt, bold=True)
    social = 0.0
    for label, pct in (
        ("Krankenversicherung", 8.15),
        ("Pflegeversicherung", 1.7),
        ("Rentenversicherung", 9.3),
        ("Arbeitslosenversicherung", 1.3),
    ):
        value = round(gross * pct / 100, 2)
        social += value
        row(label, f"{pct:.2f} %".replace(".", ","), value)
    row("Summe Sozialversicherung", "", round(social, 2), bold=True)
    sheet.rule(width_px=1, after_mm=1.5)
    net = round(gross - tax - church - social, 2)
    row("Nettoverdienst", "", net, bold=True)
    row("Auszahlungsbetrag", "", net, bold=True)
    sheet.space(3)
    sheet.text(f"Überweisung auf IBAN {texts.iban(rng)}", pt)
    sheet.space(3)
    year_gross = gross * rng.randint(2, 11)
    for label, value in (
        ("Steuer-Brutto laufendes Jahr", year_gross),
        ("Lohnsteuer laufendes Jahr", tax * 6),
        ("KV-Brutto laufendes Jahr", year_gross),
        ("RV-Brutto laufendes Jahr", year_gross),
        ("Resturlaub Vorjahr in Tagen", float(rng.randint(0, 9))),
        ("Übertrag Urlaubsanspruch in Tagen", float(rng.randint(3, 28))),
    ):
        if sheet.fits(2, pt):
            row(label, "", round(value, 2))
    sheet.space(3)
    sheet.paragraph(
        "Bitte prüfen Sie diese Abrechnung. Fehler teilen Sie uns bitte innerhalb "
        "von vier Wochen mit. Bewahren Sie die Abrechnung für Ihre Unterlagen und "
        "für Anträge beim Jobcenter sorgfältig auf.",
        pt - 1,
    )


def layout_form(sheet: Sheet, rng: random.Random) -> None:
    """A form with boxes, ruled lines and check boxes but little text (for deskew on forms)."""
    pt = rng.choice((9.0, 10.0))
    sheet.text("Anlage EK zum Antrag auf Bürgergeld", 15.0, bold=True)
    sheet.text("Erklärung zum Einkommen", pt + 2)
    sheet.space(6)
    full = sheet.width_mm
    half = full / 2 - 3
    for labels in (
        ("Name, Vorname",),
        ("Geburtsdatum", "BG-Nummer"),
        ("Straße, Hausnummer",),
        ("Postleitzahl", "Wohnort"),
        ("Arbeitgeber",),
        ("Beschäftigt seit", "Stunden pro Woche"),
    ):
        xs = [0.0] if len(labels) == 1 else [0.0, half + 6]
        width = full if len(labels) == 1 else half
        sheet.row([(label, x, "left") for label, x in zip(labels, xs, strict=True)], pt - 1)
        for x in xs:
            sheet.box(x, width, 9.0)
        sheet.space(rng.choice((13.0, 15.0)))
    sheet.space(4)
    for question in (
        "Erzielen Sie Einkommen aus einer Beschäftigung?",
        "Erhalten Sie Unterhalt oder Kindergeld?",
    ):
        sheet.row(
            [(question, 0.0, "left"), ("ja", full - 30, "left"), ("nein", full - 12, "left")], pt
        )
        sheet.y -= sheet.line_height(pt, 1.45)
        for x in (full - 37, full - 19):
            sheet.box(x, 4.5, 4.5)
        sheet.space(14.0)
    sheet.text("Bemerkungen", pt - 1)
    for _ in range(rng.randint(4, 7)):
        sheet.space(11.0)
        sheet.rule(width_px=max(1, sheet.dpi // 200), after_mm=0)
    sheet.space(22.0)
    sheet.rule(width_px=max(1, sheet.dpi // 200), after_mm=1.5)
    sheet.text("Datum, Unterschrift", pt - 1)


LAYOUTS: dict[str, Callable[[Sheet, random.Random], None]] = {
    "brief": layout_brief,
    "kontoauszug": layout_kontoauszug,
    "mietvertrag": layout_mietvertrag,
    "lohnabrechnung": layout_lohnabrechnung,
    "merkblatt": layout_merkblatt,
}

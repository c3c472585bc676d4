"""Harder pages for ``make eval-doctype``: other wordings and continuation pages of the types
:mod:`samples.layouts` draws one way (a bank's "Umsatzübersicht" without the word Kontoauszug,
the second sheet of a statement, a "Verdienstabrechnung" with other labels, page 2 of a lease
without its title), and letters that name many types without being one (a request for
documents listing Kontoauszüge, Lohnabrechnungen and the Mietvertrag). Invented throughout."""

from __future__ import annotations

import random

from samples import texts
from samples.sheet import Sheet

_COLOURS = ((170, 20, 30), (20, 60, 140), (25, 25, 30))


def _amount(rng: random.Random, lo: int, hi: int) -> str:
    return texts.german_amount(rng.randint(lo * 100, hi * 100) / 100)


def statement_overview(sheet: Sheet, rng: random.Random) -> None:
    """A bank's overview of transactions, or the second sheet of a statement: no title."""
    f = texts.facts(rng)
    pt = rng.choice((9.0, 9.5, 10.0))
    month, year = rng.randint(1, 12), int(f["year"])
    bank = rng.choice(texts.BANKS).format(city=f["city"])
    if rng.random() < 0.5:
        sheet.text(bank, 14.0, bold=True, color=rng.choice(_COLOURS))
        sheet.text(rng.choice(("Umsatzübersicht Girokonto", "Finanzstatus", "Umsätze")), pt + 3)
        sheet.text(f"IBAN {texts.iban(rng)}   Kontoinhaber {texts.person(rng)['last']}", pt)
    else:
        sheet.text(f"{bank}   Blatt {rng.randint(2, 4)}", pt)
    sheet.space(3)
    sheet.row([("Buchungstag", 0.0, "left"), ("Wert", 26.0, "left"), ("Vorgang", 44.0, "left")], pt)
    while sheet.room() > sheet.line_height(pt) * 4:
        text, sign, lo, hi = rng.choice(texts.BOOKINGS)
        day = rng.randint(1, 28)
        when = f"{day:02d}.{month:02d}.{year}"
        booking = text.format(month=texts.MONTHS[month - 1], city=f["city"])
        amount = ("-" if sign < 0 else "+") + _amount(rng, lo, hi)
        sheet.row(
            [
                (when, 0.0, "left"),
                (when[:6], 26.0, "left"),
                (booking, 44.0, "left"),
                (amount, sheet.width_mm, "right"),
            ],
            pt,
        )
    sheet.text(
        f"Kontostand am {28:02d}.{month:02d}.{year}: {_amount(rng, 10, 2000)}", pt, bold=True
    )


def payslip_other_words(sheet: Sheet, rng: random.Random) -> None:
    """A pay slip with other labels: Verdienst-/Entgeltabrechnung, "Steuer-Brutto", "SV-Netto"."""
    f = texts.facts(rng)
    pt = rng.choice((9.0, 9.5, 10.0))
    worker = texts.person(rng)
    sheet.text(rng.choice(texts.EMPLOYERS), 13.0, bold=True, color=rng.choice(_COLOURS))
    title = rng.choice(("Verdienstabrechnung", "Entgeltabrechnung", "Gehaltsabrechnung"))
    sheet.text(f"{title} {f['month']} {f['year']}", pt + 3, bold=True)
    sheet.text(f"{worker['first']} {worker['last']}, Pers.-Nr. {rng.randint(100, 9999)}", pt)
    sheet.text(
        f"StKl {rng.choice(('1', '3', '4', '5'))}  Kfb 0,0  KV {rng.choice(texts.INSURERS)}", pt
    )
    sheet.space(3)
    rows = [
        ("Grundvergütung", 1200, 2800),
        ("Zuschlag Nachtarbeit", 20, 200),
        ("Steuer-Brutto", 1300, 3000),
        ("Lohnsteuer", 50, 400),
        ("Kirchensteuer", 0, 30),
        ("KV-Beitrag", 80, 250),
        ("RV-Beitrag", 100, 280),
        ("AV-Beitrag", 15, 40),
        ("PV-Beitrag", 20, 60),
        ("Netto-Verdienst", 1000, 2100),
        ("Überweisung", 1000, 2100),
    ]
    for label, lo, hi in rows:
        sheet.row([(label, 0.0, "left"), (_amount(rng, lo, hi), 120.0, "right")], pt)
    sheet.space(3)
    sheet.text(f"Bankverbindung: IBAN {texts.iban(rng)}", pt - 1)


def lease_continuation(sheet: Sheet, rng: random.Random) -> None:
    """A later page of a lease: its clauses, no title."""
    f = texts.facts(rng)
    pt = rng.choice((10.0, 10.5, 11.0))
    f.update(
        floor="1. Obergeschoss",
        rooms="3",
        keys="zwei",
        street=texts.person(rng)["street"],
        costs=_amount(rng, 90, 220),
        deposit=_amount(rng, 900, 2100),
    )
    sheet.text(f"Seite {rng.randint(2, 4)}", pt - 1, align="right")
    sections = list(texts.LEASE_SECTIONS[3:])
    rng.shuffle(sections)
    for n, (title, body) in enumerate(sections, start=rng.randint(4, 6)):
        lines = sheet.wrap(body.format(**f), pt)
        if not sheet.fits(len(lines) + 1, pt):
            break
        sheet.text(f"§ {n} {title}", pt, bold=True)
        sheet.paragraph(body.format(**f), pt)


REQUEST = (
    "für die Prüfung Ihres Antrags benötige ich noch Unterlagen. Bitte reichen Sie bis zum "
    "{deadline} ein: die Kontoauszüge aller Konten der letzten drei Monate, die "
    "Lohnabrechnungen für {month} und {next_month} {year}, Ihren Mietvertrag und die letzte "
    "Heizkostenabrechnung.",
    "Sie können die Unterlagen auch über den digitalen Briefkasten hochladen. Bringen Sie zu "
    "einem Termin bitte Ihren Personalausweis mit.",
    "Bei Fragen erreichen Sie mich unter {phone}. Vielen Dank für Ihre Mithilfe.",
)


def request_for_documents(sheet: Sheet, rng: random.Random) -> None:
    """A Jobcenter letter that asks for many types of document: it is none of them."""
    f = texts.facts(rng)
    pt = rng.choice((10.0, 10.5))
    sheet.text(f"Jobcenter {f['city']}", 17.0, bold=True, color=rng.choice(_COLOURS))
    sheet.rule(after_mm=6)
    p = texts.person(rng)
    for line in (f"{p['first']} {p['last']}", p["street"], f"{p['plz']} {p['city']}"):
        sheet.text(line, pt + 1)
    sheet.space(12)
    sheet.text(f"Datum: {f['date']}   Zeichen: {f['bg']}", pt, align="right")
    sheet.space(12)
    sheet.text(
        rng.choice(("Fehlende Unterlagen", "Ihr Antrag: bitte Nachweise einreichen")),
        pt + 1,
        bold=True,
    )
    sheet.space(3)
    for para in ("Sehr geehrte Damen und Herren,", *REQUEST):
        sheet.paragraph(para.format(**f), pt)
    sheet.space(4)
    sheet.text("Mit freundlichen Grüßen", pt)
    sheet.text(f["clerk"], pt)


#: Per type the variants drawn instead of the usual layout, now and then.
VARIANTS = {
    "kontoauszug": (statement_overview,),
    "lohnabrechnung": (payslip_other_words,),
    "mietvertrag": (lease_continuation,),
    "sonstiges": (request_for_documents,),
}

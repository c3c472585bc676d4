"""A multi-column page: the Jobcenter's Merkblatt (an information leaflet), eurotext-like.

A title, a full-width paragraph set word by word in changing fonts (serif, sans, mono, bold)
with the punctuation, figures and signs of Tesseract's ``eurotext.tif``, then two or three text
columns of paragraphs under bold headings, and a full-width footer. The truth is in reading
order: title, the mixed-font paragraph, column 1 top to bottom, column 2, (column 3), footer.
"""

from __future__ import annotations

import random

from samples import texts
from samples.sheet import Sheet, available_fonts

#: Words of the mixed-font paragraph (German with eurotext's signs and figures).
MIXED = (
    "Der „schnelle“ braune Fuchs (Vulpes) springt über den faulen Hund: 43.456,78 € "
    "für #90 Tage, also 12,5 % von [allen] Kosten; Fragen an post@jobcenter-{slug}.de "
    "oder {phone} – bitte {{nicht}} nach 18:00 Uhr! Größe, Maß & Fuß bleiben, wie sie sind."
)

#: Headings and paragraphs of the columns (template fields from :func:`texts.facts`).
SECTIONS = (
    (
        "Was ist Bürgergeld?",
        "Bürgergeld sichert den Lebensunterhalt von erwerbsfähigen Menschen, die ihren Bedarf "
        "nicht aus eigenen Mitteln decken können. Dazu gehören der Regelbedarf, die Kosten für "
        "Unterkunft und Heizung sowie Mehrbedarfe, etwa bei Schwangerschaft oder für "
        "Alleinerziehende.",
    ),
    (
        "Ihre Pflichten",
        "Sie müssen alle Tatsachen angeben, die für die Leistung erheblich sind, und Änderungen "
        "sofort mitteilen. Dazu gehören die Aufnahme einer Arbeit, ein Umzug, höhere Einkünfte "
        "oder ein längerer Aufenthalt außerhalb von {city}.",
    ),
    (
        "Unterlagen einreichen",
        "Kontoauszüge, Mietverträge und Lohnabrechnungen können Sie über den digitalen "
        "Briefkasten hochladen. Fotografieren Sie jede Seite vollständig, gerade und gut "
        "lesbar; Schwärzungen von Beträgen sind nicht erlaubt.",
    ),
    (
        "Erreichbarkeit",
        "Wenn Sie verreisen möchten, sprechen Sie das bitte vorher mit uns ab. Ohne "
        "Zustimmung können die Leistungen für die Zeit der Abwesenheit entfallen. Unsere "
        "Telefonnummer lautet {phone}.",
    ),
    (
        "Datenschutz",
        "Ihre Daten werden nur für die Prüfung Ihres Anspruchs verarbeitet und nach Ablauf der "
        "Fristen gelöscht. Auskunft über die gespeicherten Daten erhalten Sie auf Antrag, "
        "schriftlich oder persönlich im Jobcenter.",
    ),
    (
        "Widerspruch",
        "Gegen jeden Bescheid können Sie innerhalb eines Monats Widerspruch erheben, "
        "schriftlich oder zur Niederschrift beim Jobcenter {city}, {plz} {city}. Bitte geben "
        "Sie dabei Ihre BG-Nummer {bg} an.",
    ),
)


def mixed_paragraph(sheet: Sheet, rng: random.Random, text: str, pt: float) -> None:
    """Draw ``text`` full width, every word in a font drawn from the installed families (and
    bold now and then), wrapped by the words' own widths; each line is one truth line."""
    fonts = available_fonts()
    styled = [(w, rng.choice(fonts), rng.random() < 0.25) for w in text.split()]
    space = sheet.font(pt).getlength(" ")
    width = sheet.right - sheet.left
    line: list[tuple[str, str, bool]] = []
    used = 0.0
    for word, family, bold in [*styled, ("", "", False)]:
        length = sheet.font(pt, bold, family).getlength(word) if word else 0.0
        if word and (not line or used + space + length <= width):
            used += (space if line else 0.0) + length
            line.append((word, family, bold))
            continue
        x = float(sheet.left)
        for text_word, fam, b in line:
            font = sheet.font(pt, b, fam)
            sheet.draw.text((round(x), sheet.y), text_word, font=font, fill=sheet.ink)
            x += font.getlength(text_word) + space
        sheet.record(sheet.left, " ".join(w for w, _, _ in line))
        sheet.y += sheet.line_height(pt)
        line, used = [(word, family, bold)], length


def columns(sheet: Sheet, sections: list[tuple[str, str]], n: int, pt: float) -> None:
    """Fill ``n`` columns side by side with ``sections`` (heading, paragraph), in order, as
    many per column as fit; the sheet continues below the longest column."""
    gutter = sheet.px(9.0)
    width = (sheet.right - sheet.left - (n - 1) * gutter) // n
    top, bottom = sheet.y, sheet.y
    pitch = sheet.line_height(pt)
    per_column = -(-len(sections) // n)
    for c in range(n):
        x = sheet.left + c * (width + gutter)
        sheet.y = top
        for heading, body in sections[c * per_column : (c + 1) * per_column]:
            lines = sheet.wrap(body, pt, width_px=width)
            if sheet.y + (len(lines) + 1) * pitch > sheet.bottom:
                break
            sheet.draw.text((x, sheet.y), heading, font=sheet.font(pt, True), fill=sheet.ink)
            sheet.record(x, heading)
            sheet.y += pitch
            for line in lines:
                sheet.draw.text((x, sheet.y), line, font=sheet.font(pt), fill=sheet.ink)
                sheet.record(x, line)
                sheet.y += pitch
            sheet.y += pitch // 2
        bottom = max(bottom, sheet.y)
    sheet.y = bottom


def layout_merkblatt(sheet: Sheet, rng: random.Random) -> None:
    """The leaflet: title, mixed-font paragraph, two or three columns, footer."""
    f = texts.facts(rng)
    pt = rng.choice((9.5, 10.0, 10.5))
    sheet.text(f"Jobcenter {f['city']}", 16.0, bold=True)
    sheet.text("Merkblatt: Ihre Rechte und Pflichten beim Bürgergeld", pt + 3, bold=True)
    sheet.space(4)
    slug = f["city"].lower().replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
    mixed_paragraph(sheet, rng, MIXED.format(slug=slug.replace(" ", "-"), phone=f["phone"]), pt)
    sheet.space(5)
    sections = [(h, body.format(**f)) for h, body in SECTIONS]
    first, rest = sections[:2], sections[2:]
    rng.shuffle(rest)
    columns(sheet, first + rest, rng.choice((2, 3)), pt)
    sheet.space(4)
    sheet.rule(width_px=1, after_mm=1.5)
    sheet.text(f"Stand: {f['date']} · BG-Nummer {f['bg']} · Telefon {f['phone']}", 8.0)

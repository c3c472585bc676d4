"""Pages with known lines for the text-layer tests, and the extractors a DMS would use.

``two_column_page`` is a eurotext-like page (two columns, punctuation, figures, umlauts),
``dense_page`` one column of small print; both rendered with Pillow from installed fonts.
``leaflet_page`` is the eval's multi-column leaflet (``samples.columns``): a title, a full-width
paragraph, three columns and a short footer line under the first two.
``extract`` reads a PDF's text with pdftotext (plain and ``-layout``), pdfminer.six or pypdf;
``layer_pdf`` writes a blank page with the pipeline's own text layer of given lines.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import img2pdf
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfWriter
from rapidfuzz.distance import Levenshtein

from briefkasten.model import OcrLine, OcrWord
from briefkasten.pipeline.textlayer import add_text_layer
from samples.generate import render_page
from samples.sheet import FAMILIES, FONT_DIRS

TOOLS = ("pdftotext", "pdftotext-layout", "pdfminer", "pypdf")

LEFT = [
    "The (quick) [brown] {fox} jumps!",
    "Over the $43,456.78 <lazy> #90 dog",
    "& duck/goose, as 12.5% of E-mail",
    "from aspammer@website.com is spam.",
    "Der ,,schnelle” braune Fuchs springt",
    "über den faulen Hund. Le renard brun",
    "«rapide» saute par-dessus le chien",
    "paresseux. La volpe marrone rapida",
    "salta sopra il cane pigro. El zorro",
    "marrón rápido salta sobre el perro",
]
RIGHT = [
    "Bescheid vom 12.03.2024, Az. 4711",
    "Die Miete beträgt 612,50 € im Monat.",
    "Heizkosten: 84,00 € (Vorauszahlung)",
    "Straße, Größe, Maß und Fuß bleiben",
    "wie sie sind; Umlaute: äöü und ÄÖÜ.",
    "Kontonummer DE02 1203 0000 0000 2020",
    "Bitte antworten Sie bis 30.04.2024.",
    "Rückfragen: Telefon 030 / 1234-567",
    "Mit freundlichen Grüßen, i. A. Meyer",
    "Anlage: Nachweis [2 Seiten] {Kopie}",
]
DENSE = [
    "Sehr geehrte Frau Schulz, mit diesem Schreiben teilen wir Ihnen mit, dass Ihr Antrag",
    "auf Leistungen zur Sicherung des Lebensunterhalts vom 02.01.2024 bewilligt wurde. Der",
    "Bewilligungszeitraum umfasst die Monate Februar bis Juli 2024. Die Höhe der Leistung",
    "ergibt sich aus dem beigefügten Berechnungsbogen (Anlage 1). Bitte beachten Sie, dass",
    "Sie verpflichtet sind, jede Änderung Ihrer Verhältnisse unverzüglich mitzuteilen, z. B.",
    "die Aufnahme einer Beschäftigung, einen Umzug oder den Zufluss von Einkommen. Für die",
    "Unterkunft werden monatlich 612,50 € anerkannt, für die Heizung 84,00 €. Sollten Sie mit",
    "dieser Entscheidung nicht einverstanden sein, können Sie innerhalb eines Monats nach",
    "Bekanntgabe Widerspruch erheben. Der Widerspruch ist schriftlich oder zur Niederschrift",
    "bei der im Briefkopf genannten Stelle einzulegen. Weitere Hinweise finden Sie auf der",
    "Rückseite dieses Bescheides. Ihre Kundennummer lautet 123D456789; bitte geben Sie diese",
    "bei jeder Rückfrage an. Mit freundlichen Grüßen, Ihr Jobcenter (Team 401, Zimmer 2.17)",
]


@dataclass(frozen=True)
class TextPage:
    image: np.ndarray  # grey, H×W
    dpi: int
    columns: tuple[tuple[str, ...], ...]  # the truth, column by column

    @property
    def truth(self) -> str:
        return "\n".join(line for column in self.columns for line in column)


def _font(px: int) -> ImageFont.FreeTypeFont:
    name = FAMILIES["DejaVuSerif"][0]
    for directory in FONT_DIRS:
        if (directory / name).is_file():
            return ImageFont.truetype(str(directory / name), px)
    raise RuntimeError("DejaVuSerif not found; install fonts-dejavu-core")


def render(columns: list[list[str]], *, dpi: int = 300, pt: float = 11.0) -> TextPage:
    """An A4 page with ``columns`` side by side, lines 1.4 × the font size apart."""
    width, height = round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    px = round(pt / 72 * dpi)
    font = _font(px)
    margin = round(20 / 25.4 * dpi)
    column_width = (width - 2 * margin) // len(columns)
    for c, lines in enumerate(columns):
        x = margin + c * column_width
        for i, line in enumerate(lines):
            draw.text((x, margin + round(i * px * 1.4)), line, font=font, fill=0)
    return TextPage(np.asarray(image), dpi, tuple(tuple(col) for col in columns))


def two_column_page() -> TextPage:
    return render([LEFT, RIGHT], pt=10.0)


def dense_page() -> TextPage:
    return render([DENSE], pt=9.0)


def leaflet_page(seed: int = 1) -> TextPage:
    """The leaflet of ``seed``; its truth is one column of lines in reading order, the footer
    last. Seed 1 has three columns whose paragraphs do not line up across columns 2 and 3
    (seeds 0, 3, 4 and 7 do: poppler takes such a 2 × 2 grid for a table and reads it row by
    row)."""
    image, truth = render_page("merkblatt", seed=seed, dpi=300)
    return TextPage(np.asarray(image.convert("L")), 300, (tuple(truth.splitlines()),))


def extract(pdf: Path, tool: str) -> str:
    if tool == "pdftotext":
        return _run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"])
    if tool == "pdftotext-layout":
        return _run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"])
    if tool == "pdfminer":
        from pdfminer.high_level import extract_text

        return str(extract_text(str(pdf)))
    if tool == "pypdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    raise ValueError(tool)


def _run(argv: list[str]) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout


def lines_of(text: str) -> list[str]:
    """Non-empty lines with runs of white space made one space."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def cer(text: str, truth: str) -> float:
    """Character error rate of ``text`` against ``truth``, white space normalised."""
    got, want = "\n".join(lines_of(text)), "\n".join(lines_of(truth))
    return Levenshtein.distance(got, want) / max(len(want), 1)


def layer_pdf(out: Path, lines: list[str], *, dpi: int = 300) -> Path:
    """A blank A4 page whose text layer (``textlayer.add_text_layer``) holds ``lines`` one
    under the other, words 20 px per letter and one letter apart, as the OCR would box them."""
    width, height = round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)
    ocr = []
    for i, text in enumerate(lines):
        y, left, words = 300 + 60 * i, 230, []
        for word in text.split():
            words.append(OcrWord(word, (left, y - 40, left + 20 * len(word), y + 10), 95.0))
            left += 20 * len(word) + 20
        ocr.append(
            OcrLine(tuple(words), (230, y - 40, left - 20, y + 10), (0.0, -10.0), 50.0, 0, 0)
        )
    buf = io.BytesIO()
    Image.new("L", (width // 4, height // 4), 255).save(buf, format="PNG")
    layout = img2pdf.get_fixed_dpi_layout_fun((dpi / 4, dpi / 4))
    writer = PdfWriter(clone_from=io.BytesIO(img2pdf.convert(buf.getvalue(), layout_fun=layout)))
    add_text_layer(writer, writer.pages[0], ocr, (width, height))
    with out.open("wb") as handle:
        writer.write(handle)
    return out

"""Test inputs made on the fly: text pages, PDFs of every kind, broken and hostile files."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import img2pdf
import pikepdf
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINES = (
    "Jobcenter Musterstadt, Bürgerstraße 12",
    "Sehr geehrte Frau Müller,",
    "bitte reichen Sie die Kontoauszüge ein.",
    "Größe der Wohnung: 54 Quadratmeter",
    "Gebühren und Übersicht der Heizkosten",
    "Mit freundlichen Grüßen",
)


def text_page(
    lines: tuple[str, ...] = LINES,
    *,
    size: tuple[int, int] = (1240, 1754),
    font_size: int = 34,
    mode: str = "RGB",
) -> Image.Image:
    """An A4 page at 150 dpi with large dark text (fast to OCR)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, font_size)
    for number, line in enumerate(lines):
        draw.text((110, 140 + number * int(font_size * 2)), line, font=font, fill=(20, 20, 20))
    image.info["dpi"] = (150, 150)
    return image.convert(mode) if mode != "RGB" else image


def born_digital_pdf(path: Path, lines: tuple[str, ...] = LINES) -> Path:
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", fname=FONT)
    pdf.set_font("DejaVu", size=14)
    pdf.add_page()
    for line in lines:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def locked_pdf(
    path: Path,
    password: str,
    lines: tuple[str, ...] = LINES,
    *,
    owner: str = "o",
    revision: int = 6,
) -> Path:
    """A born-digital PDF under the user ``password`` (``revision`` 6: AES-256, 4: AES-128)."""
    plain = born_digital_pdf(path.with_suffix(".plain.pdf"), lines)
    with pikepdf.open(plain) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(user=password, owner=owner, R=revision))
    plain.unlink()
    return path


def scanned_pdf(path: Path, image: Image.Image | None = None) -> Path:
    image = image or text_page()
    jpeg = path.with_suffix(".scan.jpg")
    image.save(jpeg, quality=90, dpi=(150, 150))
    path.write_bytes(img2pdf.convert(str(jpeg)))
    jpeg.unlink()
    return path


def merged_pdf(path: Path, *parts: Path) -> Path:
    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    writer.write(str(path))
    return path


def hostile_pdf(source: Path, path: Path) -> Path:
    """``source`` plus JavaScript, an open action, an embedded file and a launch action."""
    writer = PdfWriter(clone_from=str(source))
    writer.add_attachment("payload.exe", b"MZ not really")
    open_action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('open');"),
        }
    )
    names = writer.root_object["/Names"].get_object()
    names[NameObject("/JavaScript")] = DictionaryObject(
        {
            NameObject("/Names"): ArrayObject(
                [TextStringObject("js1"), writer._add_object(open_action)]
            )
        }
    )
    writer.root_object[NameObject("/OpenAction")] = writer._add_object(open_action)
    launch = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): writer.pages[0].mediabox,
            NameObject("/A"): DictionaryObject(
                {
                    NameObject("/S"): NameObject("/Launch"),
                    NameObject("/F"): TextStringObject("calc.exe"),
                }
            ),
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(launch)])
    writer.pages[0][NameObject("/AA")] = DictionaryObject(
        {
            NameObject("/O"): open_action,
        }
    )
    writer.write(str(path))
    return path


def encrypted_pdf(source: Path, path: Path, *, user: str, owner: str) -> Path:
    writer = PdfWriter(clone_from=str(source))
    writer.encrypt(user_password=user, owner_password=owner, algorithm="RC4-128")
    writer.write(str(path))
    return path


def empty_pdf(path: Path) -> Path:
    """A syntactically valid PDF whose page tree has no pages."""
    writer = PdfWriter()
    writer.write(str(path))
    return path


def png_header_bomb(path: Path, width: int = 35000, height: int = 35000) -> Path:
    """A tiny PNG whose header claims ``width × height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 100_000, 9)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def jpeg_with_gps(path: Path, image: Image.Image | None = None) -> Path:
    image = image or text_page()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.0)
    gps[3] = "E"
    gps[4] = (13.0, 24.0, 36.0)
    image.save(path, quality=90, dpi=(150, 150), exif=exif)
    return path

"""Born-digital PDF pages that are not PDF/A as they come: fonts the file does not embed, and
transparency. Each builder writes one file and returns its path.

- ``core_fonts_pdf``: fpdf2's core fonts (unembedded Helvetica, Times, Courier; regular, bold,
  italic, bold italic), WinAnsi, with umlauts, ß and €.
- ``raw_font_pdf``: one line in a font dictionary given as it is (an unembedded ``Arial``
  TrueType font as Word writes it, a ``/Differences`` encoding, hostile values …).
- ``with_drawing``: an existing PDF with one more content stream and resources on page 1
  (an image with a soft mask, a graphics state with ``ca 0.5``, a form with a group …).
- ``type3_font``, ``tiling_pattern``: a one-glyph Type 3 font and a 5×5 tiling pattern with
  the content and resources a test gives.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import pikepdf
from fpdf import FPDF
from pikepdf import Array, Dictionary, Name, Stream

#: The text of ``core_fonts_pdf``, once per family and style (± µ · ÷: where Liberation's
#: own widths differ from Adobe's AFM widths, which the page keeps).
CORE_LINE = "Grüße aus Köln: 12,50 € für Straßenbahn, Äpfel & Öl; ± 0,5 µm · 3 ÷ 4."
FAMILIES = ("Helvetica", "Times", "Courier")
STYLES = ("", "B", "I", "BI")


def core_fonts_pdf(path: Path, line: str = CORE_LINE) -> Path:
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "cp1252"  # WinAnsi: € and the umlauts
    pdf.add_page()
    for family in FAMILIES:
        for style in STYLES:
            pdf.set_font(family, style, size=10)
            pdf.cell(0, 7, f"{family} {style or 'R'} {line}", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def arial_font(bold: bool = False) -> Dictionary:
    """An unembedded TrueType ``Arial`` as Word writes it: WinAnsi, widths, no font file."""
    from pypdf._codecs.core_font_metrics import CORE_FONT_METRICS  # Arial's AFM widths

    metrics = CORE_FONT_METRICS["Arial,Bold" if bold else "Arial"].character_widths
    widths = []
    for code in range(32, 256):
        try:
            char = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            char = "\u2022"
        widths.append(metrics.get(char, metrics["default"]))
    name = Name("/Arial,Bold" if bold else "/ArialMT")
    descriptor = Dictionary(
        Type=Name.FontDescriptor,
        FontName=name,
        Flags=32,
        FontBBox=Array([-665, -210, 2000, 728]),
        ItalicAngle=0,
        Ascent=905,
        Descent=-210,
        CapHeight=728,
        StemV=80,
        FontWeight=700 if bold else 400,
    )
    return Dictionary(
        Type=Name.Font,
        Subtype=Name.TrueType,
        BaseFont=name,
        Encoding=Name.WinAnsiEncoding,
        FirstChar=32,
        LastChar=255,
        Widths=Array(widths),
        FontDescriptor=descriptor,
    )


def raw_font_pdf(
    path: Path,
    font: Dictionary | Callable[[pikepdf.Pdf], Dictionary],
    text: bytes,
    extra: Iterable[bytes] = (),
) -> Path:
    """A page that shows ``text`` (and each of ``extra`` on a line below) in ``font`` (or the
    font ``font(pdf)`` makes, for one with streams)."""
    with pikepdf.new() as pdf:
        page = pdf.add_blank_page(page_size=(595, 842))
        made = font if isinstance(font, Dictionary) else font(pdf)
        page.obj.Resources = Dictionary(Font=Dictionary(F1=pdf.make_indirect(made)))
        lines = [text, *extra]
        shown = b"".join(
            b"BT /F1 14 Tf 60 %d Td %s Tj ET\n" % (760 - 24 * i, _literal(line))
            for i, line in enumerate(lines)
        )
        page.obj.Contents = Stream(pdf, shown)
        pdf.save(path)
    return path


def _literal(data: bytes) -> bytes:
    escaped = data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


def with_drawing(source: Path, path: Path, content: bytes, resources: dict[str, object]) -> Path:
    """``source`` with ``content`` drawn after page 1's own, ``resources`` merged into its
    resources (``{"/XObject": {"/Im9": image}, …}``, each value made by ``build(pdf)``)."""
    with pikepdf.open(source) as pdf:
        page = pdf.pages[0]
        res = page.obj.Resources
        for category, entries in resources.items():
            if category not in res:
                res[category] = Dictionary()
            for name, build in entries.items():  # type: ignore[attr-defined]
                res[category][name] = build(pdf)
        page.contents_add(Stream(pdf, content))
        pdf.save(path)
    return path


def image(pdf: pikepdf.Pdf, **keys: object) -> Stream:
    """A 4×4 grey image XObject (Flate) with ``keys`` added."""
    stream = Stream(pdf, zlib.compress(bytes(range(0, 256, 16))))
    stream.update(
        {
            "/Type": Name.XObject,
            "/Subtype": Name.Image,
            "/Width": 4,
            "/Height": 4,
            "/ColorSpace": Name.DeviceGray,
            "/BitsPerComponent": 8,
            "/Filter": Name.FlateDecode,
        }
    )
    for key, value in keys.items():
        stream[f"/{key}"] = value
    return stream


def stencil(pdf: pikepdf.Pdf) -> Stream:
    """A 4×4 stencil mask (``/ImageMask true``), one bit per pixel."""
    stream = Stream(pdf, bytes([0b10100000, 0b01010000, 0b10100000, 0b01010000]))
    stream.update(
        {
            "/Type": Name.XObject,
            "/Subtype": Name.Image,
            "/Width": 4,
            "/Height": 4,
            "/ImageMask": True,
            "/BitsPerComponent": 1,
        }
    )
    return stream


def form(pdf: pikepdf.Pdf, content: bytes, **keys: object) -> Stream:
    stream = Stream(pdf, content)
    stream.update({"/Type": Name.XObject, "/Subtype": Name.Form, "/BBox": [0, 0, 100, 100]})
    for key, value in keys.items():
        stream[f"/{key}"] = value
    return stream


def type3_font(pdf: pikepdf.Pdf, glyph: bytes, resources: Dictionary) -> Dictionary:
    """A Type 3 font whose one glyph (``a``, code 97) draws ``glyph`` with ``resources``."""
    return Dictionary(
        Type=Name.Font,
        Subtype=Name.Type3,
        FontBBox=Array([0, 0, 10, 10]),
        FontMatrix=Array([0.1, 0, 0, 0.1, 0, 0]),
        CharProcs=Dictionary(a=Stream(pdf, glyph)),
        Encoding=Dictionary(Type=Name.Encoding, Differences=Array([97, Name.a])),
        FirstChar=97,
        LastChar=97,
        Widths=Array([10]),
        Resources=resources,
    )


def tiling_pattern(pdf: pikepdf.Pdf, content: bytes, resources: Dictionary) -> Stream:
    """A coloured 5×5 tiling pattern drawing ``content`` with ``resources``."""
    tile = Stream(pdf, content)
    tile.update(
        {
            "/PatternType": 1,
            "/PaintType": 1,
            "/TilingType": 1,
            "/BBox": Array([0, 0, 5, 5]),
            "/XStep": 5,
            "/YStep": 5,
            "/Resources": resources,
        }
    )
    return tile

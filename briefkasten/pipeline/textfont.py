"""The font of the invisible text layer (``textlayer.py``): a ``Type0`` / ``CIDFontType2``
font whose character codes are Unicode code points (UTF-16BE, ``Identity-H``), every code
drawn with glyph 1 and mapped back by ``ToUnicode``, so umlauts, ß and € extract as they are.
"""

from __future__ import annotations

import functools
import io

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

FONT_NAME = "/BriefkastenText"
#: Advance of every glyph, in 1/1000 of the font size.
GLYPH_WIDTH = 500
#: The font's creation date (seconds since 1904, TrueType's epoch): 2026-12-03.
FONT_DATE = 3879100800


@functools.cache
def font_program() -> bytes:
    """The TrueType font of the text layer (fontTools' FontBuilder): ``.notdef`` and one glyph,
    both 500/1000 wide, ascent 1000, descent -200. The glyph is a plain box, never seen (the
    text is drawn invisible): PDFium drops a text object of one character whose glyph has
    no outline, so a word of one letter ("7", "€") went missing in Chromium's copy and find."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "box"])
    builder.setupCharacterMap({})  # codes reach glyph 1 through the PDF's CIDToGIDMap
    box = TTGlyphPen(None)
    for point in ((0, 0), (0, 700), (GLYPH_WIDTH, 700), (GLYPH_WIDTH, 0)):
        (box.lineTo if point != (0, 0) else box.moveTo)(point)
    box.closePath()
    builder.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "box": box.glyph()})
    builder.setupHorizontalMetrics({".notdef": (GLYPH_WIDTH, 0), "box": (GLYPH_WIDTH, 0)})
    builder.setupHorizontalHeader(ascent=1000, descent=-200)
    builder.setupNameTable({"familyName": "BriefkastenGlyphless", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=1000, sTypoDescender=-200, usWinAscent=1000, usWinDescent=200)
    builder.setupPost()
    builder.updateHead(created=FONT_DATE, modified=FONT_DATE)  # the same bytes on every run
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


def glyphless_font(writer: PdfWriter) -> IndirectObject:
    """The ``Type0`` font of the text layer, added to ``writer`` (identical objects on every
    page; ``PdfWriter.compress_identical_objects`` keeps one)."""
    program = font_program()
    font_file = _stream(program, {NameObject("/Length1"): NumberObject(len(program))})
    descriptor = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/FontDescriptor"),
            NameObject("/FontName"): NameObject("/BriefkastenGlyphless"),
            NameObject("/Flags"): NumberObject(4),
            NameObject("/FontBBox"): ArrayObject(
                [NumberObject(0), NumberObject(-200), NumberObject(500), NumberObject(1000)]
            ),
            NameObject("/ItalicAngle"): NumberObject(0),
            NameObject("/Ascent"): NumberObject(1000),
            NameObject("/Descent"): NumberObject(-200),
            NameObject("/CapHeight"): NumberObject(1000),
            NameObject("/StemV"): NumberObject(80),
            NameObject("/FontFile2"): writer._add_object(font_file),
        }
    )
    # Every code to glyph 1 (the box): .notdef is never drawn.
    cid_to_gid = _stream(b"\x00\x01" * 0x10000, {})
    cid_font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/CIDFontType2"),
            NameObject("/BaseFont"): NameObject("/BriefkastenGlyphless"),
            NameObject("/CIDSystemInfo"): DictionaryObject(
                {
                    NameObject("/Registry"): TextStringObject("Adobe"),
                    NameObject("/Ordering"): TextStringObject("Identity"),
                    NameObject("/Supplement"): NumberObject(0),
                }
            ),
            NameObject("/FontDescriptor"): writer._add_object(descriptor),
            NameObject("/DW"): NumberObject(GLYPH_WIDTH),
            NameObject("/CIDToGIDMap"): writer._add_object(cid_to_gid),
        }
    )
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type0"),
            NameObject("/BaseFont"): NameObject("/BriefkastenGlyphless"),
            NameObject("/Encoding"): NameObject("/Identity-H"),
            NameObject("/DescendantFonts"): ArrayObject([writer._add_object(cid_font)]),
            NameObject("/ToUnicode"): writer._add_object(_stream(to_unicode_cmap(), {})),
        }
    )
    return writer._add_object(font)


def to_unicode_cmap() -> bytes:
    """Code → the same code point, for all of the BMP but the surrogates."""
    highs = [hi for hi in range(256) if not 0xD8 <= hi <= 0xDF]
    ranges = [f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in highs]
    blocks = []
    for start in range(0, len(ranges), 100):
        chunk = ranges[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfrange\n" + "\n".join(chunk) + "\nendbfrange\n")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "".join(blocks)
        + "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


def _stream(data: bytes, extra: dict[NameObject, NumberObject]) -> StreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    for key, value in extra.items():
        stream[key] = value
    return stream.flate_encode()

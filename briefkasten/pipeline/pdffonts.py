"""Fonts a born-digital page names but does not embed get a Liberation subset (PDF/A).

``embed_fonts`` runs on the page ``pdfclean`` rebuilt (before it is saved). ``fontusage``
finds every font under the page's resources and the codes the content shows with each. A
simple font (Type 1, TrueType, MMType1) without ``/FontFile``/``2``/``3`` becomes a
``/TrueType`` font with ``/FontFile2``: the metric-compatible Liberation face
(``fontmap.substitute``) cut down with fontTools to the glyphs of the codes shown. What the
page looked like stays: each shown code keeps its width (the font's ``/Widths``, or for a
standard-14 font without them Adobe's AFM width), and the embedded font's advance widths are
set to the same values, so the program and ``/Widths`` agree (a glyph two shown codes draw
at different widths is copied, and the font is then symbolic).

Encoding: when every shown code means in WinAnsi (or MacRoman) what the font's encoding says,
the font is non-symbolic with that ``/Encoding``; otherwise it is symbolic, without
``/Encoding``, and its ``cmap`` is one (3,0) subtable from ``0xF000 + code`` to the glyph
(what PDF/A asks of a symbolic TrueType font). A ``/ToUnicode`` map is written unless the font
has one. ``UnsafeContent`` (rasterise the page) for a font without a program that cannot be
substituted safely: Symbol, ZapfDingbats, unknown names, composite fonts, a code without a
known character or a glyph in Liberation, widths out of range, more than ``MAX_FONTS`` fonts,
fonts-liberation2 missing.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from copy import deepcopy

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
from pikepdf import Array, Dictionary, Name, Pdf, Stream

from briefkasten.errors import UnsafeContent
from briefkasten.pipeline import fontmap
from briefkasten.pipeline.fontusage import FontUsage, page_streams
from briefkasten.pipeline.pdfcopy import number

__all__ = ["MAX_DIFFERENCES", "MAX_FONTS", "MAX_WIDTH", "embed_fonts"]

#: Unembedded fonts one page may have and still be copied as vectors.
MAX_FONTS = 32
MAX_DIFFERENCES = 4096
#: Widths a substituted glyph may have, in thousandths of an em.
MAX_WIDTH = 4000.0
_PROGRAMS = ("/FontFile", "/FontFile2", "/FontFile3")
_SIMPLE = frozenset({"/Type1", "/TrueType", "/MMType1"})
#: Tables a PDF font program does not need (layout, signatures, hinting hints).
_UNUSED_TABLES = ("GSUB", "GPOS", "GDEF", "kern", "DSIG", "FFTM", "gasp", "fpgm", "prep", "cvt ")
#: What readers extracted for these before (a soft hyphen as a hyphen, ligatures as letters).
_AS_TEXT = {"\u00ad": "-", "\ufb01": "fi", "\ufb02": "fl"}
_BASES = ("/WinAnsiEncoding", "/MacRomanEncoding", "/StandardEncoding")


def embed_fonts(pdf: Pdf, page: Dictionary) -> tuple[str, ...]:
    """Embed a Liberation subset for every unembedded simple font of ``page`` (in ``pdf``);
    return ``"Helvetica→LiberationSans-Regular"`` for each, sorted."""
    usage = FontUsage(pdf)
    resources = page.get("/Resources")
    usage.resources(resources, 0)
    usage.content(page_streams(page), resources, 0, None)
    missing = [(key, font) for key, font in usage.fonts.items() if not _has_program(font)]
    if len(missing) > MAX_FONTS:  # ~30 ms each
        raise UnsafeContent(f"more than {MAX_FONTS} fonts to embed")
    return tuple(sorted({_embed(pdf, font, usage.codes.get(key, set())) for key, font in missing}))


def _has_program(font: Dictionary) -> bool:
    """Whether ``font`` needs nothing (embedded, Type 3); unsafe for a composite font without
    a program or a font of unknown kind."""
    subtype = str(font.get("/Subtype", ""))
    if subtype == "/Type3":
        return True
    if subtype == "/Type0":
        descendants = font.get("/DescendantFonts")
        inner = descendants[0] if isinstance(descendants, Array) and len(descendants) else None
        if isinstance(inner, Dictionary) and _descriptor_program(inner):
            return True
        raise UnsafeContent("composite font without a font program")
    if subtype not in _SIMPLE:
        raise UnsafeContent("font of unknown kind")
    return _descriptor_program(font)


def _descriptor_program(font: Dictionary) -> bool:
    descriptor = font.get("/FontDescriptor")
    if not isinstance(descriptor, Dictionary):
        return False
    return any(isinstance(descriptor.get(key), Stream) for key in _PROGRAMS)


def _embed(pdf: Pdf, font: Dictionary, codes: set[int]) -> str:
    base_font = font.get("/BaseFont")
    base = str(base_font)[1:] if isinstance(base_font, Name) else ""
    shown = fontmap.printable_name(base)
    descriptor = font.get("/FontDescriptor")
    descriptor = descriptor if isinstance(descriptor, Dictionary) else Dictionary()
    flags = int(number(descriptor.get("/Flags")) or 0) & 0xFFFFFFFF
    bold = (number(descriptor.get("/FontWeight")) or 0) >= 600
    italic = (number(descriptor.get("/ItalicAngle")) or 0) != 0 or bool(flags & 64)
    face = fontmap.substitute(base, bold=bold, italic=italic)
    if face is None:
        raise UnsafeContent(f"font {shown} is not embedded and has no substitute")
    path = fontmap.face_path(face)
    if path is None:
        raise UnsafeContent(f"font {shown}: {face} is missing (install fonts-liberation2)")
    codes = codes or {32}  # a font nothing shows: a subset with the space
    chars = _characters(font, codes, flags, shown)
    program = TTFont(path)
    glyphs = _glyphs(program, chars, shown, face)
    widths = _widths(font, descriptor, base, chars, program, glyphs, shown)
    units = program["head"].unitsPerEm
    advances = {code: round(width * units / 1000.0) for code, width in widths.items()}
    shared = len({(glyphs[c], a) for c, a in advances.items()}) > len(set(glyphs.values()))
    encoding = None if shared else _encoding(font, chars)  # copies of a glyph: by code only
    data = _subset(program, glyphs, advances, chars, symbolic=encoding is None)
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(data).digest()[:6])
    name = Name(f"/{tag}+{face}")
    file = Stream(pdf, zlib.compress(data, 9))
    file[Name.Filter] = Name.FlateDecode
    file[Name.Length1] = len(data)
    first, last = min(chars), max(chars)
    font[Name.Subtype] = Name.TrueType
    font[Name.BaseFont] = name
    font[Name.FirstChar] = first
    font[Name.LastChar] = last
    font[Name.Widths] = Array([_pdf_number(widths.get(c, 0.0)) for c in range(first, last + 1)])
    font[Name.FontDescriptor] = pdf.make_indirect(
        _descriptor(TTFont(io.BytesIO(data)), name, file, face, symbolic=encoding is None)
    )
    if encoding is None:
        if "/Encoding" in font:
            del font["/Encoding"]
    else:
        font[Name.Encoding] = Name(encoding)
    if not isinstance(font.get("/ToUnicode"), Stream):
        font[Name.ToUnicode] = Stream(pdf, zlib.compress(_to_unicode(chars)))
        font.ToUnicode[Name.Filter] = Name.FlateDecode
    return f"{shown}→{face}"


def _characters(font: Dictionary, codes: set[int], flags: int, shown: str) -> dict[int, str]:
    """Code → the character it shows, through the font's encoding; unsafe when unknown."""
    encoding = font.get("/Encoding")
    base: str | None = None
    differences: dict[int, str] = {}
    if isinstance(encoding, Name):
        base = str(encoding)
    elif isinstance(encoding, Dictionary):
        named = encoding.get("/BaseEncoding")
        base = str(named) if isinstance(named, Name) else None
        differences = _differences(encoding.get("/Differences"), shown)
    elif encoding is not None:
        raise UnsafeContent(f"font {shown}: an encoding of unknown kind")
    if base is None:
        if flags & 4 and not differences:  # symbolic: its own built-in encoding, unknown here
            raise UnsafeContent(f"font {shown}: a symbolic font without an encoding")
        base = "/StandardEncoding"
    if base not in _BASES:
        raise UnsafeContent(f"font {shown}: encoding {fontmap.printable_name(base)} unsupported")
    chars: dict[int, str] = {}
    for code in sorted(codes):
        glyph = differences.get(code)
        char = fontmap.glyph_unicode(glyph) if glyph else fontmap.base_unicode(base, code)
        if char is None:
            raise UnsafeContent(f"font {shown}: a code that stands for no known character")
        chars[code] = char
    return chars


def _differences(value: object, shown: str) -> dict[int, str]:
    if not isinstance(value, Array):
        return {}
    if len(value) > MAX_DIFFERENCES:
        raise UnsafeContent(f"font {shown}: an encoding of over {MAX_DIFFERENCES} entries")
    names: dict[int, str] = {}
    code: int | None = None
    for item in value:
        at = number(item)
        if at is not None:
            code = int(at) if 0 <= at <= 255 else None
        elif isinstance(item, Name) and code is not None:
            if code <= 255:
                names[code] = str(item)[1:]
            code += 1
    return names


def _glyphs(program: TTFont, chars: dict[int, str], shown: str, face: str) -> dict[int, str]:
    cmap = program.getBestCmap() or {}
    glyphs = {code: cmap.get(ord(char)) for code, char in chars.items()}
    if any(glyph is None for glyph in glyphs.values()):
        raise UnsafeContent(f"font {shown}: a character {face} has no glyph for")
    return {code: str(glyph) for code, glyph in glyphs.items()}


def _widths(
    font: Dictionary,
    descriptor: Dictionary,
    base: str,
    chars: dict[int, str],
    program: TTFont,
    glyphs: dict[int, str],
    shown: str,
) -> dict[int, float]:
    """Each code's width as the source page draws it (thousandths of an em)."""
    widths, first = font.get("/Widths"), number(font.get("/FirstChar"))
    if isinstance(widths, Array) and (first is None or not 0 <= first <= 255):
        raise UnsafeContent(f"font {shown}: a /FirstChar out of range")
    missing = number(descriptor.get("/MissingWidth")) or 0.0
    scale = 1000.0 / program["head"].unitsPerEm
    found: dict[int, float] = {}
    for code, char in chars.items():
        width: float | None
        if isinstance(widths, Array):
            index = code - int(first or 0)
            width = number(widths[index]) if 0 <= index < len(widths) else missing
        else:  # a standard-14 font's AFM width, else the substitute's (its metrics agree)
            width = fontmap.standard_width(base, char)
            width = program["hmtx"][glyphs[code]][0] * scale if width is None else width
        if width is None or not 0 <= width <= MAX_WIDTH:
            raise UnsafeContent(f"font {shown}: a glyph width out of range")
        found[code] = width
    return found


def _encoding(font: Dictionary, chars: dict[int, str]) -> str | None:
    """The base encoding every shown code means the same in (WinAnsi first), or ``None``."""
    encoding = font.get("/Encoding")
    own = str(encoding) if isinstance(encoding, Name) else None
    for name in (own, "/WinAnsiEncoding"):
        if name in _BASES[:2] and all(
            fontmap.base_unicode(name, code) == char for code, char in chars.items()
        ):
            return name
    return None


def _subset(
    program: TTFont,
    glyphs: dict[int, str],
    advances: dict[int, int],
    chars: dict[int, str],
    symbolic: bool,
) -> bytes:
    """The subset of ``program`` with the glyphs of ``glyphs`` (code → glyph name), each at
    the code's advance; a glyph two codes show at different widths is copied (symbolic only).
    The symbolic cmap is one (3,0) subtable from ``0xF000 + code`` to the code's glyph."""
    options = subset.Options()
    options.layout_features = []
    options.notdef_outline = True
    options.hinting = False  # viewers hint PDF fonts themselves; a third of the bytes
    options.glyph_names = True
    options.name_languages = [0x409]
    for tag in _UNUSED_TABLES:  # before subsetting: it would read them (most of its time)
        if tag in program:
            del program[tag]
    subsetter = subset.Subsetter(options)
    subsetter.populate(
        glyphs=sorted(set(glyphs.values())), unicodes={ord(c) for c in chars.values()}
    )
    subsetter.subset(program)
    metrics, outlines = program["hmtx"].metrics, program["glyf"]
    drawn: dict[str, int] = {}  # glyph → the advance it has now
    final: dict[int, str] = {}
    for code in sorted(glyphs):
        glyph, advance = glyphs[code], advances[code]
        if drawn.setdefault(glyph, advance) != advance:  # the same outline, another width
            copy = f"{glyph}.w{advance}"
            if copy not in drawn:
                outlines[copy] = deepcopy(outlines[glyph])
                drawn[copy] = advance
                metrics[copy] = (advance, metrics[glyph][1])
            glyph = copy
        metrics[glyph] = (advance, metrics[glyph][1])
        final[code] = glyph
    program.setGlyphOrder(list(outlines.glyphOrder))
    if symbolic:
        table = CmapSubtable.newSubtable(4)
        table.platformID, table.platEncID, table.language = 3, 0, 0
        table.cmap = {0xF000 + code: glyph for code, glyph in final.items()}
        program["cmap"].tables = [table]
    out = io.BytesIO()
    program.save(out)
    return out.getvalue()


def _descriptor(program: TTFont, name: Name, file: Stream, face: str, symbolic: bool) -> Dictionary:
    scale = 1000.0 / program["head"].unitsPerEm
    head, hhea, os2 = program["head"], program["hhea"], program["OS/2"]
    angle = float(program["post"].italicAngle)
    flags = (1 if "Mono" in face else 0) | (2 if "Serif" in face else 0)
    flags |= (4 if symbolic else 32) | (64 if angle else 0)
    return Dictionary(
        Type=Name.FontDescriptor,
        FontName=name,
        Flags=flags,
        FontBBox=Array([round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)]),
        ItalicAngle=angle,
        Ascent=round(hhea.ascent * scale),
        Descent=round(hhea.descent * scale),
        CapHeight=round(os2.sCapHeight * scale),
        XHeight=round(os2.sxHeight * scale),
        StemV=50 + round((os2.usWeightClass / 65) ** 2),
        FontWeight=int(os2.usWeightClass),
        FontFile2=file,
    )


def _pdf_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 3)


def _to_unicode(chars: dict[int, str]) -> bytes:
    """A ToUnicode CMap: one byte per code, each code its character (``_AS_TEXT``)."""
    text = {code: _AS_TEXT.get(char, char) for code, char in chars.items()}
    pairs = [
        f"<{code:02X}> <{char.encode('utf-16-be').hex().upper()}>" for code, char in text.items()
    ]
    blocks = [
        f"{len(pairs[i : i + 100])} beginbfchar\n" + "\n".join(pairs[i : i + 100]) + "\nendbfchar\n"
        for i in range(0, len(pairs), 100)
    ]
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
        + "".join(blocks)
        + "endcmap\nCMapName currentdict /CIDInit /ResourceCategory defineresource pop\nend\nend\n"
    ).encode("ascii")

"""Fonts a born-digital page names but does not embed get a Liberation subset (PDF/A).

``embed_fonts`` runs on the page ``pdfclean`` rebuilt (before it is saved). It finds every font
of the page's resources (and of its form XObjects, tiling patterns and Type 3 glyphs) and the
codes the content shows with each (``Tf``, ``gs`` with ``/Font``, ``q``/``Q``, ``Do`` into
forms with the font in force). A simple font (Type 1, TrueType, MMType1) without
``/FontFile``/``2``/``3`` becomes a ``/TrueType`` font with ``/FontFile2``: the metric-compatible
Liberation face (``fontmap.substitute``) cut down with fontTools to the glyphs of the codes
shown. What the page looked like stays: each shown code keeps its width (the font's
``/Widths``, or for a standard-14 font without them Adobe's AFM width), and the embedded
font's advance widths are set to the same values, so the program and ``/Widths`` agree.

Encoding: when every shown code means in WinAnsi (or MacRoman) what the font's encoding says,
the font is non-symbolic with that ``/Encoding``; otherwise it is symbolic, without
``/Encoding``, and its ``cmap`` is one (3,0) subtable from ``0xF000 + code`` to the glyph
(what PDF/A asks of a symbolic TrueType font). A ``/ToUnicode`` map is written unless the font
has one. ``UnsafeContent`` (rasterise the page) for a font without a program that cannot be
substituted safely: Symbol, ZapfDingbats, unknown names, composite fonts, a code without a
known character or a glyph in Liberation, widths out of range, fonts-liberation2 missing.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Iterable

import pikepdf
from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
from pikepdf import Array, Dictionary, Name, Pdf, Stream

from briefkasten.errors import UnsafeContent
from briefkasten.pipeline import fontmap
from briefkasten.pipeline.pdfcopy import number

__all__ = ["MAX_OPERATORS", "embed_fonts"]

#: Content operators read per page to find the codes each font shows.
MAX_OPERATORS = 1_000_000
MAX_DEPTH = 12
MAX_DIFFERENCES = 4096
#: Widths a substituted glyph may have, in thousandths of an em.
MAX_WIDTH = 4000.0
_PROGRAMS = ("/FontFile", "/FontFile2", "/FontFile3")
_SIMPLE = frozenset({"/Type1", "/TrueType", "/MMType1"})
_SHOW = frozenset({"Tj", "'", '"', "TJ"})
_BASES = ("/WinAnsiEncoding", "/MacRomanEncoding", "/StandardEncoding")
FontKey = tuple[int, int]


def embed_fonts(pdf: Pdf, page: Dictionary) -> tuple[str, ...]:
    """Embed a Liberation subset for every unembedded simple font of ``page`` (in ``pdf``);
    return ``"Helvetica→LiberationSans-Regular"`` for each, sorted."""
    usage = _Usage(pdf)
    resources = page.get("/Resources")
    usage.resources(resources, 0)
    contents = page.get("/Contents")
    streams = [contents] if isinstance(contents, Stream) else list(_items(contents))
    usage.content([s for s in streams if isinstance(s, Stream)], resources, 0, None)
    embedded = {
        _embed(pdf, font, usage.codes.get(key, set()))
        for key, font in usage.fonts.items()
        if not _has_program(font)
    }
    return tuple(sorted(embedded))


def _items(value: object) -> Iterable[object]:
    return list(value) if isinstance(value, Array) else []


class _Usage:
    """Every font under a page's resources, and the codes its content shows with each."""

    def __init__(self, pdf: Pdf) -> None:
        self.pdf = pdf
        self.fonts: dict[FontKey, Dictionary] = {}
        self.codes: dict[FontKey, set[int]] = {}
        self.operators = 0
        self.walked: set[tuple[FontKey, FontKey | None]] = set()
        self.seen: set[FontKey] = set()

    def resources(self, resources: object, depth: int) -> None:
        if not isinstance(resources, Dictionary) or depth > MAX_DEPTH:
            return
        if resources.is_indirect:
            if resources.objgen in self.seen:
                return
            self.seen.add(resources.objgen)
        fonts = resources.get("/Font")
        for name in list(fonts.keys()) if isinstance(fonts, Dictionary) else []:
            self.font(fonts, name, depth)
        states = resources.get("/ExtGState")
        for state in states.values() if isinstance(states, Dictionary) else []:
            held = state.get("/Font") if isinstance(state, Dictionary) else None
            if isinstance(held, Array) and len(held) == 2:
                self.font(held, 0, depth)
        for kind in ("/XObject", "/Pattern"):
            entries = resources.get(kind)
            for entry in entries.values() if isinstance(entries, Dictionary) else []:
                if isinstance(entry, Stream) and entry.get("/Subtype") != Name.Image:
                    inner = entry.get("/Resources")
                    self.resources(inner, depth + 1)
                    if kind == "/Pattern":  # a tiling pattern's cell starts with no font
                        self.content([entry], inner, depth + 1, None)

    def font(self, holder: Dictionary | Array, name: str | int, depth: int) -> FontKey | None:
        """The font ``holder[name]`` (made indirect, so it can be told apart), registered."""
        font = holder[name]  # type: ignore[index]
        if not isinstance(font, Dictionary):
            return None
        if not font.is_indirect:
            holder[name] = self.pdf.make_indirect(font)  # type: ignore[index]
            font = holder[name]  # type: ignore[index]
        key: FontKey = font.objgen
        if key not in self.fonts:
            self.fonts[key] = font
            if font.get("/Subtype") == Name.Type3:  # glyphs are content with resources
                inner = font.get("/Resources")
                self.resources(inner, depth + 1)
                procs = font.get("/CharProcs")
                glyphs = procs.values() if isinstance(procs, Dictionary) else []
                self.content([g for g in glyphs if isinstance(g, Stream)], inner, depth + 1, None)
        return key

    def content(
        self, streams: list[Stream], resources: object, depth: int, font: FontKey | None
    ) -> None:
        """Read ``streams`` with ``resources``, the font in force at the start ``font``."""
        if depth > MAX_DEPTH:
            raise UnsafeContent(f"content nested deeper than {MAX_DEPTH} levels")
        saved: list[FontKey | None] = []
        for stream in streams:
            try:
                instructions = pikepdf.parse_content_stream(stream)
            except pikepdf.PdfError as exc:
                raise UnsafeContent("content stream cannot be read for its fonts") from exc
            self.operators += len(instructions)
            if self.operators > MAX_OPERATORS:
                raise UnsafeContent(f"more than {MAX_OPERATORS} content operators")
            for instruction in instructions:
                if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                    continue
                operands, operator = instruction.operands, str(instruction.operator)
                if operator == "q":
                    saved.append(font)
                elif operator == "Q":
                    font = saved.pop() if saved else font
                elif operator in _SHOW and font is not None:
                    self.codes.setdefault(font, set()).update(_shown(operator, operands))
                elif operator in ("Tf", "gs", "Do") and operands:
                    font = self.select(operator, operands[0], resources, depth, font)

    def select(
        self, operator: str, operand: object, resources: object, depth: int, font: FontKey | None
    ) -> FontKey | None:
        """The font in force after ``Tf``/``gs``; a form drawn by ``Do`` read with it."""
        kind = {"Tf": "/Font", "gs": "/ExtGState", "Do": "/XObject"}[operator]
        entries = resources.get(kind) if isinstance(resources, Dictionary) else None
        if not isinstance(operand, Name) or not isinstance(entries, Dictionary):
            return font
        entry = entries.get(operand)
        if operator == "Tf":
            return self.font(entries, str(operand), depth) if entry is not None else font
        if operator == "gs":
            held = entry.get("/Font") if isinstance(entry, Dictionary) else None
            if isinstance(held, Array) and len(held) == 2:
                return self.font(held, 0, depth) or font
            return font
        if isinstance(entry, Stream) and entry.get("/Subtype") == Name.Form:
            if (entry.objgen, font) not in self.walked:
                self.walked.add((entry.objgen, font))
                inner = entry.get("/Resources")
                inner = inner if isinstance(inner, Dictionary) else resources
                self.resources(inner, depth + 1)
                self.content([entry], inner, depth + 1, font)
        return font


def _shown(operator: str, operands: list[object]) -> set[int]:
    """The codes a text-showing operator shows (one byte, one code: simple fonts)."""
    if operator == "TJ":
        parts = list(operands[0]) if operands and isinstance(operands[0], Array) else []
    else:
        parts = operands[-1:]
    codes: set[int] = set()
    for part in parts:
        if isinstance(part, pikepdf.String):
            codes.update(bytes(part))
    return codes


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
    encoding = _encoding(font, chars)
    data = _subset(program, glyphs, widths, chars, symbolic=encoding is None, shown=shown)
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
    widths: dict[int, float],
    chars: dict[int, str],
    symbolic: bool,
    shown: str,
) -> bytes:
    options = subset.Options()
    options.layout_features = []
    options.notdef_outline = True
    options.hinting = False  # viewers hint PDF fonts themselves; a third of the bytes
    options.glyph_names = True
    options.name_languages = [0x409]
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "DSIG", "FFTM", "gasp"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=sorted(set(glyphs.values())), unicodes={ord(c) for c in chars.values()})
    subsetter.subset(program)
    units = program["head"].unitsPerEm
    metrics = program["hmtx"].metrics
    advances: dict[str, int] = {}
    for code, glyph in glyphs.items():
        advance = round(widths[code] * units / 1000.0)
        if abs(advances.setdefault(glyph, advance) - advance) > 2:
            raise UnsafeContent(f"font {shown}: two codes share a glyph at different widths")
        metrics[glyph] = (advance, metrics[glyph][1])
    if symbolic:
        table = CmapSubtable.newSubtable(4)
        table.platformID, table.platEncID, table.language = 3, 0, 0
        table.cmap = {0xF000 + code: glyph for code, glyph in glyphs.items()}
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
    """A ToUnicode CMap: one byte per code, each code its character."""
    pairs = [f"<{code:02X}> <{char.encode('utf-16-be').hex().upper()}>" for code, char in chars.items()]
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

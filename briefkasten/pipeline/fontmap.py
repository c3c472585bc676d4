"""Which Liberation font stands in for a font a PDF names but does not embed, and what its
character codes mean: pure functions of names and codes, used by ``pdffonts``.

Liberation Sans, Serif and Mono (Debian's fonts-liberation2, read from the system at run time)
have the advance widths of Arial, Times New Roman and Courier New, which for the Latin
alphabet are those of Helvetica, Times and Courier. ``substitute`` maps a ``/BaseFont`` to one
of their twelve faces, or to ``None`` when it is not one of those families (Symbol,
ZapfDingbats, Arial Black, Helvetica Neue, anything unknown): such a page is rasterised. The
standard-14 widths (``standard_width``) are Adobe's AFM metrics as pypdf ships them: what a
viewer uses for a standard-14 font without ``/Widths``.

Codes: ``base_unicode`` reads a code through a PDF base encoding (WinAnsi, MacRoman, Standard),
``glyph_unicode`` a glyph name of a ``/Differences`` array (Adobe Glyph List, ``uniXXXX``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from fontTools import agl
from fontTools.encodings.StandardEncoding import StandardEncoding

__all__ = [
    "FONT_DIRS",
    "MAX_NAME",
    "base_unicode",
    "face_path",
    "glyph_unicode",
    "printable_name",
    "standard_width",
    "substitute",
]

#: Where fonts-liberation2 puts the fonts (Debian), then the older fonts-liberation.
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
)
#: PDF names are at most 127 bytes (ISO 32000-1, Annex C); longer ones are not font names.
MAX_NAME = 127
_SUBSET = re.compile(r"^[A-Z]{6}\+")
_NAME = re.compile(r"^[A-Za-z0-9 ,\-_]+$")
_FAMILIES = {
    "helvetica": "Sans",
    "arial": "Sans",
    "arimo": "Sans",
    "liberationsans": "Sans",
    "times": "Serif",
    "timesroman": "Serif",
    "timesnewroman": "Serif",
    "tinos": "Serif",
    "liberationserif": "Serif",
    "courier": "Mono",
    "couriernew": "Mono",
    "cousine": "Mono",
    "liberationmono": "Mono",
}
#: Style suffixes → (bold, italic); anything else (Black, Narrow, Light …) is not mapped.
_STYLES = {
    "": (False, False),
    "roman": (False, False),
    "regular": (False, False),
    "normal": (False, False),
    "medium": (False, False),
    "book": (False, False),
    "bold": (True, False),
    "italic": (False, True),
    "oblique": (False, True),
    "bolditalic": (True, True),
    "boldoblique": (True, True),
}
_SUFFIXES = ("psmt", "mt", "ps")
#: Where PDF's base encodings (ISO 32000-1, Annex D; as PDFBox reads them) differ from
#: Python's codecs: WinAnsi's 0x7F is a bullet, Mac Roman's 0xDB the old currency sign, and
#: Mac Roman lacks the Mac OS symbols (∞ ≠ π Ω …).
_WIN_ANSI = {0x7F: "\u2022"}
_MAC_ROMAN = {0xDB: "\u00a4"}
_MAC_ROMAN_ABSENT = frozenset({
    0x7F, 0xAD, 0xB0, 0xB2, 0xB3, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xBD, 0xC3, 0xC5, 0xC6, 0xD7,
    0xF0,
})  # fmt: skip
#: The standard-14 names that ``standard_width`` knows (pypdf's names for Adobe's AFMs).
_STANDARD = frozenset({
    "Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique",
    "Times-Roman", "Times-Bold", "Times-Italic", "Times-BoldItalic",
    "Courier", "Courier-Bold", "Courier-Oblique", "Courier-BoldOblique",
})  # fmt: skip


def printable_name(base_font: str) -> str:
    """The font name for a history entry or a reason: subset tag off, at most 40 plain
    characters (a hostile name is neither long nor anything but letters, digits, ``-,+``)."""
    name = re.sub(r"[^A-Za-z0-9,+\-]", "", _SUBSET.sub("", base_font))
    return (name[:40] + "…") if len(name) > 40 else (name or "unnamed")


def substitute(base_font: str, bold: bool = False, italic: bool = False) -> str | None:
    """The Liberation face (``LiberationSans-Bold`` …) metric-compatible with ``base_font``, or
    ``None``. ``bold``/``italic`` come from the font descriptor (weight, italic angle) and
    count when the name says nothing of its style (``Arial`` with weight 700)."""
    if len(base_font) > MAX_NAME:
        return None
    name = _SUBSET.sub("", base_font)
    if not _NAME.match(name):
        return None
    name = name.replace(" ", "").replace("_", "")
    family, _, style = name.partition(",") if "," in name else name.partition("-")
    family, style = _strip_suffix(family.lower()), _strip_suffix(style.lower())
    kind = _FAMILIES.get(family)
    styled = _STYLES.get(style)
    if kind is None or styled is None:
        return None
    bold, italic = styled[0] or (bold and not style), styled[1] or (italic and not style)
    face = {(False, False): "Regular", (True, False): "Bold", (False, True): "Italic"}.get(
        (bold, italic), "BoldItalic"
    )
    return f"Liberation{kind}-{face}"


def _strip_suffix(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)]
    return word


#: Every Liberation face ``substitute`` can name.
FACES = tuple(
    f"Liberation{family}-{style}"
    for family in ("Sans", "Serif", "Mono")
    for style in ("Regular", "Bold", "Italic", "BoldItalic")
)


def missing_faces() -> list[str]:
    """The Liberation faces that are not installed (empty when fonts-liberation2 is)."""
    return [face for face in FACES if face_path(face) is None]


def face_path(face: str) -> Path | None:
    """The installed file of a Liberation face, or ``None`` (fonts-liberation2 missing)."""
    for directory in FONT_DIRS:
        path = directory / f"{face}.ttf"
        if path.is_file():
            return path
    return None


def base_unicode(encoding: str, code: int) -> str | None:
    """The character ``code`` stands for in the PDF base encoding ``encoding`` (``/WinAnsi
    Encoding``, ``/MacRomanEncoding``, ``/StandardEncoding``); ``None`` for an unused code."""
    if not 32 <= code <= 255:
        return None
    if encoding == "/WinAnsiEncoding":
        if code in _WIN_ANSI:
            return _WIN_ANSI[code]
        try:
            return bytes([code]).decode("cp1252")
        except UnicodeDecodeError:  # the unused codes over 40 (octal) are bullets (Annex D)
            return "\u2022"
    if encoding == "/MacRomanEncoding":
        if code in _MAC_ROMAN:
            return _MAC_ROMAN[code]
        return None if code in _MAC_ROMAN_ABSENT else bytes([code]).decode("mac_roman")
    if encoding == "/StandardEncoding":
        return glyph_unicode(StandardEncoding[code])
    return None


def glyph_unicode(name: str) -> str | None:
    """The one character a glyph name stands for (``adieresis`` → ä, ``uni20AC`` → €)."""
    if len(name) > MAX_NAME or name in ("", ".notdef"):
        return None
    text = agl.toUnicode(name)
    return text if len(text) == 1 else None


def standard_width(base_font: str, char: str) -> float | None:
    """Adobe's AFM width of ``char`` in the standard-14 font ``base_font`` (``Helvetica`` …),
    or ``None`` when ``base_font`` is not one of them or has no such glyph."""
    name = _SUBSET.sub("", base_font)
    if name not in _STANDARD:
        return None
    width = _standard_widths(name).get(char)
    return float(width) if width is not None else None


@cache
def _standard_widths(name: str) -> dict[str, int]:
    from pypdf._codecs.core_font_metrics import CORE_FONT_METRICS  # Adobe's AFMs, in pypdf

    widths = CORE_FONT_METRICS[name].character_widths
    return {char: int(width) for char, width in widths.items() if len(char) == 1}

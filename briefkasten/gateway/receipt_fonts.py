"""The receipt's fonts and what they can draw.

DejaVu Sans, Sans Bold and Sans Mono (Debian's fonts-dejavu-core) set Latin, Greek and Cyrillic;
Noto Sans Arabic Regular and Bold (Debian's fonts-noto-core) set Arabic and Persian, shaped by
HarfBuzz. Both are embedded as subsets; without them there is no receipt at all, never one in an
unembedded core font (``receipt_fonts`` raises ``ConfigError``, checked at start-up by
``cli.startup.check_fonts``).

Text we did not write — a file name, a tenant's name or type label — goes through ``displayable``
first: bidi controls are dropped (the U+202E in ``rechnung<U+202E>fdp.exe`` must not make it
read ``rechnungexe.pdf``), other control and format characters and anything neither font has
(CJK, most emoji) become U+FFFD, and a pile of combining marks is cut to a few per letter. Our
own texts are not cleaned: a glyph missing from them is an error (``uncovered``, raised by
``receipt_layout``), never a silent box or gap.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from briefkasten.errors import ConfigError

DEJAVU_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
NOTO_DIRS = (Path("/usr/share/fonts/truetype/noto"),)
#: DejaVu's faces: regular, bold, mono.
DEJAVU_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf")
#: Noto Sans Arabic: regular, bold.
NOTO_FILES = ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf")

#: Bidi controls a name may carry to reorder what follows it: always dropped.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: Format characters that shape a word (Persian needs the ZWNJ): kept.
JOINERS = frozenset("\u200c\u200d")
#: Combining marks kept after one letter (Arabic: shadda plus a vowel; Vietnamese: two).
MAX_MARKS = 3
#: Characters of a name shown; the rest is cut with "…" (names are ≤ 120 already).
MAX_CHARS = 200
REPLACEMENT = "\ufffd"


class ReceiptFonts(NamedTuple):
    regular: Path
    bold: Path
    mono: Path
    arabic: Path
    arabic_bold: Path


def receipt_fonts() -> ReceiptFonts:
    """The installed font files the receipt embeds; ``ConfigError`` naming the Debian package
    when any is missing (a receipt in a core font would not be PDF/A, one without Arabic
    glyphs could not be read in Arabic or Persian)."""
    dejavu = _find(DEJAVU_DIRS, DEJAVU_FILES, "fonts-dejavu-core")
    noto = _find(NOTO_DIRS, NOTO_FILES, "fonts-noto-core")
    return ReceiptFonts(*dejavu, *noto)


def _find(dirs: tuple[Path, ...], names: tuple[str, ...], package: str) -> list[Path]:
    for directory in dirs:
        paths = [directory / name for name in names]
        if all(path.is_file() for path in paths):
            return paths
    raise ConfigError(
        f"the receipt fonts {', '.join(names)} are missing from "
        f"{', '.join(str(d) for d in dirs)}: install Debian's {package}"
    )


def is_arabic(char: str) -> bool:
    """A letter or mark of the Arabic script (the blocks Arabic and Persian use)."""
    code = ord(char)
    return (
        0x0600 <= code <= 0x06FF
        or 0x0750 <= code <= 0x077F
        or 0x08A0 <= code <= 0x08FF
        or 0xFB50 <= code <= 0xFDFF
        or 0xFE70 <= code <= 0xFEFF
    ) and unicodedata.category(char)[0] in "LMN"


def has_arabic(text: str) -> bool:
    return any(is_arabic(c) for c in text)


def uncovered(text: str, cmaps: Iterable[Iterable[int]]) -> list[str]:
    """The characters of ``text`` that none of the fonts (their cmaps) can draw, as ``U+XXXX``
    (format characters excepted: HarfBuzz draws those invisible)."""
    have: set[int] = set()
    for cmap in cmaps:
        have.update(cmap)
    missing = {
        c for c in text if ord(c) not in have and c != "\n" and unicodedata.category(c) != "Cf"
    }
    return sorted(f"U+{ord(c):04X}" for c in missing)


def displayable(text: str, cmaps: Iterable[Iterable[int]]) -> str:
    """``text`` from outside (a file name, a tenant's name) made safe to set: NFC, no bidi
    controls, every other control, format or unassigned character and every one no font has
    as U+FFFD, at most ``MAX_MARKS`` combining marks per letter, at most ``MAX_CHARS`` long."""
    have: set[int] = set()
    for cmap in cmaps:
        have.update(cmap)
    out: list[str] = []
    marks = 0
    for char in unicodedata.normalize("NFC", text):
        if char in BIDI_CONTROLS:
            continue
        category = unicodedata.category(char)
        if category in ("Mn", "Me"):
            marks += 1
            if marks > MAX_MARKS:
                continue
        else:
            marks = 0
        if char in JOINERS:
            out.append(char)
        elif category[0] == "C" or category in ("Zl", "Zp") or ord(char) not in have:
            out.append(REPLACEMENT)
        else:
            out.append(char)
    shown = "".join(out)
    return shown if len(shown) <= MAX_CHARS else shown[: MAX_CHARS - 1] + "…"

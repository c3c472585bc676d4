"""The receipt's page: paragraphs set with fpdf2 and HarfBuzz, left to right or right to left.

Every paragraph is shaped (``set_text_shaping``), so Arabic letters join and a Latin word
kerns; its direction is the receipt's (``rtl`` for Arabic and Persian, right-aligned), and
fpdf2's Unicode bidi algorithm orders the runs inside it. A paragraph holding Arabic script is
set in Noto Sans Arabic with DejaVu as fallback for the Latin and Cyrillic in it, any other in
DejaVu with Noto Sans Arabic as fallback: an Arabic file name in a German receipt joins, a
Cyrillic one in an Arabic receipt is drawn. Values are fenced with
invisible direction marks (LRM, RLM) rather than Unicode isolates, whose right-to-left kind
fpdf2 2.8 misorders inside a left-to-right line: ``ltr`` values (BG-Nummer, submission number,
dates, counts) stay left to right inside an Arabic line, and text from outside (``outside``)
keeps its own direction without pulling the label or the byte count next to it across. A
character no font can draw is an error here (``ConfigError``; fpdf2 would leave a gap
silently): outside text comes through ``receipt_fonts.displayable`` first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.line_break import Fragment

from briefkasten import i18n
from briefkasten.errors import ConfigError
from briefkasten.gateway.receipt_fonts import displayable, has_arabic, receipt_fonts, uncovered

#: The invisible strong characters of each direction (LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK).
MARKS = {"ltr": "\u200e", "rtl": "\u200f"}
_MARK_SET = frozenset(MARKS.values())


def first_strong(text: str) -> str | None:
    """``ltr`` or ``rtl``: the direction of the first strong character of ``text`` (rule P2)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return None


def _families(text: str, *, mono: bool) -> tuple[str, str]:
    """The font a line is set in, and its fallback."""
    if has_arabic(text):
        return "arabic", "dejavu"
    return ("dejavumono" if mono else "dejavu"), "arabic"


class ReceiptLayout(FPDF):
    def __init__(self, *, rtl: bool) -> None:
        super().__init__(format="A4")
        self.rtl = rtl
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(True, margin=20)
        fonts = receipt_fonts()
        self.add_font("dejavu", "", str(fonts.regular))
        self.add_font("dejavu", "B", str(fonts.bold))
        self.add_font("dejavumono", "", str(fonts.mono))
        self.add_font("arabic", "", str(fonts.arabic))
        self.add_font("arabic", "B", str(fonts.arabic_bold))
        self.set_text_shaping(True, direction="rtl" if rtl else "ltr")

    @classmethod
    def started(cls, lang: str, title: str) -> ReceiptLayout:
        """A document in ``lang`` (its direction, metadata) on its first page, under the
        heading ``title``: how the receipt and the separator sheet begin."""
        pdf = cls(rtl=i18n.direction(lang) == "rtl")
        pdf.set_title(title)
        pdf.set_lang(lang)
        pdf.set_creator("Briefkasten")
        pdf.add_page()
        pdf.heading(title)
        return pdf

    def _preload_bidirectional_text(self, text: str, markdown: bool) -> Sequence[Fragment]:
        """fpdf2's runs in visual order, the direction marks taken out once they have done
        their work: drawn, they are zero-width glyphs that text extractors (Poppler) take for
        right-to-left letters, splitting ``Jobcenter`` into ``J`` and ``obcenter``."""
        fragments = super()._preload_bidirectional_text(text, markdown)
        kept = []
        for fragment in fragments:
            fragment.characters = [c for c in fragment.characters if c not in _MARK_SET]
            if fragment.characters:
                kept.append(fragment)
        return tuple(kept)

    def ltr(self, value: str) -> str:
        """``value`` (a number, id or date) as one left-to-right run, also in an ``rtl`` line."""
        mark = MARKS["ltr"]
        return f"{mark}{value}{mark}" if self.rtl else value

    def outside(self, text: str) -> str:
        """Text we did not write, cleaned (``displayable``), in its own direction inside,
        the line's outside: ``2026 Bescheid.pdf`` stays as it is in an Arabic line, and the
        byte count after an Arabic file name stays where it belongs in a German one."""
        clean = displayable(text, self._cmaps(("dejavu", "arabic")))
        own, line = first_strong(clean), ("rtl" if self.rtl else "ltr")
        if own in (None, line):
            return f"{MARKS[line]}{clean}{MARKS[line]}" if self.rtl else clean
        inner = f"{MARKS[own]}{clean}{MARKS[own]}"
        return f"{MARKS[line]}{inner}{MARKS[line]}"

    def _cmaps(self, keys: Iterable[str]) -> list[Iterable[int]]:
        return [self.fonts[key].cmap for key in keys]  # type: ignore[union-attr]

    def check(self, text: str, style: str = "") -> None:
        """``ConfigError`` naming the characters of ``text`` no receipt font has (a text of
        ours in a script the fonts lack: a translation the receipt cannot show)."""
        family, fallback = _families(text, mono=False)
        missing = uncovered(text, self._cmaps((family + style, fallback + style)))
        if missing:
            raise ConfigError(f"no receipt font has {', '.join(missing)}: receipt texts")

    def _write(self, text: str, size: float, style: str = "", mono: bool = False) -> None:
        family, fallback = _families(text, mono=mono)
        self.check(text, style)
        self.set_font(family, style, size)
        self.set_fallback_fonts([fallback])
        self.multi_cell(
            0,
            size * 0.5,
            text,
            align=Align.R if self.rtl else Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def heading(self, text: str) -> None:
        self._write(text, 18, "B")
        self.ln(3)

    def subheading(self, text: str) -> None:
        self._write(text, 12, "B")

    def field(self, name: str, value: str) -> None:
        """``name: value``; in an ``rtl`` receipt the name stands right, the value left of it."""
        self._write(f"{name}: {value}", 11)

    def line_of(self, text: str) -> None:
        self._write(text, 10.5)

    def mono(self, text: str) -> None:
        self._write(text, 8.5, mono=True)

    def small(self, text: str) -> None:
        self._write(text, 8.5)

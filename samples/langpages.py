"""Pages in the ten OCR languages: the documents of ``samples.langtexts`` drawn on an A4 page.

``render(lang, index, dpi=...)`` draws document ``index`` (0 certificate, 1 rent receipt,
2 letter) of language ``lang`` with a Debian font that has its glyphs (DejaVu for Latin and
Cyrillic, Noto Naskh / Noto Sans Arabic for Arabic script, shaped by Pillow's raqm layout):
left-aligned, or right-aligned and laid out right to left for Arabic and Persian. Long lines
are wrapped at word boundaries to the text width. Returns the page and its text in reading
(logical) order, one drawn line per line: the ground truth.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

from briefkasten.pipeline.languages import SCRIPTS
from samples.langtexts import DOCUMENTS

_FONTS = Path("/usr/share/fonts/truetype")
#: Fonts per script, chosen in turn by the document's index.
FONTS: dict[str, tuple[Path, ...]] = {
    "Latin": (_FONTS / "dejavu/DejaVuSans.ttf", _FONTS / "dejavu/DejaVuSerif.ttf"),
    "Cyrillic": (_FONTS / "dejavu/DejaVuSans.ttf", _FONTS / "dejavu/DejaVuSerif.ttf"),
    "Arabic": (
        _FONTS / "noto/NotoNaskhArabic-Regular.ttf",
        _FONTS / "noto/NotoSansArabic-Regular.ttf",
    ),
}
RTL = frozenset({"Arabic"})
_A4_MM = (210.0, 297.0)
_MARGIN_MM = 22.0
_POINTS = 12.0


def render(lang: str, index: int, *, dpi: int = 300) -> tuple[Image.Image, str]:
    """Document ``index`` of ``lang`` on a white A4 page at ``dpi``, and its text."""
    script = SCRIPTS[lang]
    if script in RTL and not features.check("raqm"):
        raise RuntimeError("Pillow was built without raqm: Arabic script cannot be shaped")
    fonts = FONTS[script]
    font = ImageFont.truetype(str(fonts[index % len(fonts)]), round(_POINTS / 72 * dpi))
    width, height = (round(mm / 25.4 * dpi) for mm in _A4_MM)
    margin = round(_MARGIN_MM / 25.4 * dpi)
    rtl = script in RTL
    direction, language = ("rtl", lang[:2]) if rtl else (None, None)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    lines: list[str] = []
    for paragraph in DOCUMENTS[lang][index].split("\n"):
        lines.extend(_wrap(draw, paragraph, font, width - 2 * margin, direction))
    step = round(font.size * 1.6)
    y = margin
    for line in lines:
        x, anchor = (width - margin, "rs") if rtl else (margin, "ls")
        draw.text(
            (x, y + font.size),
            line,
            fill=0,
            font=font,
            anchor=anchor,
            direction=direction,
            language=language,
        )
        y += step
    page.info["dpi"] = (dpi, dpi)
    return page, "\n".join(lines)


def _wrap(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont,
    width: int,
    direction: str | None,
) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` pixels."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and draw.textlength(candidate, font=font, direction=direction) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def kind(lang: str, index: int) -> str:
    """The sample kind of document ``index`` of ``lang`` (``lang-ukr-0``)."""
    return f"lang-{lang}-{index}"


def render_kind(name: str, *, dpi: int = 300) -> tuple[Image.Image, str, str]:
    """The page, its text and its language for a kind made by :func:`kind`."""
    _, lang, index = name.split("-")
    page, text = render(lang, int(index), dpi=dpi)
    return page.convert("RGB"), text, lang

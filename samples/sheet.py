"""A page to draw text on that remembers every line it drew: the known truth of a sample.

``Sheet`` lays out lines top to bottom on an A4 page in millimetres and points, like a word
processor would, and appends the text of each drawn line to ``sheet.lines``. Table rows are one
line of truth with their cells joined by a single space. Text columns (``samples.columns``) are
recorded column by column, the reading order; ``layout_truth`` gives the same lines as they sit
on the page (lines at one height side by side), what ``pdftotext -layout`` means to print.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

A4_MM = (210.0, 297.0)
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
)
#: Font family → (regular, bold) file names, from fonts-dejavu-core and fonts-liberation2.
FAMILIES: dict[str, tuple[str, str]] = {
    "DejaVuSans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    "DejaVuSerif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
    "DejaVuSansMono": ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"),
    "LiberationSans": ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    "LiberationSerif": ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"),
    "LiberationMono": ("LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf"),
}
MONO = ("DejaVuSansMono", "LiberationMono")

Cell = tuple[str, float, str]  # text, x in mm from the left edge, "left" | "right"


def _find(name: str) -> Path | None:
    for directory in FONT_DIRS:
        if (directory / name).is_file():
            return directory / name
    return None


def available_fonts() -> tuple[str, ...]:
    """The font families whose regular and bold files are installed, in a fixed order."""
    return tuple(f for f, files in FAMILIES.items() if all(_find(n) for n in files))


@cache
def _font(family: str, bold: bool, px: int) -> ImageFont.FreeTypeFont:
    path = _find(FAMILIES[family][1 if bold else 0])
    if path is None:
        raise RuntimeError(
            f"font {family} not found; install fonts-dejavu-core and fonts-liberation2"
        )
    return ImageFont.truetype(str(path), px)


class Sheet:
    """An A4 page at ``dpi`` with margins in mm; draws lines and records their text."""

    def __init__(
        self,
        *,
        dpi: int,
        family: str,
        margins: tuple[float, float, float, float] = (22.0, 18.0, 18.0, 18.0),
        ink: tuple[int, int, int] = (25, 25, 30),
        paper: tuple[int, int, int] = (255, 255, 255),
    ) -> None:
        self.dpi = dpi
        self.family = family
        self.ink = ink
        size = (round(A4_MM[0] / 25.4 * dpi), round(A4_MM[1] / 25.4 * dpi))
        self.image = Image.new("RGB", size, paper)
        self.draw = ImageDraw.Draw(self.image)
        left, top, right, bottom = margins
        self.left, self.right = self.px(left), size[0] - self.px(right)
        self.y = self.px(top)
        self.bottom = size[1] - self.px(bottom)
        self.lines: list[str] = []
        self.placed: list[tuple[int, int, str]] = []  # (y, x, text) of every recorded line

    def px(self, mm: float) -> int:
        return round(mm / 25.4 * self.dpi)

    def font(
        self, pt: float, bold: bool = False, family: str | None = None
    ) -> ImageFont.FreeTypeFont:
        return _font(family or self.family, bold, max(6, round(pt / 72 * self.dpi)))

    def line_height(self, pt: float, leading: float = 1.35) -> int:
        return round(pt / 72 * self.dpi * leading)

    @property
    def width_mm(self) -> float:
        return (self.right - self.left) / self.dpi * 25.4

    def room(self) -> int:
        """Pixels left above the bottom margin."""
        return self.bottom - self.y

    def space(self, mm: float) -> None:
        self.y += self.px(mm)

    def wrap(
        self,
        text: str,
        pt: float,
        *,
        bold: bool = False,
        indent_mm: float = 0.0,
        width_px: int | None = None,
    ) -> list[str]:
        """Greedy word wrap of ``text`` to ``width_px`` (default: the text width)."""
        font = self.font(pt, bold)
        width = self.right - self.left - self.px(indent_mm) if width_px is None else width_px
        lines: list[str] = []
        current = ""
        for word in text.split():
            trial = f"{current} {word}" if current else word
            if current and font.getlength(trial) > width:
                lines.append(current)
                current = word
            else:
                current = trial
        if current:
            lines.append(current)
        return lines

    def fits(self, n_lines: int, pt: float, leading: float = 1.35) -> bool:
        return n_lines * self.line_height(pt, leading) <= self.room()

    def text(
        self,
        text: str,
        pt: float,
        *,
        bold: bool = False,
        x_mm: float = 0.0,
        align: str = "left",
        color: tuple[int, int, int] | None = None,
        leading: float = 1.35,
        family: str | None = None,
    ) -> None:
        """Draw one line at the current position and record it."""
        font = self.font(pt, bold, family)
        x = self.left + self.px(x_mm)
        if align == "right":
            x = self.right - self.px(x_mm) - round(font.getlength(text))
        elif align == "center":
            x = (self.left + self.right - round(font.getlength(text))) // 2
        self.draw.text((x, self.y), text, font=font, fill=color or self.ink)
        self.record(x, text)
        self.y += self.line_height(pt, leading)

    def record(self, x: int, text: str) -> None:
        """Add ``text``, drawn at ``x`` pixels on the current line, to the truth."""
        self.lines.append(text)
        self.placed.append((self.y, x, text))

    def paragraph(
        self,
        text: str,
        pt: float,
        *,
        bold: bool = False,
        indent_mm: float = 0.0,
        after_mm: float = 2.5,
    ) -> bool:
        """Draw a wrapped paragraph if it fits completely; ``False`` (nothing drawn) if not."""
        lines = self.wrap(text, pt, bold=bold, indent_mm=indent_mm)
        if not self.fits(len(lines), pt):
            return False
        for line in lines:
            self.text(line, pt, bold=bold, x_mm=indent_mm)
        self.space(after_mm)
        return True

    def row(
        self, cells: list[Cell], pt: float, *, bold: bool = False, leading: float = 1.45
    ) -> None:
        """Draw table cells on one line; the truth is the non-empty cells joined by a space."""
        font = self.font(pt, bold)
        xs = []
        for text, x_mm, align in cells:
            x = self.left + self.px(x_mm)
            if align == "right":
                x -= round(font.getlength(text))
            self.draw.text((x, self.y), text, font=font, fill=self.ink)
            xs.append(x)
        self.record(min(xs, default=self.left), " ".join(t for t, _, _ in cells if t))
        self.y += self.line_height(pt, leading)

    def rule(
        self,
        *,
        width_px: int | None = None,
        color: tuple[int, int, int] | None = None,
        after_mm: float = 2.0,
    ) -> None:
        w = width_px or max(1, self.dpi // 150)
        self.draw.rectangle((self.left, self.y, self.right, self.y + w - 1), fill=color or self.ink)
        self.space(after_mm)

    def box(self, x_mm: float, w_mm: float, h_mm: float, *, line_px: int | None = None) -> None:
        """An empty rectangle (a form field) at the current line, not advancing."""
        x0 = self.left + self.px(x_mm)
        self.draw.rectangle(
            (x0, self.y, x0 + self.px(w_mm), self.y + self.px(h_mm)),
            outline=self.ink,
            width=line_px or max(2, self.dpi // 100),
        )

    def truth(self) -> str:
        return "\n".join(self.lines)

    def layout_truth(self) -> str:
        """The recorded lines top to bottom, those drawn at one height left to right on one
        line (three spaces apart): the page as ``pdftotext -layout`` prints it."""
        rows: dict[int, list[tuple[int, str]]] = {}
        for y, x, text in self.placed:
            rows.setdefault(y, []).append((x, text))
        return "\n".join("   ".join(t for _, t in sorted(rows[y])) for y in sorted(rows))

    def finish(self) -> tuple[Image.Image, str]:
        self.image.info["dpi"] = (self.dpi, self.dpi)
        return self.image, self.truth()

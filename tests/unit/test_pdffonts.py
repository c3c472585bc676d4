"""Unembedded fonts of a born-digital page: the Liberation substitute (fontmap) and what the
rebuilt page holds after ``pdffonts.embed_fonts`` (through ``pdfclean.sanitise_page``)."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from fontTools.ttLib import TTFont
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pikepdf import Array, Dictionary, Name, Stream

from briefkasten.pipeline import fontmap
from briefkasten.pipeline.pdfclean import PageLimits, Sanitised, sanitise_page
from briefkasten.pipeline.pdffonts import MAX_FONTS
from tests.support import vectorpages

LIMITS = PageLimits(max_pixels=1_000_000, max_stream_bytes=1 << 20, max_page_stream_bytes=2 << 20)
TEXT = "Grüße: 12,50 € für Äpfel".encode("cp1252")


@pytest.mark.parametrize(
    ("name", "face"),
    [
        ("Helvetica", "LiberationSans-Regular"),
        ("Helvetica-Bold", "LiberationSans-Bold"),
        ("Helvetica-Oblique", "LiberationSans-Italic"),
        ("Helvetica-BoldOblique", "LiberationSans-BoldItalic"),
        ("ABCDEF+Helvetica-Bold", "LiberationSans-Bold"),
        ("Arial", "LiberationSans-Regular"),
        ("ArialMT", "LiberationSans-Regular"),
        ("Arial,Bold", "LiberationSans-Bold"),
        ("Arial-BoldMT", "LiberationSans-Bold"),
        ("Arial-ItalicMT", "LiberationSans-Italic"),
        ("Arial,BoldItalic", "LiberationSans-BoldItalic"),
        ("Times-Roman", "LiberationSerif-Regular"),
        ("Times-BoldItalic", "LiberationSerif-BoldItalic"),
        ("TimesNewRoman", "LiberationSerif-Regular"),
        ("TimesNewRomanPSMT", "LiberationSerif-Regular"),
        ("TimesNewRomanPS-BoldMT", "LiberationSerif-Bold"),
        ("TimesNewRomanPS-BoldItalicMT", "LiberationSerif-BoldItalic"),
        ("Times New Roman,Italic", "LiberationSerif-Italic"),
        ("Courier", "LiberationMono-Regular"),
        ("Courier-Oblique", "LiberationMono-Italic"),
        ("CourierNewPSMT", "LiberationMono-Regular"),
        ("CourierNewPS-BoldMT", "LiberationMono-Bold"),
        ("LiberationSans-Bold", "LiberationSans-Bold"),
    ],
)
def test_metric_compatible_names_map_to_their_liberation_face(name: str, face: str) -> None:
    assert fontmap.substitute(name) == face
    assert fontmap.face_path(face) is not None, "make setup installs fonts-liberation2"


@pytest.mark.parametrize(
    "name",
    [
        "Symbol",
        "ZapfDingbats",
        "Arial-Black",
        "ArialNarrow",
        "Arial-Light",
        "HelveticaNeue",
        "Helvetica-Condensed",
        "Verdana",
        "Wingdings",
        "",
        "Arial" + "x" * 10_000,
        "Arial\x00",
        "Arial-" + "Bold" * 40,
    ],
)
def test_other_names_have_no_substitute(name: str) -> None:
    assert fontmap.substitute(name) is None


def test_descriptor_style_counts_only_when_the_name_has_none() -> None:
    assert fontmap.substitute("Arial", bold=True) == "LiberationSans-Bold"
    assert fontmap.substitute("Arial", bold=True, italic=True) == "LiberationSans-BoldItalic"
    assert fontmap.substitute("Arial,Italic", bold=True) == "LiberationSans-Italic"


def test_codes_read_through_the_base_encodings_and_glyph_names() -> None:
    assert fontmap.base_unicode("/WinAnsiEncoding", 0x80) == "€"
    assert fontmap.base_unicode("/WinAnsiEncoding", 0xE4) == "ä"
    assert fontmap.base_unicode("/WinAnsiEncoding", 0x81) == "\u2022"  # unused: a bullet
    assert fontmap.base_unicode("/WinAnsiEncoding", 0x0A) is None
    assert fontmap.base_unicode("/MacRomanEncoding", 0x8A) == "ä"
    assert fontmap.base_unicode("/StandardEncoding", 0x27) == "\u2019"  # quoteright
    assert fontmap.base_unicode("/StandardEncoding", 0xFB) == "ß"
    assert fontmap.base_unicode("/MacExpertEncoding", 0x41) is None
    assert fontmap.base_unicode("/WinAnsiEncoding", 300) is None
    assert fontmap.glyph_unicode("uni20AC") == "€"
    assert fontmap.glyph_unicode("germandbls") == "ß"
    assert fontmap.glyph_unicode(".notdef") is None
    assert fontmap.glyph_unicode("f_f_i") is None  # a ligature: more than one character
    assert fontmap.standard_width("Helvetica", "µ") == 556.0
    assert fontmap.standard_width("ArialMT", "a") is None


def rebuild(tmp_path: Path, font: Dictionary, text: bytes = TEXT) -> tuple[Sanitised, Path]:
    source = vectorpages.raw_font_pdf(tmp_path / "in.pdf", font, text)
    out = tmp_path / "out.pdf"
    return sanitise_page(source, out, LIMITS), out


def embedded(out: Path) -> tuple[dict[str, object], TTFont]:
    """The rebuilt page's font F1 (keys as Python values) and its font program."""
    with pikepdf.open(out) as pdf:
        font = pdf.pages[0].Resources.Font.F1
        program = TTFont(io.BytesIO(font.FontDescriptor.FontFile2.read_bytes()))
        keys: dict[str, object] = {
            "BaseFont": str(font.BaseFont),
            "Subtype": str(font.Subtype),
            "Encoding": str(font.get("/Encoding", "")),
            "FirstChar": int(font.FirstChar),
            "Widths": [float(w) for w in font.Widths],
            "Flags": int(font.FontDescriptor.Flags),
            "ToUnicode": font.ToUnicode.read_bytes(),
        }
    return keys, program


def standard(base: str, **extra: object) -> Dictionary:
    font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name("/" + base))
    font.update({f"/{k}": v for k, v in extra.items()})
    return font


def test_standard_font_gets_a_subset_with_the_afm_widths(tmp_path: Path) -> None:
    result, out = rebuild(tmp_path, standard("Helvetica-Bold", Encoding=Name.WinAnsiEncoding))
    assert result.unsafe is None
    assert result.fonts == ("Helvetica-Bold→LiberationSans-Bold",)
    font, program = embedded(out)
    assert str(font["BaseFont"]).endswith("+LiberationSans-Bold")
    assert font["Subtype"] == "/TrueType" and font["Encoding"] == "/WinAnsiEncoding"
    assert font["Flags"] & 32 and not font["Flags"] & 4  # non-symbolic
    first = int(font["FirstChar"])  # type: ignore[call-overload]
    widths = font["Widths"]
    assert isinstance(widths, list)
    scale = 1000 / program["head"].unitsPerEm
    cmap = program.getBestCmap()
    for code in set(TEXT):
        char = bytes([code]).decode("cp1252")
        afm = fontmap.standard_width("Helvetica-Bold", char)
        assert widths[code - first] == afm
        assert abs(program["hmtx"][cmap[ord(char)]][0] * scale - afm) <= 0.5  # type: ignore[operator]
    assert len(program.getGlyphOrder()) < 40  # a subset, not the whole face
    assert b"<80> <20AC>" in font["ToUnicode"]  # type: ignore[operator]


def test_widths_of_the_file_are_kept_and_the_program_follows_them(tmp_path: Path) -> None:
    font = vectorpages.arial_font()
    font.Widths = Array([700] * 224)  # not Arial's: what the page draws with all the same
    result, out = rebuild(tmp_path, font)
    assert result.unsafe is None and result.fonts == ("ArialMT→LiberationSans-Regular",)
    keys, program = embedded(out)
    first = int(keys["FirstChar"])  # type: ignore[call-overload]
    cmap = program.getBestCmap()
    for code in set(TEXT):
        assert keys["Widths"][code - first] == 700  # type: ignore[index]
        glyph = cmap[ord(bytes([code]).decode("cp1252"))]
        assert program["hmtx"][glyph][0] == round(700 * program["head"].unitsPerEm / 1000)


def test_differences_that_are_not_winansi_make_a_symbolic_font(tmp_path: Path) -> None:
    encoding = Dictionary(
        BaseEncoding=Name.WinAnsiEncoding, Differences=Array([65, Name.Euro, Name.adieresis])
    )
    result, out = rebuild(tmp_path, standard("Times-Roman", Encoding=encoding), b"ABC")
    assert result.unsafe is None
    keys, program = embedded(out)
    assert keys["Encoding"] == "" and keys["Flags"] & 4 and not keys["Flags"] & 32  # type: ignore[operator]
    (table,) = program["cmap"].tables
    assert (table.platformID, table.platEncID) == (3, 0)
    assert table.cmap == {0xF041: "Euro", 0xF042: "adieresis", 0xF043: "C"}
    assert b"<41> <20AC>" in keys["ToUnicode"] and b"<42> <00E4>" in keys["ToUnicode"]  # type: ignore[operator]


def test_codes_shown_in_forms_and_after_restore_are_counted(tmp_path: Path) -> None:
    """The font set before ``q`` is in force after ``Q`` and inside a form drawn by ``Do``."""

    def build(pdf: pikepdf.Pdf) -> Stream:
        return vectorpages.form(pdf, b"BT (xyz) Tj ET")

    source = vectorpages.raw_font_pdf(tmp_path / "a.pdf", standard("Courier"), b"abc")
    content = b"BT /F1 9 Tf ET q /F2 9 Tf Q BT (ABC) Tj ET /Fx Do"
    extra = {"/XObject": {"/Fx": build}, "/Font": {"/F2": lambda pdf: standard("Times-Roman")}}
    drawn = vectorpages.with_drawing(source, tmp_path / "b.pdf", content, extra)
    result = sanitise_page(drawn, tmp_path / "out.pdf", LIMITS)
    assert result.unsafe is None
    assert set(result.fonts) == {
        "Courier→LiberationMono-Regular",
        "Times-Roman→LiberationSerif-Regular",
    }
    _, program = embedded(tmp_path / "out.pdf")
    assert {"a", "b", "c", "A", "B", "C", "x", "y", "z"} <= set(program.getGlyphOrder())


def test_an_existing_to_unicode_map_is_kept(tmp_path: Path) -> None:
    def font(pdf: pikepdf.Pdf) -> Dictionary:
        cmap = Stream(pdf, b"% the file's own map")
        return standard("Helvetica", Encoding=Name.WinAnsiEncoding, ToUnicode=cmap)

    source = vectorpages.raw_font_pdf(tmp_path / "in.pdf", font, TEXT)
    result = sanitise_page(source, out := tmp_path / "out.pdf", LIMITS)
    assert result.unsafe is None
    assert embedded(out)[0]["ToUnicode"] == b"% the file's own map"


@pytest.mark.parametrize(
    ("font", "reason"),
    [
        (standard("Symbol"), "no substitute"),
        (standard("ZapfDingbats"), "no substitute"),
        (standard("Arial" + "x" * 10_000), "no substitute"),
        (standard("Helvetica", Encoding=Name.MacExpertEncoding), "unsupported"),
        (standard("Helvetica", Encoding=Dictionary(Differences=Array([65] * 100_000))), "entries"),
        (standard("Helvetica", FirstChar=-5, Widths=Array([500] * 300)), "/FirstChar"),
        (standard("Helvetica", FirstChar=10**12, Widths=Array([500])), "/FirstChar"),
        (standard("Helvetica", FirstChar=32, Widths=Array([10**9] * 224)), "width"),
        (standard("Helvetica", FirstChar=32, Widths=Array([-300] * 224)), "width"),
        (standard("Helvetica", FirstChar=32, Widths=Array([Name.x] * 224)), "width"),
        (
            standard("Helvetica", Encoding=Dictionary(Differences=Array([65, Name.g123]))),
            "no known",
        ),
        (
            standard("Arial", FontDescriptor=Dictionary(Type=Name.FontDescriptor, Flags=4)),
            "symbolic",
        ),
        (
            Dictionary(
                Type=Name.Font,
                Subtype=Name.Type0,
                BaseFont=Name.MSGothic,
                Encoding=Name("/Identity-H"),
                DescendantFonts=Array(
                    [Dictionary(Type=Name.Font, Subtype=Name.CIDFontType2, BaseFont=Name.MSGothic)]
                ),
            ),
            "composite",
        ),
    ],
)
def test_fonts_that_cannot_be_substituted_safely_rasterise(
    tmp_path: Path, font: Dictionary, reason: str
) -> None:
    result, _ = rebuild(tmp_path, font, b"ABCD")
    assert result.unsafe is not None and reason in result.unsafe
    assert len(result.unsafe) < 120  # a 10 KB name is not repeated


def test_hostile_but_harmless_values_are_bounded(tmp_path: Path) -> None:
    """A /Widths of 100 000 entries and a /LastChar of 10^12: only the shown codes count."""
    widths = Array([600] * 100_000)
    font = standard("Helvetica", Encoding=Name.WinAnsiEncoding, FirstChar=0, LastChar=10**12)
    font.Widths = widths
    result, out = rebuild(tmp_path, font)
    assert result.unsafe is None
    keys, _ = embedded(out)
    widths = keys["Widths"]
    assert isinstance(widths, list) and len(widths) <= 256


def test_missing_liberation_fonts_rasterise_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fontmap, "FONT_DIRS", (tmp_path / "nothing",))
    result, _ = rebuild(tmp_path, standard("Helvetica"))
    assert result.unsafe is not None and "fonts-liberation2" in result.unsafe


def test_a_page_with_too_many_fonts_to_embed_rasterises(tmp_path: Path) -> None:
    def font(pdf: pikepdf.Pdf) -> Dictionary:
        return standard("Helvetica")

    fonts = {f"/H{i}": font for i in range(MAX_FONTS)}  # with F1: one too many
    source = vectorpages.raw_font_pdf(tmp_path / "a.pdf", standard("Courier"), b"abc")
    many = vectorpages.with_drawing(source, tmp_path / "b.pdf", b"", {"/Font": fonts})
    result = sanitise_page(many, tmp_path / "out.pdf", LIMITS)
    assert result.unsafe is not None and "fonts to embed" in result.unsafe


_VALUES = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(-1e9, 1e9, allow_nan=False),
    st.sampled_from([Name.x, Name.WinAnsiEncoding, Name.Euro, Name("/.notdef")]),
)
_BASE_FONTS = st.one_of(
    st.sampled_from(["Helvetica", "Arial,Bold", "TimesNewRomanPS-ItalicMT", "Courier", "Symbol"]),
    st.text(max_size=300),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    base=_BASE_FONTS,
    first=_VALUES,
    last=_VALUES,
    widths=st.lists(_VALUES, max_size=300),
    differences=st.lists(_VALUES, max_size=300),
    flags=_VALUES,
    text=st.binary(min_size=1, max_size=200),
)
def test_any_simple_font_dictionary_is_embedded_or_rasterised_never_a_crash(
    tmp_path: Path,
    base: str,
    first: object,
    last: object,
    widths: list[object],
    differences: list[object],
    flags: object,
    text: bytes,
) -> None:
    font = standard("Helvetica", FirstChar=first, LastChar=last, Widths=Array(widths))
    font.BaseFont = Name(
        "/" + "".join(c for c in base if c.isprintable() and c not in "/ ") or "/x"
    )
    font.Encoding = Dictionary(BaseEncoding=Name.WinAnsiEncoding, Differences=Array(differences))
    font.FontDescriptor = Dictionary(Type=Name.FontDescriptor, Flags=flags)
    result, out = rebuild(tmp_path, font, text)
    if result.unsafe is None:  # embedded: a font program with every shown code's glyph
        keys, program = embedded(out)
        assert str(keys["BaseFont"]).split("+")[1].startswith("Liberation")
        assert len(program.getGlyphOrder()) <= len(set(text)) + 8


def test_a_glyph_shown_by_two_codes_at_two_widths_is_copied(tmp_path: Path) -> None:
    """WinAnsi's unused codes are all bullets; drawn 350 and 600 wide, each keeps its width."""
    widths = [500] * 224
    widths[0x95 - 32], widths[0x81 - 32] = 350, 600
    font = standard("Helvetica", Encoding=Name.WinAnsiEncoding, FirstChar=32)
    font.Widths = Array(widths)
    result, out = rebuild(tmp_path, font, b"\x95\x81 ab")
    assert result.unsafe is None
    keys, program = embedded(out)
    assert keys["Encoding"] == "" and keys["Flags"] & 4  # type: ignore[operator]
    (table,) = program["cmap"].tables
    narrow, wide = table.cmap[0xF095], table.cmap[0xF081]
    assert {narrow, wide} == {"bullet", "bullet.w717"}  # the first code seen keeps the original
    assert {narrow, wide} <= set(program.getGlyphOrder())
    units = program["head"].unitsPerEm
    assert program["hmtx"][narrow][0] == round(350 * units / 1000) == 717
    assert program["hmtx"][wide][0] == round(600 * units / 1000)
    assert program["glyf"][narrow].numberOfContours == program["glyf"][wide].numberOfContours


def test_ligatures_and_soft_hyphens_extract_as_readers_took_them_before(tmp_path: Path) -> None:
    """Standard encoding's fi/fl (0xAE/0xAF) read as letters; WinAnsi's 0xAD as a hyphen."""
    result, out = rebuild(tmp_path, standard("Times-Roman"), b"\xae\xaf ab")
    assert result.unsafe is None
    assert b"<AE> <00660069>" in embedded(out)[0]["ToUnicode"]  # type: ignore[operator]
    assert b"<AF> <0066006C>" in embedded(out)[0]["ToUnicode"]  # type: ignore[operator]
    result, out = rebuild(tmp_path, standard("Arial", Encoding=Name.WinAnsiEncoding), b"\xad ab")
    assert result.unsafe is None
    assert b"<AD> <002D>" in embedded(out)[0]["ToUnicode"]  # type: ignore[operator]

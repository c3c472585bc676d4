"""Every kind of PDF we hand out is PDF/A-2u, as Apache PDFBox Preflight sees it.

Preflight (``tests/support/preflight.py``) knows PDF/A-1b only: a PDF/A-2u file may get the two
errors for its claim (part 2, level U) and no other; the same file claiming part 1, level B
must get none at all (so PDF/A-1's colour, font and transparency rules hold too). Kinds: a
photo (raster page with the OCR text layer), a born-digital PDF page, a mixed document, a
multi-page TIFF and the applicant's receipt. Plus the structure itself (header, ``/ID``, the
XMP claim, the ICC version of the output intent), read back with pikepdf.
"""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest

from briefkasten import ingest
from briefkasten.config import Settings
from briefkasten.gateway.receipt import receipt_pdf
from briefkasten.model import DocumentRequest, ReceivedFile, Submission
from briefkasten.pipeline import fontmap
from briefkasten.pipeline.gstates import transparency
from tests.support import factories, preflight, vectorpages
from tests.support.env import need


@pytest.fixture(autouse=True)
def _preflight_installed() -> None:
    need(preflight.available(), preflight.REASON)


def assert_pdfa_2u(pdf: Path, scratch: Path) -> None:
    assert preflight.archival_errors(pdf) == []
    assert preflight.as_part_1_errors(pdf, scratch) == []
    assert pdf.read_bytes().startswith(b"%PDF-1.7\n")
    with pikepdf.open(pdf) as doc:
        first, second = doc.trailer.ID
        assert len(bytes(first)) == 16 and len(bytes(second)) == 16
        with doc.open_metadata() as xmp:
            assert xmp["pdfaid:part"] == "2"
            assert xmp["pdfaid:conformance"] == "U"
            assert xmp["dc:title"] == str(doc.docinfo["/Title"])
        (intent,) = doc.Root.OutputIntents
        assert intent.S == pikepdf.Name.GTS_PDFA1
        profile = intent.DestOutputProfile.read_bytes()
        assert profile[8] == 2 and profile[16:20] == b"RGB "  # ICC version 2, an RGB profile
        for page in doc.pages:
            assert "/Group" not in page.obj
        assert fonts(doc), "every test document has text, so fonts"
        for font in fonts(doc):  # PDF/A-2u: every composite or Type 3 font maps to Unicode
            if font.get("/Subtype") in (pikepdf.Name.Type0, pikepdf.Name.Type3):
                assert "/ToUnicode" in font, font.get("/BaseFont")
        filters = stream_filters(doc)
        assert not filters & {"/JBIG2Decode", "/LZWDecode"}, filters


def fonts(doc: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    return [
        obj
        for obj in doc.objects
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == pikepdf.Name.Font
    ]


def stream_filters(doc: pikepdf.Pdf) -> set[str]:
    found: set[str] = set()
    for obj in doc.objects:
        if isinstance(obj, pikepdf.Stream) and "/Filter" in obj:
            chain = obj.Filter
            found |= {str(f) for f in (chain if isinstance(chain, pikepdf.Array) else [chain])}
    return found


def test_photo_document_is_pdfa_2u(tmp_path: Path, settings: Settings) -> None:
    photo = factories.text_page().rotate(3, expand=True, fillcolor="white")
    source = factories.jpeg_with_gps(tmp_path / "photo.jpg", photo)
    result = ingest([source], tmp_path / "out.pdf", settings=settings, title="Mietvertrag")
    assert result.pages[0].kind == "raster"
    assert_pdfa_2u(tmp_path / "out.pdf", tmp_path)


def test_born_digital_document_is_pdfa_2u(tmp_path: Path, settings: Settings) -> None:
    source = factories.born_digital_pdf(tmp_path / "digital.pdf")
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    assert result.pages[0].kind == "vector"
    assert_pdfa_2u(tmp_path / "out.pdf", tmp_path)


def test_mixed_document_is_pdfa_2u(tmp_path: Path, settings: Settings) -> None:
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    scanned = factories.scanned_pdf(tmp_path / "scanned.pdf")
    mixed = factories.merged_pdf(tmp_path / "mixed.pdf", digital, scanned)
    png = tmp_path / "page.png"
    factories.text_page(("Anlage", "Übersicht")).save(png, dpi=(150, 150))
    result = ingest([mixed, png], tmp_path / "out.pdf", settings=settings)
    assert {p.kind for p in result.pages} == {"vector", "raster"}
    assert_pdfa_2u(tmp_path / "out.pdf", tmp_path)


def test_multi_page_tiff_document_is_pdfa_2u(tmp_path: Path, settings: Settings) -> None:
    first = factories.text_page(("Erste Seite", "Übersicht"), mode="L")
    second = factories.text_page(("Zweite Seite", "Gebühren"), mode="1")
    tiff = tmp_path / "scan.tif"
    first.save(tiff, save_all=True, append_images=[second], dpi=(150, 150), compression="tiff_lzw")
    result = ingest([tiff], tmp_path / "out.pdf", settings=settings)
    assert len(result.pages) == 2
    assert_pdfa_2u(tmp_path / "out.pdf", tmp_path)


@pytest.mark.parametrize("lang", ["de", "en", "uk", "ar", "fa"])
def test_receipt_is_pdfa_2u(tmp_path: Path, lang: str) -> None:
    """Latin, Cyrillic and shaped Arabic script, file names in all three in every receipt."""
    files = (
        ReceivedFile("f1", "Kontoauszug März.pdf", "k1", "a" * 64, 1234, "application/pdf", 2),
        ReceivedFile("f2", "Foto •1.jpg", "k2", "b" * 64, 56789, "image/jpeg", 1),
        ReceivedFile("f3", "Довідка.pdf", "k3", "c" * 64, 999, "application/pdf", 1),
        ReceivedFile("f4", "عقد الإيجار.pdf", "k4", "d" * 64, 4321, "application/pdf", 1),
    )
    submission = Submission(
        "s1",
        "demo",
        "12345BG0012345",
        "2026-11-24T10:00:00+00:00",
        "upload",
        (DocumentRequest("d1", "kontoauszug", files),),
    )
    path = tmp_path / f"receipt-{lang}.pdf"
    path.write_bytes(receipt_pdf(submission, "Jobcenter Test", lang=lang, mask_case=True))
    assert_pdfa_2u(path, tmp_path)
    with pikepdf.open(path) as doc:
        assert str(doc.docinfo["/CreationDate"]) == "D:20261124100000Z"
        names = {str(font.BaseFont).split("+", 1)[1] for font in fonts(doc)}
        assert {"DejaVuSansBook", "NotoSansArabic"} <= names  # both embedded as subsets


# -- born-digital pages that are not PDF/A as they come ------------------------------------------

LIBERATION = tuple(
    f"Liberation{kind}-{face}"
    for kind in ("Sans", "Serif", "Mono")
    for face in ("Regular", "Bold", "Italic", "BoldItalic")
)


def pdftotext(pdf: Path, *options: str) -> str:
    done = subprocess.run(
        ["pdftotext", *options, str(pdf), "-"], capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode("utf-8")


def word_boxes(pdf: Path) -> list[tuple[str, float, float, float]]:
    """Each word ``pdftotext -bbox`` finds: text, left and right edge, vertical middle."""
    found = []
    for match in WORD.finditer(pdftotext(pdf, "-bbox")):
        x0, y0, x1, y1 = (float(v) for v in match.group(1, 2, 3, 4))
        found.append((html.unescape(match.group(5)), x0, x1, (y0 + y1) / 2))
    return found


WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def assert_same_text_and_places(source: Path, out: Path) -> None:
    """The copy reads as the source and every word stands where it stood (x within 0.05 pt:
    the widths are kept; y within 2 pt: the ascent of the substitute may differ)."""
    assert pdftotext(out) == pdftotext(source)
    before, after = word_boxes(source), word_boxes(out)
    assert [w[0] for w in after] == [w[0] for w in before] and before
    for (word, *was), (_, *now) in zip(before, after, strict=True):
        assert abs(now[0] - was[0]) <= 0.05 and abs(now[1] - was[1]) <= 0.05, word
        assert abs(now[2] - was[2]) <= 2.0, word


def test_unembedded_core_fonts_are_embedded_and_pdfa_2u(tmp_path: Path, settings: Settings) -> None:
    source = vectorpages.core_fonts_pdf(tmp_path / "core.pdf")
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    (page,) = result.pages
    assert page.kind == "vector" and page.flags == ()
    sanitize = page.history[0]
    assert sanitize.step == "sanitize"
    assert sorted(f.split("→")[1] for f in sanitize.detail.split(": ")[-1].split(", ")) == sorted(
        LIBERATION
    )
    assert_pdfa_2u(tmp_path / "out.pdf", tmp_path)
    assert_same_text_and_places(source, tmp_path / "out.pdf")
    assert pdftotext(tmp_path / "out.pdf").count(vectorpages.CORE_LINE) == 12


@pytest.mark.parametrize("bold", [False, True])
def test_unembedded_truetype_arial_is_embedded_and_pdfa_2u(
    tmp_path: Path, settings: Settings, bold: bool
) -> None:
    lines = ("Grüße aus Köln: 12,50 € für Äpfel", "Maß ± 0,5 µm · 3 ÷ 4 – „Zitat“")
    encoded = [line.encode("cp1252") for line in lines]
    source = vectorpages.raw_font_pdf(
        tmp_path / "arial.pdf", vectorpages.arial_font(bold), encoded[0], encoded[1:]
    )
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    (page,) = result.pages
    face = "LiberationSans-Bold" if bold else "LiberationSans-Regular"
    assert page.kind == "vector" and f"→{face}" in page.history[0].detail
    assert_pdfa_2u(tmp_path / "out.pdf", tmp_path)
    assert_same_text_and_places(source, tmp_path / "out.pdf")
    assert pdftotext(tmp_path / "out.pdf").split("\n")[:2] == list(lines)


@pytest.mark.parametrize(
    ("kind", "encoding"),
    [
        ("Times-Roman", "/WinAnsiEncoding"),
        ("Arial", "/WinAnsiEncoding"),
        ("Helvetica", "/MacRomanEncoding"),
    ],
)
def test_every_code_of_a_base_encoding_is_embedded_and_pdfa_2u(
    tmp_path: Path, settings: Settings, kind: str, encoding: str
) -> None:
    """All 224 codes of WinAnsi (the unused ones are bullets) in a standard-14 Times without
    widths and in a TrueType Arial with them; the 208 of Mac Roman in Helvetica."""
    codes = bytes(c for c in range(32, 256) if fontmap.base_unicode(encoding, c) is not None)
    lines = [codes[i : i + 56] for i in range(0, len(codes), 56)]
    font = (
        vectorpages.arial_font()
        if kind == "Arial"
        else pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name("/" + kind),
            Encoding=pikepdf.Name(encoding),
        )
    )
    source = vectorpages.raw_font_pdf(tmp_path / "all.pdf", font, lines[0], lines[1:])
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    assert result.pages[0].kind == "vector"
    assert_pdfa_2u(tmp_path / "out.pdf", tmp_path)
    assert_same_text_and_places(source, tmp_path / "out.pdf")


def test_a_differences_encoding_becomes_a_symbolic_font_and_pdfa_2u(
    tmp_path: Path, settings: Settings
) -> None:
    encoding = pikepdf.Dictionary(
        Type=pikepdf.Name.Encoding,
        BaseEncoding=pikepdf.Name.WinAnsiEncoding,
        Differences=pikepdf.Array([1, pikepdf.Name.Euro, pikepdf.Name.germandbls]),
    )
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.Type1,
        BaseFont=pikepdf.Name("/Times-Bold"),
        Encoding=encoding,
    )
    text = b"Stra\x02e und Geb\xfchren: 12 \x01, ein Brief vom Amt"
    source = vectorpages.raw_font_pdf(tmp_path / "diff.pdf", font, text)
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    assert result.pages[0].kind == "vector"
    assert_pdfa_2u(tmp_path / "out.pdf", tmp_path)
    assert_same_text_and_places(source, tmp_path / "out.pdf")
    assert pdftotext(tmp_path / "out.pdf").startswith("Straße und Gebühren: 12 €, ein Brief")


def _soft_masked(pdf: pikepdf.Pdf) -> pikepdf.Object:
    return vectorpages.image(pdf, SMask=vectorpages.image(pdf))


def _half_alpha(pdf: pikepdf.Pdf) -> pikepdf.Object:
    return pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=0.5, CA=0.5)


def _half_alpha_form(pdf: pikepdf.Pdf) -> pikepdf.Object:
    """A form that selects a ``ca 0.5`` state of its own resources (the page selects none)."""
    own = pikepdf.Dictionary(ExtGState=pikepdf.Dictionary(G9=_half_alpha(pdf)))
    return vectorpages.form(pdf, b"q /G9 gs 1 0 0 rg 0 0 80 80 re f Q", Resources=own)


@pytest.mark.parametrize(
    ("content", "resources", "reason"),
    [
        (b"q 80 0 0 80 400 700 cm /Im9 Do Q", {"/XObject": {"/Im9": _soft_masked}}, "soft mask"),
        (b"q /G9 gs 1 0 0 rg 400 700 80 80 re f Q", {"/ExtGState": {"/G9": _half_alpha}}, "alpha"),
        (
            b"q 1 0 0 1 400 700 cm /Fm9 Do Q",
            {"/XObject": {"/Fm9": _half_alpha_form}, "/ExtGState": {"/G9": _half_alpha}},
            "alpha",
        ),
    ],
    ids=["soft-masked-image", "alpha-0.5", "alpha-0.5-in-a-form"],
)
def test_a_page_with_transparency_is_rasterised_with_ocr_and_pdfa_2u(
    tmp_path: Path, settings: Settings, content: bytes, resources: dict, reason: str
) -> None:
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    source = vectorpages.with_drawing(digital, tmp_path / "transparent.pdf", content, resources)
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    (page,) = result.pages
    assert page.kind == "raster" and "rasterised_unsafe_content" in page.flags
    first = page.history[0]
    assert first.step == "sanitize" and first.detail.startswith("rasterised:")
    assert reason in first.detail and "transparency" in first.detail
    assert any(step.step == "ocr" for step in page.history)
    assert "Kontoauszüge" in page.text  # the OCR text layer
    assert "Kontoauszüge" in pdftotext(tmp_path / "out.pdf")
    assert_pdfa_2u(tmp_path / "out.pdf", tmp_path)


def test_a_transparent_state_nothing_selects_is_dropped_and_the_page_stays_vector(
    tmp_path: Path, settings: Settings
) -> None:
    """Word, LibreOffice and browsers list ``ca < 1`` states that no content selects: the page
    keeps its vectors and text (no OCR), the state is left out, the file is PDF/A-2u."""
    content = b"q 1 0 0 rg 400 700 80 80 re f Q"
    resources = {"/ExtGState": {"/G9": _half_alpha}}
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    source = vectorpages.with_drawing(digital, tmp_path / "listed.pdf", content, resources)
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    (page,) = result.pages
    assert page.kind == "vector" and page.flags == ()
    assert page.history[0].step == "sanitize" and "/ExtGStateUnused" in page.history[0].detail
    assert not any(step.step == "ocr" for step in page.history)
    assert pdftotext(tmp_path / "out.pdf") == pdftotext(source)
    with pikepdf.open(tmp_path / "out.pdf") as doc:
        dictionaries = [obj for obj in doc.objects if isinstance(obj, pikepdf.Dictionary)]
        assert dictionaries and all(transparency(obj) is None for obj in dictionaries)
    assert_pdfa_2u(tmp_path / "out.pdf", tmp_path)


def test_a_form_group_and_a_stencil_mask_stay_vectors_and_pdfa_2u(
    tmp_path: Path, settings: Settings
) -> None:
    def grouped(pdf: pikepdf.Pdf) -> pikepdf.Object:
        group = pikepdf.Dictionary(S=pikepdf.Name.Transparency, CS=pikepdf.Name.DeviceRGB)
        return vectorpages.form(pdf, b"0 0 1 rg 0 0 50 50 re f", Group=group)

    def masked(pdf: pikepdf.Pdf) -> pikepdf.Object:
        return vectorpages.image(pdf, Mask=vectorpages.stencil(pdf), Interpolate=True)

    content = b"q 1 0 0 1 400 700 cm /Fm9 Do Q q 80 0 0 80 400 600 cm /Im9 Do Q"
    resources = {"/XObject": {"/Fm9": grouped, "/Im9": masked}}
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    source = vectorpages.with_drawing(digital, tmp_path / "drawn.pdf", content, resources)
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    (page,) = result.pages
    assert page.kind == "vector"
    assert "/Group" in page.history[0].detail and "/Interpolate" in page.history[0].detail
    assert_pdfa_2u(tmp_path / "out.pdf", tmp_path)


def test_a_font_that_cannot_be_substituted_rasterises_the_page_and_pdfa_2u(
    tmp_path: Path, settings: Settings
) -> None:
    """A BaseFont of 10 KB (no family we know): rasterised, with OCR, never a crash."""
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.TrueType,
        BaseFont=pikepdf.Name("/Arial" + "X" * 10_000),
        Encoding=pikepdf.Name.WinAnsiEncoding,
    )
    lines = [b"Kontoauszug vom Amt", b"Bitte reichen Sie die Unterlagen ein"]
    source = vectorpages.raw_font_pdf(tmp_path / "odd.pdf", font, lines[0], lines[1:])
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    (page,) = result.pages
    assert page.kind == "raster" and "rasterised_unsafe_content" in page.flags
    assert page.history[0].detail.startswith("rasterised: font Arial")
    assert len(page.history[0].detail) < 120
    assert "Kontoauszug" in page.text
    assert_pdfa_2u(tmp_path / "out.pdf", tmp_path)

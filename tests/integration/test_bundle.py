"""The output PDF: passthrough JPEGs, no metadata leaks, nothing active, archival structure.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_bundle.py``.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from pypdf import PdfReader

from briefkasten import ingest
from briefkasten.config import Settings
from briefkasten.pipeline.jpeg import clean_jpeg
from tests.integration.test_ingest import pdftotext
from tests.support import factories


def test_unchanged_jpeg_is_embedded_without_reencoding_and_without_gps(
    tmp_path: Path, settings: Settings
) -> None:
    source = factories.jpeg_with_gps(tmp_path / "scan.jpg")
    result = ingest([source], tmp_path / "out.pdf", settings=settings, pipeline="ocr-only")
    assert result.pages[0].history[-1].detail == "original JPEG passed through"
    output = (tmp_path / "out.pdf").read_bytes()
    assert clean_jpeg(source.read_bytes()) in output
    assert b"Exif" not in output
    assert b"PhoneMaker" not in output


def test_changed_photo_has_no_exif_in_output(tmp_path: Path, settings: Settings) -> None:
    source = factories.jpeg_with_gps(
        tmp_path / "photo.jpg", factories.text_page().rotate(4, expand=True, fillcolor="white")
    )
    ingest([source], tmp_path / "out.pdf", settings=settings)
    output = (tmp_path / "out.pdf").read_bytes()
    assert b"Exif" not in output
    assert b"PhoneMaker" not in output


def test_no_active_content_survives(tmp_path: Path, settings: Settings) -> None:
    digital = factories.born_digital_pdf(tmp_path / "digital.pdf")
    hostile = factories.hostile_pdf(digital, tmp_path / "hostile.pdf")
    hostile_reader = PdfReader(hostile)
    assert "/OpenAction" in hostile_reader.trailer["/Root"]  # the test input really is hostile
    ingest([hostile], tmp_path / "out.pdf", settings=settings)
    reader = PdfReader(tmp_path / "out.pdf")
    root = reader.trailer["/Root"]
    for key in ("/OpenAction", "/Names", "/AA", "/AcroForm"):
        assert key not in root
    for page in reader.pages:
        assert "/Annots" not in page
        assert "/AA" not in page
    raw = (tmp_path / "out.pdf").read_bytes()
    for marker in (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"calc.exe"):
        assert marker not in raw
    assert "Frau Müller" in pdftotext(tmp_path / "out.pdf")


def test_umlauts_survive_the_text_layer(tmp_path: Path, settings: Settings) -> None:
    lines = ("Größe Übersicht Äpfel", "Straße Öl Müller", "Gebühren Grüße")
    source = tmp_path / "umlaut.png"
    factories.text_page(lines, font_size=44).save(source, dpi=(150, 150))
    ingest([source], tmp_path / "out.pdf", settings=settings)
    text = pdftotext(tmp_path / "out.pdf")
    for word in ("Größe", "Übersicht", "Straße", "Müller", "Gebühren", "Grüße"):
        assert word in text


def test_archival_structure_is_present(tmp_path: Path, settings: Settings) -> None:
    source = tmp_path / "page.png"
    factories.text_page().save(source, dpi=(150, 150))
    ingest(
        [source],
        tmp_path / "out.pdf",
        settings=settings,
        title="Kontoauszug März",
        document_type="kontoauszug",
    )
    reader = PdfReader(tmp_path / "out.pdf")
    root = reader.trailer["/Root"]
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert len(intent["/DestOutputProfile"].get_object().get_data()) > 300
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert "Kontoauszug März" in xmp and "kontoauszug" in xmp
    assert reader.metadata is not None and reader.metadata.title == "Kontoauszug März"
    fonts = [
        font.get_object()
        for page in reader.pages
        for font in page["/Resources"].get_object().get("/Font", {}).values()
    ]
    assert fonts, "the text layer needs a font"
    descendants = [f["/DescendantFonts"][0].get_object() for f in fonts if "/DescendantFonts" in f]
    assert all("/FontFile2" in d["/FontDescriptor"] for d in descendants)  # embedded
    assert b"/JBIG2Decode" not in (tmp_path / "out.pdf").read_bytes()


def test_unchanged_png_is_embedded_losslessly(tmp_path: Path, settings: Settings) -> None:
    source = tmp_path / "scan.png"
    factories.text_page().save(source, dpi=(150, 150))
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    assert result.pages[0].history[-1].detail == "original PNG passed through"
    embedded = PdfReader(tmp_path / "out.pdf").pages[0].images[0].image
    assert embedded is not None
    assert embedded.convert("RGB").tobytes() == Image.open(source).convert("RGB").tobytes()


def test_changed_lossless_page_stays_lossless(tmp_path: Path, settings: Settings) -> None:
    source = tmp_path / "grey.png"
    factories.text_page(mode="L").save(source, dpi=(150, 150))
    rotated = tmp_path / "turned.png"
    Image.open(source).rotate(90, expand=True).save(rotated, dpi=(150, 150))
    result = ingest([rotated], tmp_path / "out.pdf", settings=settings)
    assert result.pages[0].history[-1].detail == "lossless PNG"
    raw = (tmp_path / "out.pdf").read_bytes()
    assert b"/DCTDecode" not in raw and b"/JBIG2Decode" not in raw

"""Every kind of PDF we hand out is PDF/A-2u, as Apache PDFBox Preflight sees it.

Preflight (``tests/support/preflight.py``) knows PDF/A-1b only: a PDF/A-2u file may get the two
errors for its claim (part 2, level U) and no other; the same file claiming part 1, level B
must get none at all (so PDF/A-1's colour, font and transparency rules hold too). Kinds: a
photo (raster page with the OCR text layer), a born-digital PDF page, a mixed document, a
multi-page TIFF and the applicant's receipt. Plus the structure itself (header, ``/ID``, the
XMP claim, the ICC version of the output intent), read back with pikepdf.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from briefkasten import ingest
from briefkasten.config import Settings
from briefkasten.gateway.receipt import receipt_pdf
from briefkasten.model import DocumentRequest, ReceivedFile, Submission
from tests.support import factories, preflight
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


@pytest.mark.parametrize("lang", ["de", "en"])
def test_receipt_is_pdfa_2u(tmp_path: Path, lang: str) -> None:
    files = (
        ReceivedFile("f1", "Kontoauszug März.pdf", "k1", "a" * 64, 1234, "application/pdf", 2),
        ReceivedFile("f2", "Foto •1.jpg", "k2", "b" * 64, 56789, "image/jpeg", 1),
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

"""Nothing active leaves: hostile born-digital PDFs and JPEGs through the real pipeline.

Every hostile file is built here, run through ``ingest`` (real PDFium, pikepdf, Tesseract) and
the output is audited object by object (``tests/support/pdfaudit.py``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Dictionary, Name, Stream

from briefkasten.config import Settings
from tests.integration.test_active_content import (
    SCRIPT,
    form_with_js,
    hostile,
    run,
    sanitize_step,
    small_pdf,
)
from tests.support import factories
from tests.support.pdfaudit import audit, jpeg_findings


def test_form_xobject_content_is_still_drawn(tmp_path: Path, settings: Settings) -> None:
    source = hostile(tmp_path, "form", form_with_js)
    run(source, tmp_path, settings)
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        outer = pdf.pages[0].Resources.XObject.Fm0
        assert outer.read_bytes() == b"q /Inner Do Q"
        assert outer.Resources.XObject.Inner.read_bytes() == b"q 0 0 1 rg 10 10 20 20 re f Q"


def test_pdf_with_exif_jpeg_image_is_cleaned(tmp_path: Path, settings: Settings) -> None:
    photo = factories.jpeg_with_gps(tmp_path / "photo.jpg", factories.text_page(size=(300, 200)))
    data = photo.read_bytes() + b"PK\x03\x04" + SCRIPT

    def embed(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        image = Stream(pdf, b"")
        image.write(data, filter=Name.DCTDecode)
        image.update(
            {
                "/Type": Name.XObject,
                "/Subtype": Name.Image,
                "/Width": 300,
                "/Height": 200,
                "/ColorSpace": Name.DeviceRGB,
                "/BitsPerComponent": 8,
            }
        )
        page.obj.Resources["/XObject"] = Dictionary(Im0=image)
        page.contents_add(Stream(pdf, b"q 90 0 0 60 100 20 cm /Im0 Do Q"), prepend=False)

    result = run(hostile(tmp_path, "jpeg-in-pdf", embed), tmp_path, settings)
    assert result.pages[0].kind == "vector"
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        image = pdf.pages[0].Resources.XObject.Im0
        assert jpeg_findings(image.read_raw_bytes()) == []
        assert image.read_raw_bytes().endswith(b"\xff\xd9")


def test_catalog_level_javascript_attachment_and_launch_do_not_survive(
    tmp_path: Path, settings: Settings
) -> None:
    source = factories.hostile_pdf(small_pdf(tmp_path / "a.pdf"), tmp_path / "hostile.pdf")
    assert audit(source) != []
    result = run(source, tmp_path, settings)
    assert {"/AA", "/Annots"} <= set(sanitize_step(result).split(": ", 1)[1].split(", "))


def test_no_file_name_or_content_in_logs(
    tmp_path: Path,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    source = hostile(tmp_path, "Mueller-Geheim", form_with_js)
    data = source.read_bytes()
    cut = data.rindex(b"startxref")
    source.write_bytes(data[:cut] + b"startxref\n12\n%%EOF\n")  # a wrong offset: repaired
    run(source, tmp_path, settings)
    logged = caplog.text + "".join(capfd.readouterr())
    for secret in ("Mueller-Geheim", "app.alert", "Frau Müller"):
        assert secret not in logged

"""The separator sheet (``cli/separator.py``): printed, scanned or photographed, the ``codes``
step finds it and ``is_separator`` says so; it shows no case data.

Rasterised with PDFium (a library, so this stays in the unit tier); the CLI's
``link create --separator-pdf`` and poppler's ``pdftoppm`` are in ``tests/e2e/test_separator.py``.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pypdfium2
import pytest
from pypdf import PdfReader

from briefkasten import i18n
from briefkasten.cli.separator import separator_pdf
from briefkasten.errors import InvalidRequest
from briefkasten.model import Original, Page, PageRef
from briefkasten.pipeline import codes
from briefkasten.pipeline.runner import Options, StepContext
from tests.support.qrpages import jpeg, warped

TENANT = "jc-musterstadt"
LINK_ID = "0a1b2c3d4e5f6789"


def rasterised(pdf: bytes, dpi: float = 150.0) -> list[np.ndarray]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [
            np.asarray(page.render(scale=dpi / 72).to_pil().convert("RGB")) for page in document
        ]
    finally:
        document.close()


def found(image: np.ndarray, tmp_path: Path) -> tuple[str, ...]:
    original = Original(
        name="scan.png", path=Path("scan.png"), sha256="0" * 64, size=1,
        media_type="image/png", pages=1,
    )  # fmt: skip
    page = Page(ref=PageRef(original, 0, "raster"), image=image, dpi=150.0)
    return codes.codes(page, StepContext(workdir=tmp_path, options=Options())).codes


@pytest.fixture(scope="module")
def sheet() -> bytes:
    return separator_pdf(TENANT, LINK_ID)


def test_the_sheet_is_one_a4_page_with_its_title_and_instruction(sheet: bytes) -> None:
    reader = PdfReader(io.BytesIO(sheet))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = reader.pages[0].extract_text()
    assert "Trennblatt — Briefkasten" in text
    assert i18n.text("de", "separator.instruction")[:30] in text.replace("\n", " ")
    # Nothing else in clear text: no case number, no link id, no token.
    assert LINK_ID not in text
    assert TENANT not in text


@pytest.mark.parametrize("dpi", [150.0, 100.0])
def test_scanned_the_sheet_is_a_separator(sheet: bytes, tmp_path: Path, dpi: float) -> None:
    (image,) = rasterised(sheet, dpi)
    payloads = found(image, tmp_path)
    assert payloads == (codes.separator_payload(TENANT, LINK_ID),)
    assert codes.is_separator(payloads)
    assert codes.separator_of(payloads[0]) == (TENANT, LINK_ID)


def test_photographed_upside_down_and_at_an_angle_it_is_a_separator(
    sheet: bytes, tmp_path: Path
) -> None:
    (image,) = rasterised(sheet, 100.0)
    photo = jpeg(warped(np.ascontiguousarray(np.rot90(image, 2)), 0.12), 40)
    assert codes.is_separator(found(photo, tmp_path))


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_sheet_in_other_languages(lang: str, tmp_path: Path) -> None:
    pdf = separator_pdf(TENANT, LINK_ID, lang=lang)
    (image,) = rasterised(pdf, 100.0)
    assert codes.is_separator(found(image, tmp_path))
    title = PdfReader(io.BytesIO(pdf)).metadata
    assert title is not None
    assert title.title == i18n.text(lang, "separator.title")


def test_an_unknown_language_is_german() -> None:
    pdf = separator_pdf(TENANT, LINK_ID, lang="xx")
    assert "Trennblatt" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_a_bad_tenant_or_link_id_makes_no_sheet() -> None:
    with pytest.raises(InvalidRequest):
        separator_pdf("Jobcenter Musterstadt", LINK_ID)
    with pytest.raises(InvalidRequest):
        separator_pdf(TENANT, "not-an-id")


def test_a_blank_page_is_not_a_separator(tmp_path: Path) -> None:
    blank = np.full((1754, 1240, 3), 255, np.uint8)
    assert not codes.is_separator(found(cv2.GaussianBlur(blank, (0, 0), 1.0), tmp_path))

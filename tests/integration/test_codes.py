"""The ``codes`` step in the real pipeline (sandboxed page children, Tesseract): a photographed
job-center letter's QR code reaches ``PageResult.codes``; the report counts it, never shows it."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from briefkasten.config import Settings
from briefkasten.pipeline import codes
from briefkasten.pipeline.document import build_document, local_originals
from briefkasten.pipeline.pool import PagePool
from briefkasten.pipeline.sandbox import page_bounds
from tests.support import factories
from tests.support.qrpages import LINK_URL, letter, qr_pixels, warped

SEPARATOR = "briefkasten:separator:v1:jc-musterstadt:0a1b2c3d4e5f6789"


def photo(image: np.ndarray, path: Path) -> Path:
    """``image`` as a phone photo: on a desk, from an angle, a JPEG."""
    desk = np.full((image.shape[0] + 200, image.shape[1] + 200, 3), 70, np.uint8)
    desk[100:-100, 100:-100] = image
    bgr = cv2.cvtColor(warped(desk, 0.06), cv2.COLOR_RGB2BGR)
    assert cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return path


def test_a_photographed_letter_page_yields_its_code(tmp_path: Path, settings: Settings) -> None:
    letter_photo = photo(letter(qr_pixels(LINK_URL, module=6)), tmp_path / "brief.jpg")
    plain = tmp_path / "seite2.png"
    factories.text_page(("Zweite Seite", "Kontoauszug")).save(plain, dpi=(150, 150))
    sheet = photo(letter(qr_pixels(SEPARATOR, module=10)), tmp_path / "trennblatt.jpg")
    work = tmp_path / "work"
    work.mkdir()
    with PagePool(1, page_bounds(settings.sandbox)) as pool:
        originals, refs = local_originals([letter_photo, plain, sheet], settings, pool)
        result = build_document(originals, work, settings=settings, pool=pool, refs=refs)
    assert [p.codes for p in result.pages] == [(LINK_URL,), (), (SEPARATOR,)]
    assert [codes.is_separator(p.codes) for p in result.pages] == [False, False, True]
    report = result.report()
    assert [p["qr_codes"] for p in report["pages"]] == [1, 0, 1]
    steps = [s for s in report["pages"][0]["steps"] if s["step"] == "codes"]
    assert steps == [{"step": "codes", "detail": "1 QR code"}]
    stored = result.report_bytes().decode("utf-8")
    assert LINK_URL not in stored
    assert "separator:v1" not in stored
    assert "Sehr geehrte" in result.pages[0].text  # the page was still read as a letter
    assert json.loads(stored)["document"]["pages"] == 3

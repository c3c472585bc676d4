"""End to end through ``ingest`` with real Tesseract: every format and awkward but valid input."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from pillow_heif import register_heif_opener
from pypdf import PdfReader

from briefkasten import ingest
from briefkasten.config import Settings
from tests.integration.test_ingest import (
    save,
)

register_heif_opener()


def test_one_pixel_image_gets_a_flag_not_a_crash(tmp_path: Path, settings: Settings) -> None:
    source = save(Image.new("RGB", (1, 1), "white"), tmp_path / "dot.png")
    result = ingest([source], tmp_path / "out.pdf", settings=settings)
    assert "low_resolution" in result.pages[0].flags
    assert len(PdfReader(tmp_path / "out.pdf").pages) == 1

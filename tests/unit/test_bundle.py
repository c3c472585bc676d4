"""The output PDF: passthrough JPEGs, no metadata leaks, nothing active, archival structure.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_bundle.py``.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from briefkasten.errors import CorruptInput
from briefkasten.pipeline.jpeg import clean_jpeg
from tests.support import factories


def test_clean_jpeg_drops_exif_but_keeps_pixels(tmp_path: Path) -> None:
    original = factories.jpeg_with_gps(tmp_path / "gps.jpg")
    data = original.read_bytes()
    assert b"Exif\x00\x00" in data
    stripped = clean_jpeg(data)
    assert b"Exif\x00\x00" not in stripped
    assert "exif" not in Image.open(io.BytesIO(stripped)).info
    before = Image.open(original).tobytes()
    assert Image.open(io.BytesIO(stripped)).tobytes() == before  # not re-encoded


def test_clean_jpeg_refuses_non_jpeg() -> None:
    with pytest.raises(CorruptInput):
        clean_jpeg(b"\x89PNG\r\n\x1a\n")

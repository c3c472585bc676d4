"""``images.decode``: OpenCV decodes plain JPEG and PNG pixels, Pillow everything else; both
give the same array, and a broken file fails the same way."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageCms, PngImagePlugin

from briefkasten.errors import CorruptInput
from briefkasten.model import Original, PageRef
from briefkasten.pipeline import images
from briefkasten.pipeline.images import decode, to_rgb_or_grey
from tests.support import factories

MEDIA = {".jpg": "image/jpeg", ".png": "image/png"}


def _ref(path: Path) -> PageRef:
    original = Original(path.name, path, "0" * 64, path.stat().st_size, MEDIA[path.suffix], 1)
    return PageRef(original, 0, "raster")


def _pillow_pixels(path: Path) -> np.ndarray:
    """What the Pillow path gives: load, convert as ``decode`` does, copy into numpy."""
    with Image.open(path) as source:
        source.load()
        image, _ = to_rgb_or_grey(source)
        return np.asarray(image)


@cache
def _photo() -> Image.Image:
    """A page with colour and fine detail (so chroma subsampling and IDCT rounding show);
    shared between tests, never changed."""
    page = factories.text_page().convert("RGB")
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 40, (page.height, page.width, 3), dtype=np.uint8)
    return Image.fromarray(np.asarray(page) - noise // 2 + noise // 3)


def _save(image: Image.Image, **options: Any) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        image.save(path, **options)
        return path

    return write


def _srgb() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _with_orientation(image: Image.Image, value: int) -> Callable[[Path], Path]:
    exif = Image.Exif()
    exif[0x0112] = value
    return _save(image, quality=90, exif=exif)


DIRECT_CASES: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "jpeg 4:2:0": (".jpg", _save(_photo(), quality=85)),
    "jpeg 4:4:4": (".jpg", _save(_photo(), quality=95, subsampling=0)),
    "jpeg progressive": (".jpg", _save(_photo(), quality=80, progressive=True)),
    "jpeg grey": (".jpg", _save(_photo().convert("L"), quality=85)),
    "jpeg sRGB profile": (".jpg", _save(_photo(), quality=85, icc_profile=_srgb())),
    "jpeg EXIF orientation 6": (".jpg", _with_orientation(_photo(), 6)),
    "png rgb": (".png", _save(_photo())),
    "png grey": (".png", _save(_photo().convert("L"))),
    "png grey 4 bit": (".png", _save(_photo().convert("L").quantize(16).convert("L"), bits=4)),
}


@pytest.mark.parametrize("case", sorted(DIRECT_CASES))
def test_opencv_decodes_plain_jpeg_and_png_to_the_same_pixels_as_pillow(
    tmp_path: Path, case: str
) -> None:
    suffix, write = DIRECT_CASES[case]
    path = write(tmp_path / f"page{suffix}")
    with Image.open(path) as source:
        assert images._direct_bytes(source, _ref(path)) is not None, "not the direct path"
    page = decode(_ref(path), raster_dpi=300)
    assert page.image is not None
    np.testing.assert_array_equal(page.image, _pillow_pixels(path))


def test_the_exif_orientation_is_read_not_applied_on_the_direct_path(tmp_path: Path) -> None:
    path = _with_orientation(_photo(), 6)(tmp_path / "turned.jpg")
    page = decode(_ref(path), raster_dpi=300)
    assert page.exif_orientation == 6
    assert page.image is not None
    assert page.image.shape[:2] == (_photo().height, _photo().width)  # not turned yet


def _cmyk_jpeg(path: Path) -> Path:
    _photo().convert("CMYK").save(path, quality=90)
    return path


def _png_with_late_exif(path: Path) -> Path:
    """A PNG whose eXIf chunk (orientation 8) follows the image data."""
    buffer = io.BytesIO()
    _photo().save(buffer, format="PNG")
    data = buffer.getvalue()
    exif = Image.Exif()
    exif[0x0112] = 8
    payload = exif.tobytes()

    chunk = len(payload).to_bytes(4, "big") + b"eXIf" + payload
    chunk += zlib.crc32(b"eXIf" + payload).to_bytes(4, "big")
    iend = data.rindex(b"IEND") - 4
    path.write_bytes(data[:iend] + chunk + data[iend:])
    return path


def _rgba_png(path: Path) -> Path:
    _photo().convert("RGBA").save(path)
    return path


def _grey_with_transparency(path: Path) -> Path:
    _photo().convert("L").save(path, transparency=255)
    return path


PILLOW_CASES: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "jpeg cmyk": (".jpg", _cmyk_jpeg),
    "png with eXIf after the pixels": (".png", _png_with_late_exif),
    "png rgba": (".png", _rgba_png),
    "png grey with tRNS": (".png", _grey_with_transparency),
}


@pytest.mark.parametrize("case", sorted(PILLOW_CASES))
def test_other_images_go_through_pillow(tmp_path: Path, case: str) -> None:
    suffix, write = PILLOW_CASES[case]
    path = write(tmp_path / f"page{suffix}")
    with Image.open(path) as source:
        assert images._direct_bytes(source, _ref(path)) is None
    assert decode(_ref(path), raster_dpi=300).image is not None


def test_a_plain_png_is_decoded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _save(_photo())(tmp_path / "plain.png")
    loads: list[str] = []
    real_load = PngImagePlugin.PngImageFile.load

    def load(self: PngImagePlugin.PngImageFile) -> Any:
        loads.append("pillow")
        return real_load(self)

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", load)
    page = decode(_ref(path), raster_dpi=300)
    assert loads == []  # OpenCV decoded it; Pillow's getexif would decode it a second time
    assert page.exif_orientation == 1
    assert page.image is not None and np.array_equal(page.image, _pillow_pixels(path))


def test_a_png_exif_orientation_after_the_pixels_is_still_read(tmp_path: Path) -> None:
    path = _png_with_late_exif(tmp_path / "late.png")
    assert decode(_ref(path), raster_dpi=300).exif_orientation == 8


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
@pytest.mark.parametrize("keep", [0.3, 0.97])
def test_a_cut_file_fails_as_a_corrupt_image(tmp_path: Path, suffix: str, keep: float) -> None:
    whole = _save(_photo(), quality=85)(tmp_path / f"whole{suffix}")
    cut = tmp_path / f"cut{suffix}"
    data = whole.read_bytes()
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CorruptInput, match="cannot decode image"):
        decode(_ref(cut), raster_dpi=300)

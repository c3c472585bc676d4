"""Decoding pages into 8-bit arrays, colour conversion, EXIF orientation and DPI estimates.

``decode`` turns a page reference into a ``Page``: every colour model ends as 8-bit grey or
sRGB (CMYK with or without an ICC profile, palettes, 16-bit, alpha on white). Of an animated
GIF only the first frame is decoded; the page is flagged ``first_frame_only``. Scanned PDF pages
are rendered with PDFium. Nothing is written to disk here.

Pillow reads every header (mode, ICC profile, EXIF, DPI). The pixels of an 8-bit grey or sRGB
JPEG or PNG, the usual phone photo and scan, are decoded by OpenCV straight into an array:
the same pixels (both use libjpeg-turbo and libpng; tested equal) without Pillow's copy into
numpy, which costs as much as the JPEG decode itself (a 12-MP photo: 47 ms instead of 91).
Every other image goes through Pillow.
"""

from __future__ import annotations

import io
import math
import time
import warnings

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageCms, ImageOps

from briefkasten.errors import CorruptInput
from briefkasten.model import Page, PageRef, StepRecord
from briefkasten.pipeline.runner import StepContext

#: Media types whose pixels were already lossy-compressed; their pages are stored as JPEG.
LOSSY_TYPES = frozenset({"image/jpeg", "image/webp", "image/heic", "application/pdf"})
#: Originals img2pdf can embed without re-encoding, as long as their pixels stay unchanged.
PASSTHROUGH_TYPES = frozenset({"image/jpeg", "image/png"})
_SRGB = ImageCms.createProfile("sRGB")
_PLAUSIBLE_DPI = (100.0, 1200.0)
_A4_LONG_INCH = 297 / 25.4
_A4_SHORT_INCH = 210 / 25.4


def decode(ref: PageRef, *, raster_dpi: int, max_pixels: int = 36_000_000) -> Page:
    """Decode page ``ref.index`` of the original into a ``Page`` (raster pages only).

    PDF pages are rendered at ``raster_dpi``, or lower where the page box is so large that the
    bitmap would have more than ``max_pixels`` pixels (a 664-byte PDF can declare a page of
    5 × 5 metres)."""
    started = time.perf_counter()
    pixels: np.ndarray | None = None
    if ref.original.media_type == "application/pdf":
        image, dpi = _render_pdf_page(ref, raster_dpi, max_pixels)
        detail = f"rendered at {dpi:.0f} dpi"
        if dpi < raster_dpi:
            detail += f" (lowered from {raster_dpi}: the page is larger than {max_pixels} pixels)"
        orientation, passthrough, frames = 1, None, 1
    else:
        try:
            with warnings.catch_warnings(), Image.open(ref.original.path) as source:
                warnings.simplefilter("ignore")
                source.seek(ref.index)
                data = _direct_bytes(source, ref)
                pixels = _decode_direct(data, source) if data is not None else None
                if pixels is None:
                    source.load()
                dpi = _dpi_of(source)
                # Pillow's getexif loads a whole PNG to look for an eXIf chunk after the
                # pixels (~60 ms for an A4 page): one decoded directly has none.
                no_exif = (
                    pixels is not None and source.format == "PNG" and "exif" not in source.info
                )
                orientation = 1 if no_exif or ref.index else source.getexif().get(0x0112, 1)
                frames = getattr(source, "n_frames", 1) if source.format == "GIF" else 1
                image, detail = to_rgb_or_grey(source)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise CorruptInput(f"cannot decode image: {exc}", source=ref.original.name) from exc
        embeddable = ref.original.media_type in PASSTHROUGH_TYPES and ref.original.pages == 1
        unchanged = detail == "kept" and "transparency" not in source.info
        passthrough = ref.original.path if embeddable and unchanged else None
    array = np.asarray(image) if pixels is None else pixels
    estimated = not plausible_dpi(dpi)
    if estimated:
        dpi = a4_dpi(array.shape[:2])
        detail += f", dpi estimated {dpi:.0f}"
    if frames > 1:
        detail += f", first of {frames} frames"
    record = StepRecord(
        "decode",
        f"{image.mode} {image.width}×{image.height}, {detail}",
        (time.perf_counter() - started) * 1000,
    )
    page = Page(
        ref=ref,
        image=array,
        dpi=dpi,
        dpi_estimated=estimated,
        exif_orientation=orientation if orientation in range(1, 9) else 1,
        passthrough=passthrough,
        lossy_source=ref.original.media_type in LOSSY_TYPES,
        history=(record,),
    )
    # An animated GIF: only its first frame is a page (the others are usually the same page).
    return page.flagged("first_frame_only") if frames > 1 else page


def _direct_bytes(source: Image.Image, ref: PageRef) -> bytes | None:
    """The file's bytes when OpenCV may decode its pixels instead of Pillow, else ``None``.

    Only a single-image JPEG or PNG that ``to_rgb_or_grey`` keeps as it is (8-bit grey or RGB,
    no ICC profile other than sRGB, no transparency). A PNG whose bytes contain an ``eXIf``
    chunk name anywhere goes through Pillow: its EXIF may follow the pixels, and only a full
    Pillow load reads it there (a chance match in the compressed data costs only time)."""
    if source.format not in ("JPEG", "PNG") or ref.index != 0 or ref.original.pages != 1:
        return None
    if getattr(source, "n_frames", 1) != 1:  # an animated PNG
        return None
    if source.mode not in ("L", "RGB") or "transparency" in source.info:
        return None
    icc = source.info.get("icc_profile")
    if icc and not _is_srgb(icc):
        return None
    data = ref.original.path.read_bytes()
    if source.format == "PNG" and "exif" not in source.info and b"eXIf" in data:
        return None
    return data


def _decode_direct(data: bytes, source: Image.Image) -> np.ndarray | None:
    """OpenCV's decode of ``data`` in the mode and size Pillow read from the header, EXIF
    orientation not applied (the ``exif_orientation`` step does that); ``None`` when OpenCV
    cannot decode it or disagrees (a cut or broken file: Pillow's load then says why)."""
    grey = source.mode == "L"
    flags = cv2.IMREAD_IGNORE_ORIENTATION | (cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR_RGB)
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    expected = (source.height, source.width) if grey else (source.height, source.width, 3)
    if pixels is None or pixels.dtype != np.uint8 or pixels.shape != expected:
        return None
    return pixels


def to_rgb_or_grey(image: Image.Image) -> tuple[Image.Image, str]:
    """Convert any Pillow mode to ``L`` or sRGB ``RGB``; says what it did."""
    mode = image.mode
    icc = image.info.get("icc_profile")
    if icc and _is_srgb(icc):
        icc = None
    if mode in ("L", "RGB") and not icc:
        return image, "kept"
    if mode == "1":
        return image.convert("L"), "bilevel to grey"
    if mode.startswith("I"):
        return _sixteen_bit_to_grey(image), f"{mode} to 8-bit grey"
    if mode == "F":
        return Image.fromarray(np.clip(np.asarray(image), 0, 255).astype(np.uint8)), "float to grey"
    if mode in ("P", "PA"):
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "La", "RGBa"):
        flat = _on_white(image)
        return flat, f"{mode} alpha composited on white"
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
            if converted is not None:
                return converted, f"{mode} with ICC profile to sRGB"
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
    if mode == "L":
        return image, "kept (ICC profile ignored)"
    return image.convert("RGB"), f"{mode} to RGB"


def _is_srgb(icc: bytes) -> bool:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return "srgb" in ImageCms.getProfileDescription(profile).lower()
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False


def _sixteen_bit_to_grey(image: Image.Image) -> Image.Image:
    values = np.asarray(image).astype(np.float64)
    top = 65535.0 if values.max(initial=0) > 255 else 255.0
    return Image.fromarray(np.clip(values * (255.0 / top), 0, 255).round().astype(np.uint8))


def _on_white(image: Image.Image) -> Image.Image:
    grey = image.mode in ("LA", "La")
    rgba = image.convert("RGBA")
    canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    canvas.alpha_composite(rgba)
    return canvas.convert("L" if grey else "RGB")


def _dpi_of(image: Image.Image) -> float:
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    return value


def render_dpi(size_pt: tuple[float, float], dpi: float, max_pixels: int) -> float:
    """``dpi``, lowered so that a page of ``size_pt`` points renders to at most ``max_pixels``."""
    width_in, height_in = max(size_pt[0], 1.0) / 72, max(size_pt[1], 1.0) / 72

    def pixels(at: float) -> int:  # PDFium rounds each side up to whole pixels
        return math.ceil(width_in * at) * math.ceil(height_in * at)

    used = float(dpi)
    if pixels(used) > max_pixels:
        used *= math.sqrt(max_pixels / pixels(used))
    for _ in range(50):  # rounding can leave it a few pixels over
        if pixels(used) <= max_pixels:
            break
        used *= 0.99
    return used


def _render_pdf_page(ref: PageRef, dpi: int, max_pixels: int) -> tuple[Image.Image, float]:
    try:
        pdf = pdfium.PdfDocument(ref.original.path)
        try:
            page = pdf[ref.index]
            used = render_dpi(page.get_size(), dpi, max_pixels)
            bitmap = page.render(scale=used / 72, may_draw_forms=False)
            image: Image.Image = bitmap.to_pil().convert("RGB")
        finally:
            pdf.close()
    except pdfium.PdfiumError as exc:
        raise CorruptInput(f"cannot render PDF page: {exc}", source=ref.original.name) from exc
    return image, used


def apply_exif_orientation(page: Page, ctx: StepContext) -> Page:
    """Turn the pixels as the camera's EXIF orientation tag says (lossless)."""
    assert page.image is not None
    tag = page.exif_orientation
    if tag == 1:
        return page
    image = Image.fromarray(page.image)
    image.info["exif"] = _orientation_exif(tag)
    turned = ImageOps.exif_transpose(image)
    return page.evolve(
        detail=f"applied EXIF orientation {tag}",
        image=np.asarray(turned),
        exif_orientation=1,
    )


def _orientation_exif(tag: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = tag
    return exif.tobytes()


def plausible_dpi(dpi: float, bounds: tuple[float, float] = _PLAUSIBLE_DPI) -> bool:
    """Phones write 72 and screenshots 96; real scans say 150–600."""
    return bounds[0] <= dpi <= bounds[1]


def a4_dpi(shape: tuple[int, ...], ceiling: float = _PLAUSIBLE_DPI[1]) -> float:
    """The resolution at which an image of this size would be an A4 page.

    Nearly all job-center documents are A4: the short side is used when the aspect ratio fits
    A4 (a cropped page), else the long side (a page with a margin of background).
    """
    long_side, short_side = max(shape[:2]), min(shape[:2])
    aspect = long_side / max(short_side, 1)
    estimate = short_side / _A4_SHORT_INCH if 1.3 <= aspect <= 1.5 else long_side / _A4_LONG_INCH
    return float(min(max(estimate, 10.0), ceiling))


def estimate_dpi(page: Page, ctx: StepContext) -> Page:
    """Re-estimate a missing or implausible DPI from the page as it is now (after cropping)."""
    assert page.image is not None
    bounds = tuple(ctx.param("plausible", list(_PLAUSIBLE_DPI)))
    if not page.dpi_estimated and plausible_dpi(page.dpi, (bounds[0], bounds[1])):
        return page
    estimate = a4_dpi(page.image.shape, bounds[1])
    return page.evolve(
        detail=f"dpi re-estimated as {estimate:.0f} from the page size, assuming A4",
        dpi=estimate,
        dpi_estimated=True,
    )

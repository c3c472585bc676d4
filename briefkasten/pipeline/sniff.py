"""Sniffing and limits: the real type from magic bytes, then cheap header checks.

Runs before any pixel is decoded, so a 35000×35000 "decompression bomb" is refused from its
header alone. The extension and the client's MIME type are never trusted. The magic table is
hand-written on purpose: it *is* the allowlist (BSI TR-03172-3), seven entries long, and a
general-purpose type guesser would accept far more than we want.
"""

from __future__ import annotations

import mmap
import warnings
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, UnidentifiedImageError
from pillow_heif import register_heif_opener
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from briefkasten.config import LimitSettings
from briefkasten.errors import (
    CorruptInput,
    EmptyInput,
    InputRejected,
    LimitExceeded,
    PasswordProtected,
    UnsupportedType,
)
from briefkasten.model import PageKind

register_heif_opener()
Image.MAX_IMAGE_PIXELS = None  # we check pixel counts ourselves, before decoding

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
PDF_HEADER_WINDOW = 1024
#: Text characters on a PDF page above which it counts as born-digital.
BORN_DIGITAL_MIN_CHARS = 20


@dataclass(frozen=True)
class Sniffed:
    """What the header says: the media type and, per page, whether it is raster or vector."""

    media_type: str
    kinds: tuple[PageKind, ...]


def media_type_of(head: bytes) -> str | None:
    """The allowlisted media type for these first bytes, or ``None``."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:2] == b"BM" and len(head) >= 26:
        return "image/bmp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    if b"%PDF-" in head[:PDF_HEADER_WINDOW]:
        return "application/pdf"
    return None


def sniff(path: Path, limits: LimitSettings) -> Sniffed:
    """Check one file against the allowlist and the limits; raise ``InputRejected`` if it fails."""
    size = path.stat().st_size
    if size == 0:
        raise EmptyInput("file is empty (0 bytes)")
    if size > limits.max_file_bytes:
        raise LimitExceeded(f"file has {size} bytes, limit is {limits.max_file_bytes}")
    with path.open("rb") as handle:
        head = handle.read(PDF_HEADER_WINDOW)
    media_type = media_type_of(head)
    if media_type is None:
        raise UnsupportedType("content is not an allowed image or PDF type")
    if media_type == "application/pdf":
        return Sniffed(media_type, _pdf_kinds(path, limits))
    frames = _image_frames(path, media_type, limits)
    return Sniffed(media_type, tuple("raster" for _ in range(frames)))


def _image_frames(path: Path, media_type: str, limits: LimitSettings) -> int:
    try:
        with warnings.catch_warnings(), Image.open(path) as image:
            warnings.simplefilter("ignore")
            frames = getattr(image, "n_frames", 1) if media_type == "image/tiff" else 1
            if frames > limits.max_pages:
                raise LimitExceeded(f"{frames} pages, limit is {limits.max_pages}")
            for frame in range(frames):
                image.seek(frame)
                _check_pixels(image.size, limits)
            for frame in range(frames):
                image.seek(frame)
                _verify_pixels(path, image, media_type)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptInput(f"cannot read {media_type} image: {_short(exc)}") from exc
    return frames


def _check_pixels(size: tuple[int, int], limits: LimitSettings) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise CorruptInput(f"image has no pixels ({width}×{height})")
    if width * height > limits.max_pixels:
        raise LimitExceeded(
            f"image has {width}×{height} pixels, limit is {limits.max_pixels} pixels"
        )


def _verify_pixels(path: Path, image: Image.Image, media_type: str) -> None:
    """Find truncation without decoding: JPEG by its end marker, PNG by its CRCs."""
    if media_type == "image/jpeg":
        _check_jpeg_end(path)
    elif media_type == "image/png":
        with Image.open(path) as fresh:
            fresh.verify()
    else:
        image.load()


def _check_jpeg_end(path: Path) -> None:
    """A complete JPEG has an end-of-image marker after the start of its first scan.

    The marker segments before the first scan (``FF DA``) are walked by their lengths, so an
    EXIF thumbnail inside APP1 (with its own scan and end marker) is skipped. Inside
    entropy-coded data every 0xFF byte is stuffed, so ``FF D9`` occurs only as a marker: a file
    cut anywhere in its scans has none after that point. Data appended after the end marker
    (phone trailers, motion-photo videos) is ignored. One C-speed search over a memory map
    instead of a decode.
    """
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        scan = _first_scan(data)
        if scan < 0 or data.find(b"\xff\xd9", scan) < 0:
            raise CorruptInput("JPEG is truncated (no end of image after its scans)")


def _first_scan(data: mmap.mmap) -> int:
    """The offset of the main image's first start-of-scan marker, or -1."""
    pos, end = 2, len(data)  # after SOI
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return -1
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == 0xDA:
            return pos
        elif marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            pos += 2
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return -1


def _pdf_kinds(path: Path, limits: LimitSettings) -> tuple[PageKind, ...]:
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise _why_pdf_fails(path, exc) from exc
    try:
        count = len(pdf)
        if count == 0:
            raise EmptyInput("PDF has no pages")
        if count > limits.max_pages:
            raise LimitExceeded(f"PDF has {count} pages, limit is {limits.max_pages}")
        kinds: list[PageKind] = []
        for index in range(count):
            page = pdf[index]
            width_pt, height_pt = page.get_size()
            pixels_at_300 = (width_pt / 72 * 300) * (height_pt / 72 * 300)
            if pixels_at_300 > limits.max_pixels * 4:
                raise LimitExceeded(f"PDF page {index + 1} is {width_pt:.0f}×{height_pt:.0f} pt")
            textpage = page.get_textpage()
            chars = textpage.count_chars()
            kinds.append("vector" if chars >= BORN_DIGITAL_MIN_CHARS else "raster")
        return tuple(kinds)
    finally:
        pdf.close()


def _why_pdf_fails(path: Path, exc: pdfium.PdfiumError) -> InputRejected:
    """Tell a password, an empty page tree and damage apart when PDFium refuses a file.

    PDFium's last-error code is process-global and can be stale, so pypdf decides.
    """
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            return PasswordProtected("PDF needs a password to open")
        if len(reader.pages) == 0:
            return EmptyInput("PDF has no pages")
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, NotImplementedError):
        pass
    return CorruptInput(f"cannot read PDF: {_short(exc)}")


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]

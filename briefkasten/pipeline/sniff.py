"""Sniffing and limits: the real type from magic bytes, then every check that needs a parser.

``media_type_of`` reads only the first bytes and may run anywhere. ``sniff`` parses: it must
run inside the sandbox (``pipeline.sandbox``), never in the gateway or worker process itself.
It refuses a file from its header where it can (a 35000×35000 "decompression bomb", a TIFF of
many huge frames, a progressive JPEG with a hundred scans, a PDF page whose content inflates
to a gigabyte) and then decodes raster images once to find truncation, so a damaged PNG or TIFF
is refused at upload, not in the worker. The extension and the client's MIME type are never
trusted. The magic table is hand-written on purpose: it *is* the allowlist (BSI TR-03172-3),
eight entries long, and a general-purpose type guesser would accept far more than we want.

Two repairs that readers make are made here too. A GIF (palette or animated) is read by its
first frame only; every frame is still counted and checked against the limits. A PDF may have
up to 64 KiB of junk before ``%PDF-`` (mail gateways and scanners prepend headers; Acrobat and
qpdf repair it, PDFium gives up after 1 KiB): ``pdf_from_header`` gives the parsers a copy
that starts at the header, and the stored original keeps its bytes and hash.
"""

from __future__ import annotations

import dataclasses
import mmap
import shutil
import tempfile
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
    TooComplex,
    UnsupportedType,
)
from briefkasten.model import Original, PageKind
from briefkasten.pipeline.jpeg import frame_size, jpeg_layout
from briefkasten.pipeline.pdfcost import check_pages
from briefkasten.storage.records import atomic_file

register_heif_opener()
Image.MAX_IMAGE_PIXELS = None  # we check pixel counts ourselves, before decoding

#: Types whose frames are counted: a TIFF's are pages, a GIF's only its first frame is used.
_FRAMED = ("image/tiff", "image/gif")
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_PDF_MAGIC = b"%PDF-"
#: Bytes of junk a PDF may have before its ``%PDF-`` header (readers repair up to this).
PDF_MAX_JUNK = 64 * 1024
#: Bytes read to find the type: the header may start at any offset up to ``PDF_MAX_JUNK``.
PDF_HEADER_WINDOW = PDF_MAX_JUNK + len(_PDF_MAGIC)
_GIF_MAGIC = (b"GIF87a", b"GIF89a")
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
    if head[:6] in _GIF_MAGIC:
        return "image/gif"
    if pdf_header_offset(head) is not None:
        return "application/pdf"
    return None


def pdf_header_offset(head: bytes) -> int | None:
    """Where ``%PDF-`` starts in these first bytes (0 for a clean PDF), or ``None`` when it does
    not start within the first ``PDF_MAX_JUNK`` bytes."""
    offset = head.find(_PDF_MAGIC, 0, PDF_HEADER_WINDOW)
    return offset if offset >= 0 else None


def pdf_from_header(path: Path, workdir: Path, key: str = "") -> Path:
    """``path`` itself when the PDF starts with its header, else a copy in ``workdir`` of the
    bytes from the header on: what the parsers read (PDFium refuses more than 1 KiB of junk,
    pypdf misreads the cross-reference offsets). Byte search and copy only, no parsing.

    The copy is named by ``key`` (the original's hash) and renamed into place whole, so the
    pages of one PDF, built in parallel children, share one copy."""
    with path.open("rb") as source:
        offset = pdf_header_offset(source.read(PDF_HEADER_WINDOW))
        if not offset:
            return path
        copy = workdir / f"from-header-{key or path.stem[:40]}-{offset}.pdf"
        if copy.exists():
            return copy
        source.seek(offset)
        with atomic_file(copy) as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
    return copy


def readable(original: Original, workdir: Path) -> Original:
    """``original`` as the parsers read it: a PDF with junk before its header points at a copy
    from the header on (``pdf_from_header``); name, hash and size stay the stored original's."""
    if original.media_type != "application/pdf":
        return original
    path = pdf_from_header(original.path, workdir, original.sha256[:32])
    return original if path == original.path else dataclasses.replace(original, path=path)


def sniff(path: Path, limits: LimitSettings, *, decode: bool = True) -> Sniffed:
    """Check one file against the allowlist and the limits; raise ``InputRejected`` if it fails.

    ``decode=False`` leaves out decoding every PNG, TIFF and GIF frame (about 70 ms for an A4
    page at 300 dpi): for a caller whose next step decodes each page in a sandboxed child
    anyway, where a broken image fails with ``CorruptInput`` too. The gateway decodes, so that
    a cut upload is refused before its 202; the worker and ``ingest`` do not decode twice."""
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
        with tempfile.TemporaryDirectory(prefix="briefkasten-sniff-") as scratch:
            return Sniffed(media_type, _pdf_kinds(pdf_from_header(path, Path(scratch)), limits))
    frames = _image_frames(path, media_type, limits, decode)
    return Sniffed(media_type, tuple("raster" for _ in range(frames)))


def is_jpeg(path: Path) -> bool:
    """Whether the file at ``path`` begins as a JPEG does (``sniff_jpeg`` then checks it)."""
    with path.open("rb") as handle:
        return media_type_of(handle.read(3)) == "image/jpeg"


def sniff_jpeg(path: Path, limits: LimitSettings) -> Sniffed:
    """``sniff`` for a JPEG, without any parser but ours: the marker walk of
    ``pipeline.jpeg`` (pure Python, bounded, touching every byte at most once) gives the frame
    size and the scans. Nothing here can crash the process or take more memory than the map of
    the file, so the gateway (``gateway.checks``), the worker and ``ingest``
    (``pipeline.document``) run it in-process: the sandbox's fork costs 25 times the check.
    ``UnsupportedType`` for a file that is not a JPEG."""
    size = path.stat().st_size
    if size == 0:
        raise EmptyInput("file is empty (0 bytes)")
    if size > limits.max_file_bytes:
        raise LimitExceeded(f"file has {size} bytes, limit is {limits.max_file_bytes}")
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if media_type_of(bytes(data[:3])) != "image/jpeg":
            raise UnsupportedType("content is not a JPEG")
        layout = jpeg_layout(data)
        width, height = frame_size(data, layout)
    _check_pixels((width, height), limits)
    if width * height > limits.max_file_pixels:
        raise TooComplex(f"{width * height} pixels, limit is {limits.max_file_pixels}")
    if layout.scans > limits.max_jpeg_scans:
        raise TooComplex(f"JPEG has {layout.scans} scans, limit is {limits.max_jpeg_scans}")
    return Sniffed("image/jpeg", ("raster",))


def _image_frames(path: Path, media_type: str, limits: LimitSettings, decode: bool) -> int:
    try:
        with warnings.catch_warnings(), Image.open(path) as image:
            warnings.simplefilter("ignore")
            frames = getattr(image, "n_frames", 1) if media_type in _FRAMED else 1
            if frames > limits.max_pages:
                what = "frames" if media_type == "image/gif" else "pages"
                raise LimitExceeded(f"{frames} {what}, limit is {limits.max_pages}")
            total = 0
            # A GIF's frames share its canvas and only the first one is decoded.
            for frame in range(1 if media_type == "image/gif" else frames):
                image.seek(frame)
                _check_pixels(image.size, limits)
                total += image.size[0] * image.size[1]
            if total > limits.max_file_pixels:
                raise TooComplex(
                    f"{frames} frames with {total} pixels together, "
                    f"limit is {limits.max_file_pixels}"
                )
            if media_type == "image/jpeg":
                _check_jpeg(path, limits)
            elif decode:  # of a GIF only the first frame is used, so only it must decode
                _decode_all(path, 1 if media_type == "image/gif" else frames)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptInput(f"cannot read {media_type} image: {_short(exc)}") from exc
    return 1 if media_type == "image/gif" else frames


def _check_pixels(size: tuple[int, int], limits: LimitSettings) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise CorruptInput(f"image has no pixels ({width}×{height})")
    if width * height > limits.max_pixels:
        raise LimitExceeded(
            f"image has {width}×{height} pixels, limit is {limits.max_pixels} pixels"
        )


def _decode_all(path: Path, frames: int) -> None:
    """Decode every frame once: a short IDAT, a cut strip or a bad CRC fails here."""
    with Image.open(path) as fresh:
        if fresh.format == "PNG":
            fresh.verify()  # the CRCs, which decoding alone does not check
    with Image.open(path) as fresh:
        for frame in range(frames):
            fresh.seek(frame)
            fresh.load()


def _check_jpeg(path: Path, limits: LimitSettings) -> None:
    """A complete JPEG, walked marker by marker (``briefkasten.pipeline.jpeg``), with at most
    ``limits.max_jpeg_scans`` scans. Data appended after the primary image's end (phone
    trailers, motion-photo videos) is allowed here; bundling never passes it on."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        layout = jpeg_layout(data)
    if layout.scans > limits.max_jpeg_scans:
        raise TooComplex(f"JPEG has {layout.scans} scans, limit is {limits.max_jpeg_scans}")


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
        check_pages(path, limits)  # decompressed content, before PDFium parses a page
        kinds: list[PageKind] = []
        for index in range(count):
            # Huge page boxes are fine: rendering lowers the DPI (images.render_dpi).
            try:
                chars = pdf[index].get_textpage().count_chars()
            except pdfium.PdfiumError as exc:
                raise CorruptInput(f"PDF page {index + 1} cannot be read: {_short(exc)}") from exc
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

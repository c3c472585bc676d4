"""Hostile files, built byte by byte: each one is small and costs far more than its size.

Used by the tests and by ``make bench`` (the worst accepted PDF and TIFF). Every builder writes
the file itself (no fixtures on disk) and says what it does to a naive decoder.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image


def pdf_bytes(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (object 1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def stream(data: bytes, extra: bytes = b"", *, compress: bool = False) -> bytes:
    if compress:
        data = zlib.compress(data, 9)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def deflated_zeros(size: int, byte: bytes = b"\0") -> bytes:
    """``size`` bytes of ``byte`` as a zlib stream, made chunk by chunk (about size/1000 bytes)."""
    compressor = zlib.compressobj(9)
    chunk = byte * (1024 * 1024)
    parts = []
    left = size
    while left > 0:
        parts.append(compressor.compress(chunk[: min(left, len(chunk))]))
        left -= len(chunk)
    parts.append(compressor.flush())
    return b"".join(parts)


def pdf_page_inflating_to(path: Path, size: int) -> Path:
    """One page whose content stream is ``size`` bytes of spaces once inflated (1 GiB → ~1 MB)."""
    content = deflated_zeros(size, b" ")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
    ]
    path.write_bytes(pdf_bytes(objects))
    return path


def pdf_huge_pages(path: Path, pages: int = 1, side_pt: int = 14400, user_unit: float = 0) -> Path:
    """``pages`` pages of ``side_pt`` × ``side_pt`` points sharing one tiny content stream:
    at 300 dpi each would be a 60000 × 60000 bitmap (3.6 gigapixels). 100 pages are ~16 KB."""
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(pages))
    unit = b" /UserUnit %g" % user_unit if user_unit else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        stream(b"0 0 m 100 100 l S"),
    ]
    for _ in range(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d]%s /Contents 3 0 R >>"
            % (side_pt, side_pt, unit)
        )
    path.write_bytes(pdf_bytes(objects))
    return path


def pdf_page_tree_loop(path: Path) -> Path:
    """A page tree whose /Pages node lists itself as a kid."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    path.write_bytes(pdf_bytes(objects))
    return path


def tiff_of_huge_frames(path: Path, frames: int = 100, side: int = 8944) -> Path:
    """A multi-frame TIFF whose ``frames`` frames of ``side``² grey pixels (80 MP at 8944) all
    point at one shared deflate strip of zeros: ~80 KB on disk, 8 gigapixels to decode."""
    strip = deflated_zeros(side * side)
    header = b"II*\x00" + struct.pack("<I", 8)
    entries = 9
    ifd_size = 2 + entries * 12 + 4
    strip_offset = 8 + frames * ifd_size
    out = bytearray(header)
    for frame in range(frames):
        next_ifd = 8 + (frame + 1) * ifd_size if frame + 1 < frames else 0
        tags = [
            (256, 4, 1, side),  # ImageWidth
            (257, 4, 1, side),  # ImageLength
            (258, 3, 1, 8),  # BitsPerSample
            (259, 3, 1, 8),  # Compression: Adobe deflate
            (262, 3, 1, 1),  # Photometric: black is zero
            (273, 4, 1, strip_offset),  # StripOffsets
            (277, 3, 1, 1),  # SamplesPerPixel
            (278, 4, 1, side),  # RowsPerStrip
            (279, 4, 1, len(strip)),  # StripByteCounts
        ]
        out += struct.pack("<H", entries)
        for tag, kind, count, value in tags:
            out += struct.pack("<HHII", tag, kind, count, value)
        out += struct.pack("<I", next_ifd)
    out += strip
    path.write_bytes(bytes(out))
    return path


def progressive_jpeg_with_repeated_scans(path: Path, repeats: int = 100) -> Path:
    """A progressive JPEG whose last scan is repeated ``repeats`` times before its end marker:
    +12 KB, and every extra scan is one more full pass over the coefficients."""
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((1200, 900)).convert("RGB").save(
        buffer, format="JPEG", progressive=True, quality=85
    )
    data = buffer.getvalue()
    last_scan = data.rindex(b"\xff\xda")
    end = data.rindex(b"\xff\xd9")
    path.write_bytes(data[:end] + data[last_scan:end] * repeats + data[end:])
    return path


def png_with_short_idat(path: Path) -> Path:
    """A PNG whose IDAT holds only the first part of the pixel data, with a valid CRC."""
    buffer = io.BytesIO()
    Image.effect_noise((600, 400), 50).save(buffer, format="PNG")
    data = buffer.getvalue()
    start = data.index(b"IDAT") - 4
    length = struct.unpack(">I", data[start : start + 4])[0]
    payload = data[start + 8 : start + 8 + length][: length // 3]
    chunk = struct.pack(">I", len(payload)) + b"IDAT" + payload
    chunk += struct.pack(">I", zlib.crc32(b"IDAT" + payload) & 0xFFFFFFFF)
    rest = data[start + 12 + length :]
    path.write_bytes(data[:start] + chunk + rest)
    return path


def pdf_of_pages(path: Path, pages: int) -> Path:
    """A tiny valid PDF of ``pages`` A4 pages sharing one content stream."""
    return pdf_huge_pages(path, pages=pages, side_pt=842)


def pdf_after_junk(source: Path, path: Path, junk: int | bytes) -> Path:
    """``source`` with junk before its ``%PDF-`` header (a mail header, a scanner's preamble):
    ``junk`` bytes of filler, or those exact bytes. PDFium gives up after 1 KiB of it."""
    prefix = b"J" * junk if isinstance(junk, int) else junk
    path.write_bytes(prefix + source.read_bytes())
    return path


def animated_gif(path: Path, frames: list[Image.Image], *, duration: int = 200) -> Path:
    """An animated GIF of ``frames`` (palette images; only the first one is a page for us)."""
    palette = [frame.convert("P", palette=Image.Palette.ADAPTIVE) for frame in frames]
    palette[0].save(path, save_all=True, append_images=palette[1:], duration=duration, loop=0)
    return path

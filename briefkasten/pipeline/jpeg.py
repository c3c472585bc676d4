"""A JPEG marker walker: where the primary image ends, how many scans it has, what metadata
it carries — and a cleaner that keeps only what a decoder needs.

Pure and bounded: works on ``bytes``, ``bytearray``, ``memoryview`` or an ``mmap`` without
copying it, touches every byte at most once (entropy-coded data is searched with one C-speed
regular expression per scan) and stops after ``max_segments`` markers (``LimitExceeded``).

The walk covers ALL segments of the primary image, not only those before the first scan: a
progressive JPEG has tables, APPn and COM segments *between* its scans. Inside entropy-coded
data every ``FF`` byte is followed by ``00`` (stuffing) or ``D0``–``D7`` (restart markers);
any other marker ends the scan. The primary image ends at the EOI that follows its last scan;
everything after it (an appended ZIP or HTML, a second JPEG with EXIF GPS as phones write for
gain maps and motion photos) is not part of the image. An EXIF thumbnail inside APP1 (with its
own SOI, scan and EOI) is skipped by the segment's length.

``clean_jpeg`` keeps SOI, every table, frame and scan segment of the primary image, its EOI,
and of the APPn segments only APP2 ``ICC_PROFILE`` (colours) and APP14 ``Adobe`` (the colour
transform of CMYK/RGB files), and those only before the first scan. APP0 JFIF is dropped too:
its density is not used (bundling sets the page size itself), libjpeg, Pillow and PDF's
DCTDecode assume YCbCr for three components without it just as with it, and a JFIF/JFXX
thumbnail is a second picture that may show more than the page. COM segments go as well.
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass
from typing import Union

from briefkasten.errors import CorruptInput, LimitExceeded

Buffer = Union[bytes, bytearray, memoryview, mmap.mmap]  # noqa: UP007 (a runtime alias)

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
#: Segments with a length that decoders need: frames (SOFn), tables (DHT, DAC, DQT, DRI),
#: scans (SOS), DNL, hierarchical DHP/EXP. Anything else but APPn/COM is refused as unknown.
_STRUCTURE = frozenset({*range(0xC0, 0xD0), SOS, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF})
_APP = range(0xE0, 0xF0)
#: Frame headers (SOF0–SOF15), not DHT (C4), JPG (C8) or DAC (CC).
_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
COM = 0xFE
#: Markers that stand alone (no length): TEM and RST0–RST7.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
#: In entropy-coded data: an FF that is not stuffing (00), a restart (D0–D7) or fill (FF).
_END_OF_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
#: A marker's FF and the fill bytes before it.
_FILL = re.compile(rb"\xff+")
DEFAULT_MAX_SEGMENTS = 10_000
_SIGNATURES = (
    (0xE0, b"JFIF\x00", "jfif"),
    (0xE0, b"JFXX\x00", "jfxx"),
    (0xE1, b"Exif\x00", "exif"),
    (0xE1, b"http://ns.adobe.com/xap/1.0/", "xmp"),
    (0xE1, b"http://ns.adobe.com/xmp/extension/", "xmp"),
    (0xE2, b"ICC_PROFILE\x00", "icc"),
    (0xE2, b"MPF\x00", "mpf"),
    (0xEE, b"Adobe", "adobe"),
)
#: APPn kinds ``clean_jpeg`` keeps (before the first scan only).
KEPT_APP_KINDS = frozenset({"icc", "adobe"})


@dataclass(frozen=True)
class Segment:
    """One marker segment of the primary image, ``data[offset:end]``.

    For SOS, ``end`` includes the scan's entropy-coded data. ``scans_before`` says where it
    stands: 0 before the first scan, 2 between the second and the third.
    """

    marker: int
    offset: int
    end: int
    scans_before: int
    kind: str

    @property
    def is_metadata(self) -> bool:
        """APPn or COM: nothing a decoder needs (except ICC/Adobe, see ``kept``)."""
        return self.marker in _APP or self.marker == COM

    @property
    def kept(self) -> bool:
        """Whether ``clean_jpeg`` copies this segment."""
        if not self.is_metadata:
            return True
        return self.kind in KEPT_APP_KINDS and self.scans_before == 0

    @property
    def name(self) -> str:
        if self.marker in _APP:
            return f"APP{self.marker - 0xE0}"
        return {COM: "COM", SOS: "SOS"}.get(self.marker, f"FF{self.marker:02X}")


@dataclass(frozen=True)
class JpegLayout:
    """The primary image: its segments in order, scan count and where it ends."""

    segments: tuple[Segment, ...]
    scans: int
    #: Offset just after the primary image's EOI.
    end: int
    #: Bytes after ``end`` (appended data of any kind).
    trailing: int

    @property
    def metadata(self) -> tuple[Segment, ...]:
        """The APPn and COM segments, wherever they stand."""
        return tuple(s for s in self.segments if s.is_metadata)

    @property
    def dropped(self) -> tuple[Segment, ...]:
        """What ``clean_jpeg`` leaves out (besides the trailing bytes)."""
        return tuple(s for s in self.segments if not s.kept)


def jpeg_layout(data: Buffer, *, max_segments: int = DEFAULT_MAX_SEGMENTS) -> JpegLayout:
    """Walk the primary image of ``data``; ``CorruptInput`` if it is malformed or truncated."""
    size = len(data)
    if size < 4 or data[0] != 0xFF or data[1] != SOI:
        raise CorruptInput("not a JPEG stream")
    segments: list[Segment] = []
    pos, scans, frame = 2, 0, False
    for _ in range(max_segments):
        pos, marker = _next_marker(data, pos)
        if marker == EOI:
            if scans == 0:
                raise CorruptInput("JPEG ends before its first scan")
            return JpegLayout(tuple(segments), scans, pos, size - pos)
        if marker in _STANDALONE:
            continue
        segment = _segment(data, pos - 2, marker, scans)
        if marker == SOS:
            if not frame:
                raise CorruptInput("JPEG scan before its frame header")
            scans += 1
        elif marker in _FRAMES:
            frame = True
        segments.append(segment)
        pos = segment.end
    raise LimitExceeded(f"JPEG has more than {max_segments} markers")


def frame_size(data: Buffer, layout: JpegLayout) -> tuple[int, int]:
    """``(width, height)`` from the primary image's frame header (SOFn: precision, height,
    width); ``CorruptInput`` when it is too short to hold them."""
    frame = next(s for s in layout.segments if s.marker in _FRAMES)
    if frame.end - frame.offset < 9:
        raise CorruptInput("JPEG frame header is too short")
    height = int.from_bytes(data[frame.offset + 5 : frame.offset + 7], "big")
    width = int.from_bytes(data[frame.offset + 7 : frame.offset + 9], "big")
    return width, height


def scan_count(data: Buffer) -> int:
    """The number of scans (SOS segments) of the primary image."""
    return jpeg_layout(data).scans


def clean_jpeg(data: Buffer) -> bytes:
    """The primary image without metadata and without anything after its EOI (no re-encoding).

    Raises ``CorruptInput`` for what ``jpeg_layout`` refuses; when that happens, re-encode.
    """
    layout = jpeg_layout(data)
    parts: list[Buffer] = [b"\xff\xd8"]
    parts.extend(data[s.offset : s.end] for s in layout.segments if s.kept)
    parts.append(b"\xff\xd9")
    return b"".join(parts)


def _next_marker(data: Buffer, pos: int) -> tuple[int, int]:
    """Skip fill bytes at ``pos``; return the offset after the marker and the marker."""
    fill = _FILL.match(data, pos)
    if fill is None:
        truncated = pos >= len(data)
        raise CorruptInput("JPEG truncated" if truncated else "malformed JPEG: marker expected")
    pos = fill.end()
    if pos >= len(data):
        raise CorruptInput("JPEG truncated")
    marker = data[pos]
    if marker == 0x00 or marker == SOI:
        raise CorruptInput(f"malformed JPEG: marker FF{marker:02X} out of place")
    return pos + 1, marker


def _segment(data: Buffer, offset: int, marker: int, scans: int) -> Segment:
    if not (marker in _STRUCTURE or marker in _APP or marker == COM):
        raise CorruptInput(f"JPEG has an unknown marker FF{marker:02X}")
    if offset + 4 > len(data):
        raise CorruptInput("JPEG truncated")
    length = int.from_bytes(data[offset + 2 : offset + 4], "big")
    end = offset + 2 + length
    if length < 2 or end > len(data):
        raise CorruptInput("JPEG segment length is out of bounds")
    if marker == SOS:
        end = _scan_end(data, end)
    return Segment(marker, offset, end, scans, _kind(data, marker, offset + 4, end))


def _scan_end(data: Buffer, start: int) -> int:
    """The end of the entropy-coded data from ``start``: the next real marker.

    Fill bytes before that marker stay with the scan (decoders skip them; stripping them
    backwards would cost a Python loop over a hostile run of them)."""
    found = _END_OF_SCAN.search(data, start)
    if found is None:
        raise CorruptInput("JPEG is truncated (no end of image after its scans)")
    return found.start()


def _kind(data: Buffer, marker: int, payload: int, end: int) -> str:
    if marker == COM:
        return "comment"
    if marker not in _APP:
        return "structure"
    head = bytes(data[payload : min(end, payload + 40)])
    for app, signature, kind in _SIGNATURES:
        if marker == app and head.startswith(signature):
            return kind
    return "app"

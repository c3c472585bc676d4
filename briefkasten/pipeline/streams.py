"""The decompressed size of a PDF stream, measured without ever holding more than a budget.

A 1 MB Flate stream can inflate to 1 GB: ``decoded_size`` inflates in 1 MiB steps and stops
as soon as the budget is passed. Filters whose output we cannot bound cheaply (LZW, run
length, crypt, images-only codecs in a content stream) count as too large: such a page is
rasterised instead of copied. ``InlineImages`` reads the decoded content on the way for
inline images over the pixel limit. Hand-written because neither pypdf (process-global limits of
75 MB, raises only after inflating that much) nor pikepdf (decodes everything) can stop early.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Sequence

from briefkasten.errors import StreamTooLarge

_STEP = 1024 * 1024
_INPUT_STEP = 16 * 1024
_FLATE = frozenset({"/FlateDecode", "/Fl"})
_HEX = frozenset({"/ASCIIHexDecode", "/AHx"})
_A85 = frozenset({"/ASCII85Decode", "/A85"})
_WHITESPACE = re.compile(rb"[\x00\t\n\x0c\r ]+")
MAX_INLINE_IMAGES = 10_000
_HEADER_WINDOW = 512
#: The ``BI`` operator: a token on its own (whitespace or start before, whitespace after).
_INLINE_START = re.compile(rb"(?:^|(?<=[\x00\t\n\x0c\r ]))BI[\x00\t\n\x0c\r ]")
_INLINE_SIZE = re.compile(rb"/(W|Width|H|Height)[\x00\t\n\x0c\r ]*(\d{1,9})(?!\d)")


class InlineImages:
    """Finds inline images (``BI … ID``) in decoded content, piece by piece, and refuses one
    over ``max_pixels``, an inline JPEG (``/DCT``: EXIF cannot be cleaned inside a content
    stream) or more than ``MAX_INLINE_IMAGES`` of them (``StreamTooLarge``).

    Only the image dictionary (``/W``/``/Width``, ``/H``/``/Height``) is read, never its data.
    A ``BI`` inside a string or image data is a false start that costs one small check."""

    def __init__(self, max_pixels: int) -> None:
        self.max_pixels = max_pixels
        self.seen = 0
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        text = self._tail + chunk
        ready = max(len(text) - _HEADER_WINDOW, 0)
        self._scan(text, ready)
        self._tail = text[ready:]

    def close(self) -> None:
        self._scan(self._tail, len(self._tail))
        self._tail = b""

    def _scan(self, text: bytes, stop: int) -> None:
        for found in _INLINE_START.finditer(text, 0, stop):
            self.seen += 1
            if self.seen > MAX_INLINE_IMAGES:
                raise StreamTooLarge(f"more than {MAX_INLINE_IMAGES} inline images")
            header = text[found.end() : found.end() + _HEADER_WINDOW].split(b" ID", 1)[0]
            size = {k[:1]: int(v) for k, v in _INLINE_SIZE.findall(header)}
            width, height = size.get(b"W", 0), size.get(b"H", 0)
            if width * height > self.max_pixels:
                raise StreamTooLarge(f"inline image of {width}×{height} pixels")
            if b"/DCT" in header:  # a JPEG inside the content: its EXIF cannot be cleaned there
                raise StreamTooLarge("inline JPEG image")


def measurable(filters: Sequence[str]) -> bool:
    """Whether ``decoded_size`` can measure a stream with these filters (else it refuses it)."""
    return all(name in _FLATE or name in _HEX or name in _A85 for name in filters)


def decoded_size(
    raw: bytes, filters: Sequence[str], budget: int, look: InlineImages | None = None
) -> int:
    """Bytes ``raw`` decodes to through ``filters``; ``StreamTooLarge`` over ``budget``.

    With ``look``, the decoded data is shown to it (in pieces) as it comes."""
    data = raw
    for position, name in enumerate(filters):
        last = position == len(filters) - 1
        if name in _FLATE:
            if last:
                return _inflated_size(data, budget, look)
            data = _inflate(data, budget)
        elif name in _HEX:
            data = _unhex(data)
        elif name in _A85:
            data = _un85(data)
        else:
            raise StreamTooLarge(f"stream filter {_safe(name)} cannot be measured")
        if len(data) > budget:
            raise StreamTooLarge(f"stream decodes to more than {budget} bytes")
    if len(data) > budget:
        raise StreamTooLarge(f"stream decodes to more than {budget} bytes")
    if look is not None:
        look.feed(data)
        look.close()
    return len(data)


def _inflated_size(data: bytes, budget: int, look: InlineImages | None) -> int:
    """Count what inflates out of ``data`` in bounded steps; broken data counts up to the break."""
    inflater = zlib.decompressobj()
    size = 0
    try:
        for start in range(0, len(data), _INPUT_STEP):
            pending = data[start : start + _INPUT_STEP]
            while pending and not inflater.eof:
                out = inflater.decompress(pending, _STEP)
                size += len(out)
                if look is not None:
                    look.feed(out)
                if size > budget:
                    raise StreamTooLarge(f"stream decodes to more than {budget} bytes")
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        pass  # readers stop at the damage too
    if look is not None:
        look.close()
    return size


def _inflate(data: bytes, budget: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, budget + 1)
    except zlib.error:
        return b""
    if len(out) > budget:
        raise StreamTooLarge(f"stream decodes to more than {budget} bytes")
    return out


def _unhex(data: bytes) -> bytes:
    text = _WHITESPACE.sub(b"", data).split(b">", 1)[0]
    if len(text) % 2:
        text += b"0"
    try:
        return binascii.unhexlify(text)
    except binascii.Error:
        return b""


def _un85(data: bytes) -> bytes:
    text = _WHITESPACE.sub(b"", data)
    text = text.removeprefix(b"<~").split(b"~>", 1)[0]
    try:
        return base64.a85decode(text)
    except ValueError:
        return b""


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9/]", "", name)[:32]

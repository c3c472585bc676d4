"""The decompressed size of a PDF stream, measured without ever holding more than a budget.

A 1 MB Flate stream can inflate to 1 GB: ``decoded_size`` inflates in 1 MiB steps and stops
as soon as the budget is passed. Filters whose output we cannot bound cheaply (LZW, run
length, crypt, images-only codecs in a content stream) count as too large: such a page is
rasterised instead of copied. Hand-written because neither pypdf (process-global limits of
75 MB, raises only after inflating that much) nor pikepdf (decodes everything) can stop early.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Sequence

_STEP = 1024 * 1024
_INPUT_STEP = 16 * 1024
_FLATE = frozenset({"/FlateDecode", "/Fl"})
_HEX = frozenset({"/ASCIIHexDecode", "/AHx"})
_A85 = frozenset({"/ASCII85Decode", "/A85"})
_WHITESPACE = re.compile(rb"[\x00\t\n\x0c\r ]+")


class StreamTooLarge(Exception):  # a result of measuring, caught by the caller
    """The stream decodes to more than the budget, or its filter cannot be measured."""


def decoded_size(raw: bytes, filters: Sequence[str], budget: int) -> int:
    """Bytes ``raw`` decodes to through ``filters``; ``StreamTooLarge`` over ``budget``."""
    data = raw
    for position, name in enumerate(filters):
        last = position == len(filters) - 1
        if name in _FLATE:
            if last:
                return _inflated_size(data, budget)
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
    return len(data)


def _inflated_size(data: bytes, budget: int) -> int:
    """Count what inflates out of ``data`` in bounded steps; broken data counts up to the break."""
    inflater = zlib.decompressobj()
    size = 0
    try:
        for start in range(0, len(data), _INPUT_STEP):
            pending = data[start : start + _INPUT_STEP]
            while pending and not inflater.eof:
                size += len(inflater.decompress(pending, _STEP))
                if size > budget:
                    raise StreamTooLarge(f"stream decodes to more than {budget} bytes")
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        pass  # readers stop at the damage too
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

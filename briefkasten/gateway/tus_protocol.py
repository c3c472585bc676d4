"""The tus 1.0.0 protocol's vocabulary: its constants, headers and per-upload locks.

What ``tus.py``'s handlers parse and answer with, kept apart from the handlers: the numbers,
``Upload-Checksum`` and ``Upload-Metadata`` headers, the ``Upload-Expires`` date, the protocol
headers on every answer under the prefix (an ``on_response_prepare`` hook) and ``UploadLocks``
(one ``asyncio.Lock`` per upload). The protocol's errors are in ``briefkasten.errors``
(``TusVersionUnsupported``, ``OffsetMismatch``, ``ChecksumMismatch``, ``UploadInterrupted``,
``WrongContentType``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re
import weakref
from collections.abc import AsyncIterator, Mapping
from email.utils import formatdate

from aiohttp import web

from briefkasten.errors import InvalidRequest, NotFound, OffsetMismatch, TusVersionUnsupported
from briefkasten.gateway.tus_store import UPLOAD_ID

TUS_VERSION = "1.0.0"
PREFIX = "/api/v1/tus/"
EXTENSIONS = "creation,termination,expiration,checksum"
CHECKSUMS = ("sha1", "sha256", "md5")
MAX_METADATA_CHARS = 4096
METADATA_KEY = re.compile(r"^[\x21-\x2b\x2d-\x7e]{1,64}$")  # printable ASCII, no space/comma
NUMBER = re.compile(r"^[0-9]{1,19}$")


class UploadLocks:
    """One ``asyncio.Lock`` per upload id, kept only while a request holds or awaits it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @contextlib.asynccontextmanager
    async def hold(self, upload_id: str, wait: float) -> AsyncIterator[None]:
        """Hold the upload's lock; ``OffsetMismatch`` (409) if it is not free within ``wait``."""
        lock = self._locks.get(upload_id)
        if lock is None:
            lock = self._locks[upload_id] = asyncio.Lock()
        try:
            async with asyncio.timeout(wait):
                await lock.acquire()
        except TimeoutError:
            raise OffsetMismatch("another request is still writing to this upload") from None
        try:
            yield
        finally:
            lock.release()


def check_version(request: web.Request) -> None:
    """``TusVersionUnsupported`` (412) unless the request speaks our tus version."""
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise TusVersionUnsupported(f"Tus-Resumable must be {TUS_VERSION}")


def upload_id_of(request: web.Request) -> str:
    """The upload id of the path; ``NotFound`` if it cannot be one of ours."""
    found = request.match_info["upload_id"]
    if not UPLOAD_ID.match(found):
        raise NotFound("no such upload")
    return found


def header_number(request: web.Request, name: str) -> int:
    """The non-negative integer header ``name`` (``Upload-Length``, ``Upload-Offset``)."""
    raw = request.headers.get(name, "").strip()
    if not NUMBER.match(raw):
        raise InvalidRequest(f"{name} is missing or not a non-negative integer")
    return int(raw)


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """``Upload-Checksum: <algorithm> <base64 digest>`` → (algorithm, digest)."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise InvalidRequest(f"checksum algorithm must be one of {', '.join(CHECKSUMS)}")
    try:
        return algorithm, base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error as exc:
        raise InvalidRequest("Upload-Checksum is not base64") from exc


def parse_metadata(header: str) -> dict[str, str]:
    """``key base64,key2 base64`` → {key: value}; invalid UTF-8 in a value becomes U+FFFD."""
    if len(header) > MAX_METADATA_CHARS:
        raise InvalidRequest("Upload-Metadata is too long")
    metadata: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, encoded = pair.partition(" ")
        if not METADATA_KEY.match(key) or key in metadata:
            raise InvalidRequest("Upload-Metadata has an invalid or repeated key")
        try:
            raw = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error as exc:
            raise InvalidRequest(f"Upload-Metadata {key[:20]!r} is not base64") from exc
        metadata[key] = raw.decode("utf-8", "replace")
    return metadata


def encode_metadata(metadata: Mapping[str, str]) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode('ascii')}" if value else key
        for key, value in metadata.items()
    )


def http_date(timestamp: float) -> str:
    """RFC 7231 date, as ``Upload-Expires`` wants it."""
    return formatdate(timestamp, usegmt=True)


async def protocol_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: every answer under the prefix, error answers included,
    speaks tus and is not cached."""
    if request.path.startswith(PREFIX):
        response.headers["Tus-Resumable"] = TUS_VERSION
        response.headers.setdefault("Cache-Control", "no-store")
        if response.status == TusVersionUnsupported.http_status:
            response.headers["Tus-Version"] = TUS_VERSION

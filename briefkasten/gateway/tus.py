"""Resumable uploads on ``/api/v1/tus/``: tus 1.0.0 (creation, termination, expiration, checksum).

Written by hand because no maintained tus server exists for aiohttp (the Python servers are
FastAPI/Django routers) and the protocol is small: five handlers over the blocking
``TusStore`` (``tus_store.py``), which keeps one data and one JSON info file per upload.

- Applicants (link token) and clients (API key) authenticate with ``Authorization: Bearer``;
  an upload belongs to ``tenant/link_id`` or ``tenant/api``; anyone else's id answers 404.
- ``PATCH`` streams the body with ``iter_chunked`` into the data file (aiofiles), never past
  ``Upload-Length`` (413), and records the new offset only after the bytes are on disk.
  A cut or stalled connection (``READ_TIMEOUT_S`` without a byte, or a body still arriving
  after ``gateway.body_deadline_s``: slowloris) keeps what arrived, unless the request
  carried ``Upload-Checksum``: then its partial chunk is truncated away. A
  checksum mismatch (460) and a request over the length discard the request's bytes.
  A write that fails (``ENOSPC``: the disk is full) truncates the file back to the recorded
  offset and answers 503 ``spool_full`` with ``Retry-After``; the upload stays resumable.
- Quotas (``TusStore``): a creation over ``gateway.tus_quota_per_owner_bytes`` is 413
  ``quota_exceeded``; over ``gateway.tus_quota_bytes`` or the free disk space 503
  ``spool_full`` with ``Retry-After`` (tus clients retry 5xx; 507 they do not know).
- One ``asyncio.Lock`` per upload: a second ``PATCH`` or ``DELETE`` on the same upload waits
  up to ``LOCK_WAIT_S`` for the first to finish (then the offsets decide), else answers 409.
- When the last byte arrives the file is sniffed and hashed in the gateway executor; a
  rejected file is deleted and answered with its error. ``TusStore.completed()`` then hands
  the checked ``IncomingFile`` to the submission code.
- Errors go through the gateway's one error boundary (the JSON error body); the protocol
  headers (``Tus-Resumable``, ``Tus-Version`` on 412, ``Cache-Control: no-store``) are added
  to every response under the prefix by an ``on_response_prepare`` hook, errors included.
- A background task deletes expired uploads every ``tus_cleanup_interval_s`` seconds.

Limitation: unfinished uploads live in this gateway's local spool. Several gateways need
sticky routing by upload URL (``/api/v1/tus/<id>``) or a spool directory shared by all.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
import re
import weakref
from collections.abc import AsyncIterator, Mapping
from email.utils import formatdate

import aiofiles
from aiohttp import web

from briefkasten.errors import InvalidRequest, LimitExceeded, NotFound, SpoolFull
from briefkasten.gateway import api  # as a module: api.py imports TUS_STORE from here
from briefkasten.gateway.body import BodyClock
from briefkasten.gateway.keys import CHECKS, EXECUTOR, SETTINGS, SPOOL
from briefkasten.gateway.spool import no_space
from briefkasten.gateway.tus_store import UPLOAD_ID, TusStore, TusUpload

log = logging.getLogger("briefkasten.gateway")

TUS_VERSION = "1.0.0"
PREFIX = "/api/v1/tus/"
EXTENSIONS = "creation,termination,expiration,checksum"
CHECKSUMS = ("sha1", "sha256", "md5")
CHUNK = 256 * 1024
#: How long a request waits for another one on the same upload to finish.
LOCK_WAIT_S = 5.0
#: A connection that sends no byte for this long counts as cut.
READ_TIMEOUT_S = 60.0
#: The expiry task never runs more often than this, whatever the settings say.
MIN_CLEANUP_INTERVAL_S = 1.0
MAX_METADATA_CHARS = 4096
METADATA_KEY = re.compile(r"^[\x21-\x2b\x2d-\x7e]{1,64}$")  # printable ASCII, no space/comma
NUMBER = re.compile(r"^[0-9]{1,19}$")


class TusVersionUnsupported(InvalidRequest):
    """The client speaks a tus version we do not (or sent no ``Tus-Resumable``)."""

    code = "tus_version_unsupported"
    http_status = 412
    message_de = (
        "Ihr Browser verwendet ein Upload-Verfahren, das wir nicht kennen. "
        "Bitte laden Sie die Seite neu."
    )


class OffsetMismatch(InvalidRequest):
    """``Upload-Offset`` is not where the upload stands, or another request is writing."""

    code = "offset_mismatch"
    http_status = 409
    message_de = "Der Upload ist durcheinandergeraten. Bitte versuchen Sie es noch einmal."


class ChecksumMismatch(InvalidRequest):
    """The chunk's ``Upload-Checksum`` does not match what arrived; the chunk is discarded."""

    code = "checksum_mismatch"
    http_status = 460
    message_de = "Ein Teil der Datei ist beschädigt angekommen. Bitte versuchen Sie es noch einmal."


class UploadInterrupted(InvalidRequest):
    """The connection broke or stalled mid-chunk; what arrived is kept (without checksum)."""

    code = "upload_interrupted"
    message_de = (
        "Die Verbindung ist abgebrochen. Der Upload geht weiter, sobald Sie wieder verbunden sind."
    )


class WrongContentType(InvalidRequest):
    """A ``PATCH`` without ``Content-Type: application/offset+octet-stream``."""

    code = "wrong_content_type"
    http_status = 415


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


TUS_STORE = web.AppKey("tus_store", TusStore)
TUS_LOCKS = web.AppKey("tus_locks", UploadLocks)


def setup(app: web.Application) -> None:
    """Add the tus routes, the store, the protocol headers and the expiry task to ``app``."""
    settings = app[SETTINGS]
    app[TUS_STORE] = TusStore(
        app[SPOOL] / "tus",
        expiry_s=settings.gateway.tus_expiry_s,
        max_bytes=settings.limits.max_file_bytes,
        quota_per_owner=settings.gateway.tus_quota_per_owner_bytes,
        quota=settings.gateway.tus_quota_bytes,
    )
    app[TUS_LOCKS] = UploadLocks()
    app.on_response_prepare.append(_protocol_headers)
    app.cleanup_ctx.append(_expiry)
    app.router.add_route("OPTIONS", PREFIX, options)
    app.router.add_post(PREFIX, create)
    app.router.add_head(PREFIX + "{upload_id}", head)
    app.router.add_patch(PREFIX + "{upload_id}", patch)
    app.router.add_delete(PREFIX + "{upload_id}", delete)


async def options(request: web.Request) -> web.Response:
    """Discovery: version, extensions, checksum algorithms, maximum size (no auth)."""
    return web.Response(
        status=204,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Checksum-Algorithm": ",".join(CHECKSUMS),
            "Tus-Max-Size": str(request.app[TUS_STORE].max_bytes),
        },
    )


async def create(request: web.Request) -> web.Response:
    """Creation: an empty upload of ``Upload-Length`` bytes → 201 with its ``Location``."""
    owner = await _owner(request)
    if "Upload-Defer-Length" in request.headers:
        raise InvalidRequest("Upload-Defer-Length is not supported; send Upload-Length")
    length = _number(request, "Upload-Length")
    metadata = _parse_metadata(request.headers.get("Upload-Metadata", ""))
    upload = await api.run(request, request.app[TUS_STORE].create, owner, length, metadata)
    log.info("tus upload %s created: %d bytes", upload.upload_id, length)
    return web.Response(
        status=201,
        headers={
            "Location": PREFIX + upload.upload_id,
            "Upload-Offset": "0",
            "Upload-Expires": _http_date(upload.expires),
        },
    )


async def head(request: web.Request) -> web.Response:
    """Where the upload stands: offset, length, metadata, expiry."""
    owner = await _owner(request)
    upload = await api.run(request, request.app[TUS_STORE].get, owner, _upload_id(request))
    headers = {
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.length),
        "Upload-Expires": _http_date(upload.expires),
    }
    if upload.metadata:
        headers["Upload-Metadata"] = _encode_metadata(upload.metadata)
    return web.Response(status=200, headers=headers)


async def patch(request: web.Request) -> web.Response:
    """Append the body at ``Upload-Offset``; check the file once the last byte is in."""
    owner = await _owner(request)
    upload_id = _upload_id(request)
    if request.content_type != "application/offset+octet-stream":
        raise WrongContentType("PATCH needs Content-Type: application/offset+octet-stream")
    offset = _number(request, "Upload-Offset")
    checksum = _checksum(request.headers.get("Upload-Checksum"))
    store = request.app[TUS_STORE]
    async with request.app[TUS_LOCKS].hold(upload_id, LOCK_WAIT_S):
        upload = await api.run(request, store.get, owner, upload_id)
        if offset != upload.offset:
            raise OffsetMismatch(f"Upload-Offset is {offset}, the upload is at {upload.offset}")
        declared = request.content_length
        if declared is not None and offset + declared > upload.length:
            raise LimitExceeded(f"{declared} bytes at {offset} go beyond Upload-Length")
        if not upload.complete:
            upload = await _receive(request, owner, upload, checksum)
        if upload.complete and upload.incoming is None:
            check = request.app[CHECKS].sniff
            incoming = await api.run(request, store.finish, owner, upload_id, check)
            log.info("tus upload %s complete: %s", upload_id, incoming.media_type)
    return web.Response(
        status=204,
        headers={"Upload-Offset": str(upload.offset), "Upload-Expires": _http_date(upload.expires)},
    )


async def delete(request: web.Request) -> web.Response:
    """Termination: the upload and its bytes are removed."""
    owner = await _owner(request)
    upload_id = _upload_id(request)
    async with request.app[TUS_LOCKS].hold(upload_id, LOCK_WAIT_S):
        await api.run(request, request.app[TUS_STORE].delete, owner, upload_id)
    return web.Response(status=204)


async def _receive(
    request: web.Request, owner: str, upload: TusUpload, checksum: tuple[str, bytes] | None
) -> TusUpload:
    """Stream the body into the data file and record the offset of the bytes kept."""
    try:
        return await _append(request, owner, upload, checksum)
    except OSError as exc:  # the disk is full (or failing): back to the recorded offset
        await api.run(request, request.app[TUS_STORE].truncate, owner, upload.upload_id)
        log.warning("tus upload %s: write failed (%s), truncated", upload.upload_id, exc.strerror)
        if no_space(exc):
            raise SpoolFull("cannot store the chunk: no space left in the spool") from None
        raise


async def _append(
    request: web.Request, owner: str, upload: TusUpload, checksum: tuple[str, bytes] | None
) -> TusUpload:
    store = request.app[TUS_STORE]
    digest = hashlib.new(checksum[0], usedforsecurity=False) if checksum else None
    clock = BodyClock(READ_TIMEOUT_S, request.app[SETTINGS].gateway.body_deadline_s)
    received = keep = 0
    try:
        async with aiofiles.open(upload.path, "r+b") as out:
            await out.seek(upload.offset)
            await out.truncate()  # what a writer that died left beyond the recorded offset
            try:
                chunks = request.content.iter_chunked(CHUNK)
                while chunk := await _next_chunk(chunks, clock):
                    if upload.offset + received + len(chunk) > upload.length:
                        raise LimitExceeded("the request has more bytes than Upload-Length")
                    if digest is not None:
                        digest.update(chunk)
                    await out.write(chunk)
                    received += len(chunk)
                if checksum is not None and digest is not None and digest.digest() != checksum[1]:
                    raise ChecksumMismatch(f"{checksum[0]} of the chunk does not match")
                keep = received
            except (UploadInterrupted, asyncio.CancelledError):
                keep = 0 if checksum else received  # a checked chunk counts only when whole
                raise
            finally:
                if keep < received:
                    await out.truncate(upload.offset + keep)
    except (UploadInterrupted, asyncio.CancelledError):
        if keep:
            await api.run(request, store.advance, owner, upload.upload_id, upload.offset + keep)
            log.info("tus upload %s interrupted: kept %d bytes", upload.upload_id, keep)
        raise
    return await api.run(request, store.advance, owner, upload.upload_id, upload.offset + keep)


async def _next_chunk(chunks: AsyncIterator[bytes], clock: BodyClock) -> bytes:
    """The next chunk of the body, ``b""`` at its end; ``UploadInterrupted`` if cut, stalled
    or past the body deadline."""
    try:
        return await clock.wait(anext(chunks, b""))
    except InvalidRequest as exc:  # RequestTimeout, or the body broke off
        raise UploadInterrupted(f"connection lost mid-chunk: {exc.message_en}") from None
    except OSError as exc:
        raise UploadInterrupted(f"connection lost mid-chunk: {type(exc).__name__}") from None


async def _owner(request: web.Request) -> str:
    """Check ``Tus-Resumable``, then the bearer token; the owner of the caller's uploads."""
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise TusVersionUnsupported(f"Tus-Resumable must be {TUS_VERSION}")
    tenant, link = await api.uploader(request)
    return f"{tenant}/{link.link_id}" if link is not None else f"{tenant}/api"


def _upload_id(request: web.Request) -> str:
    upload_id = request.match_info["upload_id"]
    if not UPLOAD_ID.match(upload_id):
        raise NotFound("no such upload")
    return upload_id


def _number(request: web.Request, name: str) -> int:
    raw = request.headers.get(name, "").strip()
    if not NUMBER.match(raw):
        raise InvalidRequest(f"{name} is missing or not a non-negative integer")
    return int(raw)


def _checksum(header: str | None) -> tuple[str, bytes] | None:
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


def _parse_metadata(header: str) -> dict[str, str]:
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


def _encode_metadata(metadata: Mapping[str, str]) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode('ascii')}" if value else key
        for key, value in metadata.items()
    )


def _http_date(timestamp: float) -> str:
    """RFC 7231 date, as ``Upload-Expires`` wants it."""
    return formatdate(timestamp, usegmt=True)


async def _protocol_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer under the prefix, error answers included, speaks tus and is not cached."""
    if request.path.startswith(PREFIX):
        response.headers["Tus-Resumable"] = TUS_VERSION
        response.headers.setdefault("Cache-Control", "no-store")
        if response.status == TusVersionUnsupported.http_status:
            response.headers["Tus-Version"] = TUS_VERSION


async def _expiry(app: web.Application) -> AsyncIterator[None]:
    interval = app[SETTINGS].gateway.tus_cleanup_interval_s
    task = asyncio.create_task(_expire_periodically(app, interval)) if interval > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _expire_periodically(app: web.Application, interval: float) -> None:
    """Delete expired uploads now and then every ``interval`` s, until cancelled."""
    loop = asyncio.get_running_loop()
    store = app[TUS_STORE]
    while True:
        try:
            await loop.run_in_executor(app[EXECUTOR], store.expire)
        except Exception:
            log.exception("tus spool: expiry run failed")
        await asyncio.sleep(max(interval, MIN_CLEANUP_INTERVAL_S))

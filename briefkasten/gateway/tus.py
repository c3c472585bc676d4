"""Resumable uploads on ``/api/v1/tus/``: tus 1.0.0 (creation, termination, expiration, checksum).

Written by hand because no maintained tus server exists for aiohttp (the Python servers are
FastAPI/Django routers) and the protocol is small: five handlers over a blocking
``TusBackend`` (``tus_store.py``): ``TusStore``, one data and one JSON info file per upload in
this gateway's spool (the embedded default), or ``ObjectTusStore`` (``tus_objects.py``,
``gateway.tus_store = "storage"``), parts and records in the object storage every gateway
shares, so that any gateway answers for any upload. The protocol's headers, constants and
per-upload locks are in ``tus_protocol.py``.

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
- ``POST`` on an upload with ``X-HTTP-Method-Override: PATCH`` (or ``DELETE``, ``HEAD``) is
  answered as that method; a checksum mismatch is ``460 Checksum Mismatch``.
- A background task (``expiry``, in the app's ``cleanup_ctx``) deletes expired uploads every
  ``tus_cleanup_interval_s`` seconds.

With the spool store, several gateways need sticky routing by upload URL; with the object
store they do not (the per-upload lock is per process: two gateways writing the same upload
at the same moment each add an immutable part, and the longest run of parts from 0 counts).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator

import aiofiles
from aiohttp import web

from briefkasten.errors import (
    BriefkastenError,
    ChecksumMismatch,
    InvalidRequest,
    LimitExceeded,
    OffsetMismatch,
    SpoolFull,
    UploadInterrupted,
    WrongContentType,
)
from briefkasten.gateway.auth import owner_of, uploader
from briefkasten.gateway.body import BodyClock
from briefkasten.gateway.flags import redaction_flag
from briefkasten.gateway.keys import CHECKS, EXECUTOR, SETTINGS, TUS_LOCKS, TUS_STORE
from briefkasten.gateway.request import run
from briefkasten.gateway.spool import no_space
from briefkasten.gateway.tus_protocol import (
    CHECKSUMS,
    EXTENSIONS,
    PREFIX,
    TUS_VERSION,
    check_version,
    encode_metadata,
    header_number,
    http_date,
    parse_checksum,
    parse_metadata,
    upload_id_of,
)
from briefkasten.gateway.tus_store import REDACTED_KEY, TusUpload

log = logging.getLogger("briefkasten.gateway")

CHUNK = 256 * 1024
#: How long a request waits for another one on the same upload to finish.
LOCK_WAIT_S = 5.0
#: A connection that sends no byte for this long counts as cut.
READ_TIMEOUT_S = 60.0
#: The expiry task never runs more often than this, whatever the settings say.
MIN_CLEANUP_INTERVAL_S = 1.0

routes = web.RouteTableDef()


@routes.route("OPTIONS", PREFIX)
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


@routes.post(PREFIX)
async def create(request: web.Request) -> web.Response:
    """Creation: an empty upload of ``Upload-Length`` bytes → 201 with its ``Location``."""
    owner = await _owner(request)
    if "Upload-Defer-Length" in request.headers:
        raise InvalidRequest("Upload-Defer-Length is not supported; send Upload-Length")
    length = header_number(request, "Upload-Length")
    metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    redaction_flag(metadata.get(REDACTED_KEY, "false"))  # garbage: 400 before anything is made
    upload = await run(request, request.app[TUS_STORE].create, owner, length, metadata)
    log.info("tus upload %s created: %d bytes", upload.upload_id, length)
    return web.Response(
        status=201,
        headers={
            "Location": PREFIX + upload.upload_id,
            "Upload-Offset": "0",
            "Upload-Expires": http_date(upload.expires),
        },
    )


@routes.head(PREFIX + "{upload_id}")
async def head(request: web.Request) -> web.Response:
    """Where the upload stands: offset, length, metadata, expiry."""
    owner = await _owner(request)
    upload = await run(request, request.app[TUS_STORE].get, owner, upload_id_of(request))
    headers = {
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.length),
        "Upload-Expires": http_date(upload.expires),
    }
    if upload.metadata:
        headers["Upload-Metadata"] = encode_metadata(upload.metadata)
    return web.Response(status=200, headers=headers)


@routes.patch(PREFIX + "{upload_id}")
async def patch(request: web.Request) -> web.Response:
    """Append the body at ``Upload-Offset``; check the file once the last byte is in."""
    owner = await _owner(request)
    upload_id = upload_id_of(request)
    if request.content_type != "application/offset+octet-stream":
        raise WrongContentType("PATCH needs Content-Type: application/offset+octet-stream")
    offset = header_number(request, "Upload-Offset")
    checksum = parse_checksum(request.headers.get("Upload-Checksum"))
    store = request.app[TUS_STORE]
    async with request.app[TUS_LOCKS].hold(upload_id, LOCK_WAIT_S):
        upload = await run(request, store.get, owner, upload_id)
        if offset != upload.offset:
            raise OffsetMismatch(f"Upload-Offset is {offset}, the upload is at {upload.offset}")
        declared = request.content_length
        if declared is not None and offset + declared > upload.length:
            raise LimitExceeded(f"{declared} bytes at {offset} go beyond Upload-Length")
        if not upload.complete:
            upload = await _receive(request, owner, upload, checksum)
        if upload.complete and upload.incoming is None:
            checks = request.app[CHECKS]
            incoming = await run(request, store.finish, owner, upload_id, checks)
            log.info("tus upload %s complete: %s", upload_id, incoming.media_type)
    return web.Response(
        status=204,
        headers={"Upload-Offset": str(upload.offset), "Upload-Expires": http_date(upload.expires)},
    )


@routes.delete(PREFIX + "{upload_id}")
async def delete(request: web.Request) -> web.Response:
    """Termination: the upload and its bytes are removed."""
    owner = await _owner(request)
    upload_id = upload_id_of(request)
    async with request.app[TUS_LOCKS].hold(upload_id, LOCK_WAIT_S):
        await run(request, request.app[TUS_STORE].delete, owner, upload_id)
    return web.Response(status=204)


@routes.post(PREFIX + "{upload_id}")
async def method_override(request: web.Request) -> web.StreamResponse:
    """``POST`` with ``X-HTTP-Method-Override`` (tus 1.0.0: a server MUST honour it) for
    clients behind proxies that drop ``PATCH`` and ``DELETE``."""
    handler = OVERRIDABLE.get(request.headers.get("X-HTTP-Method-Override", "").upper())
    if handler is None:
        raise InvalidRequest("POST on an upload needs X-HTTP-Method-Override: PATCH/DELETE/HEAD")
    return await handler(request)


OVERRIDABLE = {"PATCH": patch, "DELETE": delete, "HEAD": head}


async def _receive(
    request: web.Request, owner: str, upload: TusUpload, checksum: tuple[str, bytes] | None
) -> TusUpload:
    """Stream the body into the data file and record the offset of the bytes kept."""
    try:
        return await _append(request, owner, upload, checksum)
    except OSError as exc:  # the disk is full (or failing): back to the recorded offset
        await run(request, request.app[TUS_STORE].truncate, owner, upload.upload_id)
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
    path, start = await run(request, store.chunk_file, upload)
    try:
        async with aiofiles.open(path, "r+b") as out:
            await out.seek(start)
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
                    await out.truncate(start + keep)
    except (UploadInterrupted, asyncio.CancelledError):
        if keep:
            end = upload.offset + keep
            await run(request, store.commit, owner, upload.upload_id, upload.offset, end)
            log.info("tus upload %s interrupted: kept %d bytes", upload.upload_id, keep)
        else:
            await _forget_chunk(request, owner, upload.upload_id)
        raise
    except BriefkastenError:  # refused (460, 413): nothing of the request is kept
        await _forget_chunk(request, owner, upload.upload_id)
        raise
    return await run(
        request, store.commit, owner, upload.upload_id, upload.offset, upload.offset + keep
    )


async def _forget_chunk(request: web.Request, owner: str, upload_id: str) -> None:
    """Best effort: what a refused or cut request wrote goes (the upload may be gone already;
    the request's own error is the one to answer)."""
    with contextlib.suppress(BriefkastenError, OSError):
        await run(request, request.app[TUS_STORE].truncate, owner, upload_id)


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
    check_version(request)
    return owner_of(*await uploader(request))


async def expiry(app: web.Application) -> AsyncIterator[None]:
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

"""Unlocking a password-protected PDF: ``POST /api/v1/tus/{upload_id}/unlock``.

When a tus upload's last byte arrives and the sniff finds a PDF that needs a user password,
the ``PATCH`` answers 422 ``pdf_password_required`` and the upload stays in the spool (until
unlocked, deleted, or expired after ``gateway.tus_expiry_s``). The page asks the applicant for
the password and sends it here as ``{"password": "…"}``: the gateway opens the PDF once in a
sandboxed child (``passwords.Unlocker``), writes the decrypted copy beside the untouched
original and records the upload as complete (200, like ``…/check``: its media type and pages).
A wrong password is 422 ``pdf_password_wrong``; the third is 422
``pdf_password_attempts_exceeded`` and the upload is deleted. Both stores keep locked uploads:
the spool (``<id>.dec`` beside ``<id>.bin``) and the object storage (``locked-<ms>.json`` and
``decrypted-<ms>.pdf`` beside the parts, so any gateway can unlock it and send it).
"""

from __future__ import annotations

import functools
import logging

from aiohttp import web

from briefkasten.errors import (
    InputRejected,
    InvalidRequest,
    PasswordProtected,
    PdfPasswordWrong,
)
from briefkasten.gateway.auth import owner_of, uploader
from briefkasten.gateway.keys import CHECKS, RATE_LIMITS, TUS_LOCKS, TUS_STORE
from briefkasten.gateway.passwords import Unlocker
from briefkasten.gateway.request import json_object, run
from briefkasten.gateway.tus_objects import ObjectTusStore
from briefkasten.gateway.tus_protocol import upload_id_of
from briefkasten.gateway.tus_store import TusStore
from briefkasten.pipeline.unlock import check_password

log = logging.getLogger("briefkasten.gateway")
MAX_BODY = 4096
#: How long an unlock waits for a request on the same upload to finish.
LOCK_WAIT_S = 5.0

routes = web.RouteTableDef()


@routes.post("/api/v1/tus/{upload_id}/unlock")
async def unlock(request: web.Request) -> web.Response:
    """Open a locked tus upload with the password in the body."""
    tenant, link = await uploader(request)
    owner = owner_of(tenant, link)
    upload_id = upload_id_of(request)
    body = await json_object(request, MAX_BODY)
    password = body.get("password")
    if set(body) != {"password"} or not isinstance(password, str):
        raise InvalidRequest('the body is {"password": "…"}')
    check_password(password)
    store = request.app[TUS_STORE]
    if not isinstance(store, TusStore | ObjectTusStore):  # the two stores that keep them
        raise PasswordProtected("this upload store cannot unlock PDFs")
    shared = request.app[RATE_LIMITS].limiter
    unlocker = Unlocker(request.app[CHECKS], shared, functools.partial(run, request), owner)
    async with request.app[TUS_LOCKS].hold(upload_id, LOCK_WAIT_S):
        path, destination = await run(request, store.locked_file, owner, upload_id)
        try:
            unlocked = await unlocker.unlock(path, password, f"tus:{upload_id}", destination)
        except PdfPasswordWrong:
            raise  # tries are left: the upload stays
        except InputRejected:  # three wrong tries, or the opened PDF is refused: it goes
            await run(request, store.delete, owner, upload_id)
            raise
        incoming = await run(request, store.unlocked, owner, upload_id, unlocked)
    log.info("tus upload %s unlocked: %d page(s)", upload_id, incoming.pages)
    return web.json_response(
        {
            "upload_id": upload_id,
            "media_type": incoming.media_type,
            "pages": incoming.pages,
            "password_protected": True,
        }
    )

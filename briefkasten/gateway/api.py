"""The submission API: ``POST /api/v1/submissions`` and ``GET /api/v1/submissions/{id}``."""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from briefkasten.errors import InvalidRequest, Unauthorized
from briefkasten.gateway.keys import API_KEYS, EXECUTOR, INTAKE, SETTINGS, SPOOL, STORAGE
from briefkasten.gateway.upload import read_form
from briefkasten.links import UploadLink, verify
from briefkasten.model import Submission

log = logging.getLogger("briefkasten.gateway")
T = TypeVar("T")
MAX_IDEMPOTENCY_KEY = 200


def parse_api_keys(spec: str, default_tenant: str) -> dict[str, str]:
    """``KEY`` or ``TENANT:KEY`` entries, comma-separated → {key: tenant}."""
    keys: dict[str, str] = {}
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        tenant, _, key = entry.rpartition(":")
        keys[key] = tenant or default_tenant
    return keys


def bearer(request: web.Request) -> str:
    """The bearer token of the request; ``Unauthorized`` if there is none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    return token.strip()


def api_tenant(request: web.Request, token: str) -> str | None:
    """The tenant of the API key ``token``, or ``None`` if it is not an API key."""
    for key, tenant in request.app[API_KEYS].items():
        if hmac.compare_digest(key.encode(), token.encode()):
            return str(tenant)
    return None


def tenant_of(request: web.Request) -> str:
    """The tenant whose API key the request carries; ``Unauthorized`` otherwise."""
    tenant = api_tenant(request, bearer(request))
    if tenant is None:
        raise Unauthorized("unknown API key")
    return tenant


async def uploader(request: web.Request) -> tuple[str, UploadLink | None]:
    """(tenant, None) for an API key; (the link's tenant, the link) for an upload-link token."""
    token = bearer(request)
    tenant = api_tenant(request, token)
    if tenant is not None:
        return tenant, None
    if "." not in token:
        raise Unauthorized("unknown API key")
    link = await run(request, verify, request.app[SETTINGS].links, request.app[STORAGE], token)
    return link.tenant, link


async def run(request: web.Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work (storage, sniffing) in the gateway's thread pool."""
    return await asyncio.get_running_loop().run_in_executor(
        request.app[EXECUTOR], functools.partial(fn, *args, **kwargs)
    )


def receipt(request: web.Request, submission: Submission) -> dict[str, Any]:
    return {
        "submission_id": submission.submission_id,
        "received_at": submission.received_at,
        "status_url": str(
            request.app.router["submission"].url_for(submission_id=submission.submission_id)
        ),
        "receipt": {
            "case_number": submission.case_number,
            "documents": [
                {
                    "document_id": d.document_id,
                    "document_type": d.document_type,
                    "files": [
                        {
                            "name": f.name,
                            "size": f.size,
                            "sha256": f.sha256,
                            "media_type": f.media_type,
                            "pages": f.pages,
                            "duplicate_of": f.duplicate_of,
                        }
                        for f in d.files
                    ],
                }
                for d in submission.documents
            ],
        },
    }


async def post_submission(request: web.Request) -> web.Response:
    tenant, link = await uploader(request)
    intake = request.app[INTAKE]
    idempotency_key = request.headers.get("Idempotency-Key") or None
    if idempotency_key:
        if len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise InvalidRequest("Idempotency-Key is too long")
        if link is not None:  # a link's keys never find another client's receipt
            idempotency_key = f"link:{link.link_id}:{idempotency_key}"
        earlier = await run(request, intake.find, tenant, idempotency_key)
        if earlier is not None:
            return web.json_response(receipt(request, earlier), status=202)
    form = await read_form(
        request,
        request.app[SETTINGS],
        request.app[SPOOL],
        functools.partial(run, request),
        case_number=link.case_number if link else "",
        document_types=link.document_types if link else (),
    )
    try:
        submission = await run(
            request,
            intake.receive,
            tenant,
            form.case_number,
            form.documents,
            channel="link" if link else "upload",
            idempotency_key=idempotency_key,
        )
    finally:
        form.discard()
    files = sum(len(d.files) for d in submission.documents)
    log.info(
        "received submission %s: %d document(s), %d file(s)",
        submission.submission_id,
        len(submission.documents),
        files,
    )
    return web.json_response(receipt(request, submission), status=202)


async def get_submission(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    submission_id = request.match_info["submission_id"]
    status = await run(request, request.app[INTAKE].status, tenant, submission_id)
    return web.json_response(status)

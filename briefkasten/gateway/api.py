"""The submission API: ``POST /api/v1/submissions``, ``GET /api/v1/submissions/{id}`` and its
receipt as PDF.

A submission comes either as one multipart form carrying the files (``upload.read_form``) or,
from the upload page, as JSON naming files already uploaded with tus (``tus_form``)::

    {"documents": [{"document_type": "kontoauszug", "note": "…", "uploads": ["<tus id>", …]}]}

Both end in the same ``Intake.receive`` and answer with the same receipt. Upload-link holders
may read the status and the receipt of the submissions made with their own link.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from briefkasten import links
from briefkasten.errors import (
    BriefkastenError,
    InvalidRequest,
    LimitExceeded,
    MalwareFound,
    NotFound,
    Unauthorized,
)
from briefkasten.gateway.body import BodyClock, read_body
from briefkasten.gateway.idempotency import KEY_LOCKS
from briefkasten.gateway.keys import (
    API_KEYS,
    CHECKS,
    EXECUTOR,
    INTAKE,
    METRICS,
    SETTINGS,
    SPOOL,
    STORAGE,
)
from briefkasten.gateway.receipt import mask_case_number, receipt_pdf
from briefkasten.gateway.tus import TUS_STORE
from briefkasten.gateway.upload import UploadForm, read_form
from briefkasten.housekeeping import retention
from briefkasten.intake import (
    IncomingDocument,
    check_case_number,
    check_submission_pages,
    load_submission,
)
from briefkasten.links import UploadLink, verify
from briefkasten.model import Submission

log = logging.getLogger("briefkasten.gateway")
T = TypeVar("T")
MAX_IDEMPOTENCY_KEY = 200
MAX_JSON_BODY = 64 * 1024
MAX_NOTE = 500


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


def owner_of(tenant: str, link: UploadLink | None) -> str:
    """Whose tus uploads these are: one upload link, or the tenant's API clients."""
    return f"{tenant}/{link.link_id}" if link else f"{tenant}/api"


def receipt(request: web.Request, submission: Submission, *, masked: bool) -> dict[str, Any]:
    """The 202 answer. Link holders see the case number masked, as on the PDF receipt: the
    applicant recognises it, a finder of a lost QR code does not learn it."""
    sid = submission.submission_id
    case = mask_case_number(submission.case_number) if masked else submission.case_number
    return {
        "submission_id": sid,
        "received_at": submission.received_at,
        "status_url": str(request.app.router["submission"].url_for(submission_id=sid)),
        "receipt_pdf_url": str(request.app.router["receipt-pdf"].url_for(submission_id=sid)),
        "malware_scan": submission.malware_scan,
        "receipt": {
            "case_number": case,
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
    """Receive a submission; counted in ``briefkasten_uploads_total`` by tenant and outcome."""
    tenant, link = await uploader(request)
    try:
        return await _receive(request, tenant, link)
    except BriefkastenError as exc:
        request.app[METRICS].upload(tenant, exc.code)
        raise


async def _receive(request: web.Request, tenant: str, link: UploadLink | None) -> web.Response:
    """One submission; with an ``Idempotency-Key`` one per key: requests with the same key take
    turns (``KEY_LOCKS``), and the first one's receipt answers every later one."""
    idempotency_key = request.headers.get("Idempotency-Key") or None
    if not idempotency_key:
        return await _submit(request, tenant, link, None)
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidRequest("Idempotency-Key is too long")
    if link is not None:  # a link's keys never find another client's receipt
        idempotency_key = f"link:{link.link_id}:{idempotency_key}"
    async with request.app[KEY_LOCKS].hold(f"{tenant}\n{idempotency_key}"):
        earlier = await run(request, request.app[INTAKE].find, tenant, idempotency_key)
        if earlier is None:
            return await _submit(request, tenant, link, idempotency_key)
    submission, queued_now = earlier
    if queued_now:  # the first request stored it but could not queue it (503): done now
        if link is not None:
            storage, sid = request.app[STORAGE], submission.submission_id
            await run(request, links.record_submission, storage, link, sid)
        log.info(
            "submission %s queued on the client's retry",
            submission.submission_id,
            extra={"submission_id": submission.submission_id, "tenant": tenant},
        )
    request.app[METRICS].upload(tenant, "accepted" if queued_now else "duplicate")
    return web.json_response(receipt(request, submission, masked=link is not None), status=202)


async def _submit(
    request: web.Request, tenant: str, link: UploadLink | None, idempotency_key: str | None
) -> web.Response:
    intake = request.app[INTAKE]
    uploads: list[str] = []
    if request.content_type == "application/json":
        form, uploads = await tus_form(request, tenant, link)
    else:
        form = await read_form(
            request,
            request.app[SETTINGS],
            request.app[SPOOL],
            functools.partial(run, request),
            request.app[CHECKS].sniff,
            case_number=link.case_number if link else "",
            document_types=link.document_types if link else (),
            catalogue=request.app[SETTINGS].catalogue_for(tenant),
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
    except MalwareFound:  # refused for good: the tus uploads go too (the file is quarantined)
        for upload_id in uploads:
            await run(request, request.app[TUS_STORE].delete, owner_of(tenant, link), upload_id)
        raise
    finally:
        form.discard()
    if link is not None:
        await run(
            request, links.record_submission, request.app[STORAGE], link, submission.submission_id
        )
    store = request.app[TUS_STORE]
    for upload_id in uploads:  # received: the tus uploads are done with
        await run(request, store.delete, owner_of(tenant, link), upload_id)
    files = sum(len(d.files) for d in submission.documents)
    size = sum(f.size for d in submission.documents for f in d.files)
    request.app[METRICS].upload(tenant, "accepted", size)
    log.info(
        "received submission %s: %d document(s), %d file(s)",
        submission.submission_id,
        len(submission.documents),
        files,
        extra={"submission_id": submission.submission_id, "tenant": tenant, "bytes": size},
    )
    return web.json_response(receipt(request, submission, masked=link is not None), status=202)


async def tus_form(
    request: web.Request, tenant: str, link: UploadLink | None
) -> tuple[UploadForm, list[str]]:
    """The JSON form of a submission: documents naming completed tus uploads, in page order."""
    body = await json_object(request, MAX_JSON_BODY)
    settings = request.app[SETTINGS]
    unknown = set(body) - {"case_number", "documents"}
    if unknown:
        raise InvalidRequest(f"unexpected field {sorted(unknown)[0][:40]!r}")
    case_number = link.case_number if link else ""
    if "case_number" in body or not link:
        given = body.get("case_number")
        if not isinstance(given, str):
            raise InvalidRequest("case_number is missing")
        if case_number and check_case_number(given) != case_number:
            raise InvalidRequest("case_number does not match the upload link")
        case_number = check_case_number(given)
    entries = body.get("documents")
    if not isinstance(entries, list) or not entries:
        raise InvalidRequest("documents must be a non-empty list")
    requested = link.document_types if link else ()
    catalogue = settings.catalogue_for(tenant)
    store, owner = request.app[TUS_STORE], owner_of(tenant, link)
    documents: list[IncomingDocument] = []
    seen: list[str] = []
    pages = 0
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) - {"document_type", "note", "uploads"}:
            raise InvalidRequest("each document is {document_type, note, uploads}")
        document_type = entry.get("document_type")
        note = entry.get("note", "")
        ids = entry.get("uploads")
        if document_type not in catalogue:
            raise InvalidRequest(f"unknown document_type {str(document_type)[:40]!r}")
        if requested and document_type not in requested:
            raise InvalidRequest(f"document_type {document_type!r} is not requested by this link")
        if not isinstance(note, str):
            raise InvalidRequest("note must be a string")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise InvalidRequest("uploads must be a non-empty list of upload ids")
        if any(i in seen for i in ids) or len(set(ids)) != len(ids):
            raise InvalidRequest("an upload can be part of only one document")
        seen.extend(ids)
        if len(seen) > settings.limits.max_files:
            raise LimitExceeded(f"more than {settings.limits.max_files} files in one submission")
        files = [await run(request, store.completed, owner, upload_id) for upload_id in ids]
        pages += sum(f.pages for f in files)
        check_submission_pages(pages, settings.limits)
        documents.append(IncomingDocument(document_type, tuple(files), note.strip()[:MAX_NOTE]))
    return UploadForm(case_number=case_number, documents=documents), seen


async def json_object(request: web.Request, limit: int) -> dict[str, Any]:
    """The whole request body as a JSON object of at most ``limit`` bytes (413 past it).

    Read to its end, however many TCP segments it comes in, bounded in time (``BodyClock``).
    """
    raw = await read_body(request, limit, BodyClock.of(request.app[SETTINGS].gateway))
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest("request body must be JSON") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    return body


async def readable_submission(request: web.Request) -> tuple[str, UploadLink | None, str]:
    """(tenant, link, submission id) if the caller may read it: an API key of its tenant, or
    the upload link it was made with (anything else is ``NotFound``, revealing nothing)."""
    tenant, link = await uploader(request)
    submission_id = request.match_info["submission_id"]
    if link is not None:
        made = await run(request, links.made_with, request.app[STORAGE], link, submission_id)
        if not made:
            raise NotFound(f"no submission {submission_id[:40]!r} for this link")
    return tenant, link, submission_id


async def get_submission(request: web.Request) -> web.Response:
    tenant, _, submission_id = await readable_submission(request)
    status = await run(request, request.app[INTAKE].status, tenant, submission_id)
    return web.json_response(status)


async def ack_submission(request: web.Request) -> web.Response:
    """The case software confirms it stored the submission: ``202`` recorded, ``200`` if it
    was already (idempotent); deletion follows after the tenant's grace period. API keys
    only; a submission of another tenant is ``404``."""
    tenant = tenant_of(request)
    submission_id = request.match_info["submission_id"]
    recorded, answer = await run(
        request,
        retention.confirm,
        request.app[STORAGE],
        request.app[SETTINGS],
        tenant,
        submission_id,
        via="api",
    )
    return web.json_response(answer, status=202 if recorded else 200)


async def get_receipt_pdf(request: web.Request) -> web.Response:
    """The Eingangsbestätigung as PDF; ``?lang=en`` for English."""
    tenant, link, submission_id = await readable_submission(request)
    try:
        submission = await run(
            request, load_submission, request.app[STORAGE], tenant, submission_id
        )
    except InvalidRequest as exc:
        raise NotFound(f"no submission {submission_id[:40]!r}") from exc
    settings = request.app[SETTINGS]
    body = await run(
        request,
        receipt_pdf,
        submission,
        settings.tenant(tenant).display_name,
        lang=request.query.get("lang", "de"),
        mask_case=link is not None,
        labels=settings.tenant(tenant).labels,
    )
    filename = f"eingangsbestaetigung-{submission_id[:8]}.pdf"
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def get_link_submissions(request: web.Request) -> web.Response:
    """The submissions made with the caller's upload link, newest first, with their status."""
    link = await run(
        request, verify, request.app[SETTINGS].links, request.app[STORAGE], bearer(request)
    )
    intake, storage = request.app[INTAKE], request.app[STORAGE]

    def statuses() -> list[dict[str, Any]]:  # one trip to the I/O threads for the whole list
        return [intake.status(link.tenant, sid) for sid in links.submissions_of(storage, link)]

    found = await run(request, statuses)
    found.sort(key=lambda s: (s["received_at"], s["submission_id"]), reverse=True)
    return web.json_response(
        {
            "submissions": [
                {
                    "submission_id": s["submission_id"],
                    "received_at": s["received_at"],
                    "status": s["status"],
                    "documents": [
                        {k: d[k] for k in ("document_type", "files", "status")}
                        for d in s["documents"]
                    ],
                }
                for s in found
            ]
        }
    )

"""Every way a submission comes in: ``POST /api/v1/submissions``, the gateway's part of the flow.

Top-down: who is asking (an API key, or an upload link) → one submission per
``Idempotency-Key`` → the form, either one multipart body carrying the files (streamed to the
spool, hashed and sniffed in the sandbox as they arrive: ``multipart.read_form``) or, from the
upload page, JSON naming files already uploaded with tus (``tus_form``)::

    {"documents": [{"document_type": "kontoauszug", "note": "…", "uploads": ["<tus id>", …]}]}

→ ``Intake.receive`` (stores the originals, scans them, queues the job) → the 202 receipt
(``receipt.receipt_json``), counted in ``briefkasten_uploads_total`` by tenant and outcome.
"""

from __future__ import annotations

import functools
import logging

from aiohttp import web

from briefkasten import links
from briefkasten.errors import (
    BriefkastenError,
    InvalidRequest,
    LimitExceeded,
    LinkRevoked,
    MalwareFound,
)
from briefkasten.gateway.auth import owner_of, uploader
from briefkasten.gateway.keys import (
    CHECKS,
    INTAKE,
    KEY_LOCKS,
    METRICS,
    RATE_LIMITS,
    SETTINGS,
    SPOOL,
    STORAGE,
    TUS_STORE,
)
from briefkasten.gateway.multipart import UploadForm, read_form
from briefkasten.gateway.passwords import Unlocker
from briefkasten.gateway.receipt import receipt_json
from briefkasten.gateway.request import json_object, media_type, run
from briefkasten.intake import IncomingDocument, check_case_number, check_submission_pages
from briefkasten.links import UploadLink
from briefkasten.model import Submission

log = logging.getLogger("briefkasten.gateway")
MAX_IDEMPOTENCY_KEY = 200
MAX_JSON_BODY = 64 * 1024
MAX_NOTE = 500

routes = web.RouteTableDef()


@routes.post("/api/v1/submissions")
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
    async with request.app[KEY_LOCKS].hold(f"{tenant}\n{idempotency_key}") as everywhere:
        earlier = await run(request, request.app[INTAKE].find, tenant, idempotency_key)
        if earlier is None:
            return await _submit(request, tenant, link, idempotency_key, shared_lock=everywhere)
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
    return _receipt(request, submission, masked=link is not None)


async def _submit(
    request: web.Request,
    tenant: str,
    link: UploadLink | None,
    idempotency_key: str | None,
    *,
    shared_lock: bool = False,
) -> web.Response:
    """Read the form, hand it to ``Intake.receive``, answer with the receipt. The link is
    looked at once more after the body (a long upload): revoked meanwhile, it is refused."""
    intake = request.app[INTAKE]
    uploads: list[str] = []
    if media_type(request) == "application/json":
        form, uploads = await tus_form(request, tenant, link)
    else:
        form = await read_form(
            request,
            request.app[SETTINGS],
            request.app[SPOOL],
            functools.partial(run, request),
            request.app[CHECKS],
            case_number=link.case_number if link else "",
            document_types=link.document_types if link else (),
            catalogue=request.app[SETTINGS].catalogue_for(tenant),
            unlocker=Unlocker(
                request.app[CHECKS],
                request.app[RATE_LIMITS].limiter,
                functools.partial(run, request),
                owner_of(tenant, link),
            ),
        )
    try:
        if link is not None and await run(
            request, links.is_revoked, request.app[STORAGE], link.tenant, link.link_id
        ):
            raise LinkRevoked(f"upload link {link.link_id} was revoked during the upload")
        submission = await run(
            request,
            intake.receive,
            tenant,
            form.case_number,
            form.documents,
            channel="link" if link else "upload",
            idempotency_key=idempotency_key,
            shared_lock=shared_lock,  # the key's Redis lock: a leftover claim is taken over
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
    return _receipt(request, submission, masked=link is not None)


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


def _receipt(request: web.Request, submission: Submission, *, masked: bool) -> web.Response:
    """The 202 answer: the receipt, with where to read the status and fetch the PDF."""
    sid = submission.submission_id
    router = request.app.router
    body = receipt_json(
        submission,
        masked=masked,
        status_url=str(router["submission"].url_for(submission_id=sid)),
        receipt_pdf_url=str(router["receipt-pdf"].url_for(submission_id=sid)),
    )
    return web.json_response(body, status=202)

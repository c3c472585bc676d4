"""Reading submissions: status and receipt PDF (``GET /api/v1/submissions/{id}[/receipt.pdf]``),
an upload link's own submissions, and the case system's confirmation (``POST …/{id}/ack``).

Upload-link holders may read the status and the receipt of the submissions made with their own
link; API keys those of their tenant. How a submission comes in is in ``upload.py``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from briefkasten import links
from briefkasten.errors import NotFound
from briefkasten.gateway.auth import link_of, tenant_of, uploader
from briefkasten.gateway.keys import INTAKE, SETTINGS, STORAGE
from briefkasten.gateway.receipt import receipt_pdf
from briefkasten.gateway.request import run
from briefkasten.housekeeping import retention
from briefkasten.intake import load_submission
from briefkasten.links import UploadLink

routes = web.RouteTableDef()


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


@routes.get("/api/v1/submissions/{submission_id}", name="submission")
async def get_submission(request: web.Request) -> web.Response:
    tenant, _, submission_id = await readable_submission(request)
    status = await run(request, request.app[INTAKE].status, tenant, submission_id)
    return web.json_response(status)


@routes.get("/api/v1/submissions/{submission_id}/receipt.pdf", name="receipt-pdf")
async def get_receipt_pdf(request: web.Request) -> web.Response:
    """The Eingangsbestätigung as PDF; ``?lang=`` one of the applicant languages (else German)."""
    tenant, link, submission_id = await readable_submission(request)
    submission = await run(request, load_submission, request.app[STORAGE], tenant, submission_id)
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


@routes.post("/api/v1/submissions/{submission_id}/ack")
async def confirm_submission(request: web.Request) -> web.Response:
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


@routes.get("/api/v1/upload-links/self/submissions")
async def get_link_submissions(request: web.Request) -> web.Response:
    """The submissions made with the caller's upload link, newest first, with their status."""
    link = await link_of(request)
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

"""Instant quality feedback: ``GET /api/v1/tus/{upload_id}/check`` for a finished tus upload.

The check decodes and measures pixels (``pipeline.precheck``), which is CPU work on upload
bytes, so it runs in sandboxed children of its own (``gateway.precheck_workers`` at once, 0
switches the check off: the answer then says ``"checked": false``), never in the gateway
process. A file the check cannot handle within the sandbox's limits gets no findings rather than
an error: it was accepted by the sniff, and the pipeline measures again later.
"""

from __future__ import annotations

from aiohttp import web

from briefkasten.errors import TooComplex
from briefkasten.gateway.auth import owner_of, uploader
from briefkasten.gateway.keys import CHECKS, TUS_STORE
from briefkasten.gateway.request import run

routes = web.RouteTableDef()


@routes.get("/api/v1/tus/{upload_id}/check")
async def check(request: web.Request) -> web.Response:
    tenant, link = await uploader(request)
    upload_id = request.match_info["upload_id"]
    incoming = await run(
        request, request.app[TUS_STORE].completed, owner_of(tenant, link), upload_id
    )
    body: dict[str, object] = {
        "upload_id": upload_id,
        "media_type": incoming.media_type,
        "pages": incoming.pages,
        "checked": False,
        "findings": [],
    }
    checks = request.app[CHECKS]
    if checks.prechecks is not None:
        try:
            findings = await run(request, checks.precheck, incoming.readable)
        except TooComplex:  # accepted by the sniff; the pipeline measures again later
            return web.json_response(body)
        body["checked"] = True
        body["findings"] = [f.to_json() for f in findings]
    return web.json_response(body)

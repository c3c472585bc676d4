"""Instant quality feedback: ``GET /api/v1/tus/{upload_id}/check`` for a finished tus upload.

The check decodes and measures pixels (``pipeline.precheck``), which is CPU work on upload
bytes, so it runs in sandboxed children of its own (``gateway.precheck_workers`` at once, 0
switches the check off: the answer then says ``"checked": false``), never in the gateway
process. A file the check cannot handle within the sandbox's limits gets no findings rather than
an error: it was accepted by the sniff, and the pipeline measures again later.

Where the file has text of its own (born-digital PDF pages), the answer also carries
``suggestion``: the type that text looks like (``pipeline.doctype``), how sure that is, and
its label in the applicant's language (``?lang=`` or ``Accept-Language``; a tenant's own label
first). The page hints at it when it differs confidently from the chosen type; it never
blocks sending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from briefkasten import catalogue, i18n
from briefkasten.errors import TooComplex
from briefkasten.gateway.auth import owner_of, uploader
from briefkasten.gateway.keys import CHECKS, SETTINGS, TUS_STORE
from briefkasten.gateway.request import run
from briefkasten.model import TypeSuggestion

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
            checked = await run(request, checks.precheck, incoming.readable)
        except TooComplex:  # accepted by the sniff; the pipeline measures again later
            return web.json_response(body)
        body["checked"] = True
        body["findings"] = [f.to_json() for f in checked.findings]
        if checked.suggestion is not None:
            labels = request.app[SETTINGS].tenant(tenant).labels
            lang = i18n.negotiate(
                request.query.get("lang"), request.headers.get("Accept-Language", "")
            )
            body["suggestion"] = suggestion_json(checked.suggestion, lang, labels)
    return web.json_response(body)


def suggestion_json(
    suggestion: TypeSuggestion, lang: str, labels: Mapping[str, tuple[str, str]]
) -> dict[str, Any]:
    """The suggestion as the page gets it: type, confidence, cues and labels."""
    return {
        "type": suggestion.type,
        "confidence": round(suggestion.confidence, 3),
        "cues": list(suggestion.cues),
        "lang": lang,
        "label": catalogue.label(suggestion.type, lang, labels),
        "label_de": catalogue.label(suggestion.type, "de", labels),
        "label_en": catalogue.label(suggestion.type, "en", labels),
    }

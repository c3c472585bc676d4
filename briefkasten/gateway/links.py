"""The upload-link API: create, QR code, revoke (API key) and ``self`` (the link token).

``POST /api/v1/upload-links``, ``GET /api/v1/upload-links/{link_id}/qr.png|qr.svg``,
``DELETE /api/v1/upload-links/{link_id}`` and ``GET /api/v1/upload-links/self``.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from briefkasten import links
from briefkasten.errors import InvalidRequest
from briefkasten.gateway.api import bearer, run, tenant_of
from briefkasten.gateway.keys import SETTINGS, STORAGE

MAX_BODY = 4096


async def create(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    body = await _json_object(request)
    unknown = set(body) - {"case_number", "document_types", "expires_in_days"}
    if unknown:
        raise InvalidRequest(f"unexpected field {sorted(unknown)[0][:40]!r}")
    case_number = body.get("case_number")
    if not isinstance(case_number, str):
        raise InvalidRequest("case_number is missing")
    types = body.get("document_types") or []
    if not isinstance(types, list):
        raise InvalidRequest("document_types must be a list of strings")
    settings = request.app[SETTINGS]
    link, token = await run(
        request,
        links.create_link,
        settings,
        request.app[STORAGE],
        tenant,
        case_number,
        types,
        body.get("expires_in_days"),
    )
    return web.json_response(_answer(request, link, token), status=201)


async def qr(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    settings = request.app[SETTINGS]
    link_id = request.match_info["link_id"]
    _, token = await run(request, links.load_link, settings, request.app[STORAGE], tenant, link_id)
    url = links.link_url(settings.links, token)
    if request.match_info["kind"] == "png":
        return web.Response(body=await run(request, links.qr_png, url), content_type="image/png")
    svg = await run(request, links.qr_svg, url)
    return web.Response(body=svg, content_type="image/svg+xml")


async def revoke(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    await run(request, links.revoke, request.app[STORAGE], tenant, request.match_info["link_id"])
    return web.Response(status=204)


async def describe(request: web.Request) -> web.Response:
    """What the applicant needs: the requested types and the expiry (no case number)."""
    link = await run(
        request, links.verify, request.app[SETTINGS].links, request.app[STORAGE], bearer(request)
    )
    return web.json_response(
        {
            "tenant": link.tenant,
            "document_types": list(link.document_types),
            "expires_at": link.expires_at,
        }
    )


def _answer(request: web.Request, link: links.UploadLink, token: str) -> dict[str, Any]:
    def qr_url(kind: str) -> str:
        return str(request.app.router["upload-link-qr"].url_for(link_id=link.link_id, kind=kind))

    return {
        "link_id": link.link_id,
        "url": links.link_url(request.app[SETTINGS].links, token),
        "token": token,
        "expires_at": link.expires_at,
        "document_types": list(link.document_types),
        "qr_png_url": qr_url("png"),
        "qr_svg_url": qr_url("svg"),
    }


async def _json_object(request: web.Request) -> dict[str, Any]:
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise InvalidRequest("request body is too large")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest("request body must be JSON") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    return body

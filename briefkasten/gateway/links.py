"""The upload-link API: create, QR code, revoke (API key) and ``self`` (the link token).

``POST /api/v1/upload-links``, ``GET /api/v1/upload-links/{link_id}/qr.png|qr.svg``,
``DELETE /api/v1/upload-links/{link_id}`` and ``GET /api/v1/upload-links/self``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from briefkasten import links
from briefkasten.catalogue import describe as catalogue_labels
from briefkasten.errors import Forbidden, InvalidRequest, NotFound
from briefkasten.gateway.auth import link_of, tenant_of
from briefkasten.gateway.keys import SETTINGS, STORAGE
from briefkasten.gateway.request import json_object, run

MAX_BODY = 4096
#: A link asked for without one (link-less uploads) is valid for a day.
SELF_SERVICE_DAYS = 1
MAX_LOGO = 200 * 1024
LOGO_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}

routes = web.RouteTableDef()


@routes.post("/api/v1/upload-links")
async def create(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    body = await json_object(request, MAX_BODY)
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


@routes.get(r"/api/v1/upload-links/{link_id}/qr.{kind:png|svg}", name="upload-link-qr")
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


@routes.delete("/api/v1/upload-links/{link_id}")
async def revoke(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    await run(request, links.revoke, request.app[STORAGE], tenant, request.match_info["link_id"])
    return web.Response(status=204)


@routes.get("/api/v1/upload-links/self")
async def describe(request: web.Request) -> web.Response:
    """What the applicant needs: the requested types and the expiry (no case number)."""
    link = await link_of(request)
    settings = request.app[SETTINGS]
    tenant = settings.tenant(link.tenant)
    catalogue = settings.catalogue_for(link.tenant)
    limits = settings.limits
    return web.json_response(
        {
            "tenant": link.tenant,
            "tenant_name": tenant.display_name,
            "logo_url": f"/tenant-logo/{link.tenant}" if tenant.logo else None,
            "document_types": list(link.document_types or catalogue),
            "requested_types": list(link.document_types),
            "catalogue": catalogue_labels(catalogue, tenant.labels),
            "expires_at": link.expires_at,
            "limits": {
                "max_file_bytes": limits.max_file_bytes,
                "max_files": limits.max_files,
                "max_pages": limits.max_pages,
            },
        }
    )


@routes.post("/api/v1/tenants/{tenant}/upload-links")
async def create_self_service(request: web.Request) -> web.Response:
    """Link-less uploads: where a tenant allows them, anyone may ask for a one-day link to a
    case by typing its BG-Nummer (rate-limited per address; off by default)."""
    settings = request.app[SETTINGS]
    tenant_id = request.match_info["tenant"]
    tenant = next((t for t in settings.tenants if t.id == tenant_id), None)
    if tenant is None or not tenant.allow_uploads_without_link:
        raise Forbidden(f"uploads without a link are not enabled for tenant {tenant_id[:40]!r}")
    body = await json_object(request, MAX_BODY)
    if set(body) - {"case_number"} or not isinstance(body.get("case_number"), str):
        raise InvalidRequest("send {case_number}")
    link, token = await run(
        request,
        links.create_link,
        settings,
        request.app[STORAGE],
        tenant.id,
        body["case_number"],
        (),
        SELF_SERVICE_DAYS,
    )
    return web.json_response(
        {
            "url": links.link_url(settings.links, token),
            "token": token,
            "expires_at": link.expires_at,
        },
        status=201,
    )


@routes.get("/tenant-logo/{tenant}")
async def logo(request: web.Request) -> web.Response:
    """The configured logo of a tenant (PNG or SVG, at most ``MAX_LOGO`` bytes)."""
    tenant = request.app[SETTINGS].tenant(request.match_info["tenant"])
    path = Path(tenant.logo) if tenant.logo else None
    if path is None or path.suffix.lower() not in LOGO_TYPES:
        raise NotFound("no logo configured")
    data = await run(request, _read_small, path, MAX_LOGO)
    return web.Response(
        body=data,
        content_type=LOGO_TYPES[path.suffix.lower()],
        headers={"Cache-Control": "public, max-age=3600"},
    )


def _read_small(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise NotFound(f"logo not readable: {exc.strerror}") from exc
    if len(data) > limit:
        raise NotFound(f"logo larger than {limit} bytes")
    return data


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

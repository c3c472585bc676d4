"""Who is asking: the bearer token, an API key's tenant, an upload link's holder, and whose
uploads those are."""

from __future__ import annotations

import hmac

from aiohttp import web

from briefkasten.errors import Unauthorized
from briefkasten.gateway.keys import API_KEYS, SETTINGS, STORAGE
from briefkasten.gateway.request import run
from briefkasten.links import UploadLink, verify


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


async def link_of(request: web.Request) -> UploadLink:
    """The upload link whose token the request carries (``links.verify``)."""
    return await run(
        request, verify, request.app[SETTINGS].links, request.app[STORAGE], bearer(request)
    )


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


def owner_of(tenant: str, link: UploadLink | None) -> str:
    """Whose tus uploads these are: one upload link, or the tenant's API clients."""
    return f"{tenant}/{link.link_id}" if link else f"{tenant}/api"

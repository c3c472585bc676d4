"""The handlers of the pages: ``GET /u/{token}``, ``GET /t/{tenant}`` and ``GET /static/…``
(what they serve is loaded once at start-up: ``page.Site``)."""

from __future__ import annotations

from aiohttp import web

from briefkasten.errors import NotFound
from briefkasten.gateway.keys import SITE
from briefkasten.gateway.web.page import LONG_CACHE, language

routes = web.RouteTableDef()


@routes.get("/u/{token}", name="upload-page")
async def upload_page(request: web.Request) -> web.Response:
    """The page for any token: the script validates it against the API."""
    lang = language(request.query.get("lang"), request.headers.get("Accept-Language", ""))
    return web.Response(
        body=request.app[SITE].html[lang],
        content_type="text/html",
        charset="utf-8",
        headers={"Vary": "Accept-Language", "Content-Language": lang},
    )


@routes.get("/t/{tenant}", name="start-page")
async def start_page(request: web.Request) -> web.Response:
    """The start page for uploads without a link: the form where the tenant allows them, else
    only a message (status 404 for a tenant that is not configured)."""
    lang = language(request.query.get("lang"), request.headers.get("Accept-Language", ""))
    pages = request.app[SITE].start
    body = pages.get((request.match_info["tenant"], lang))
    return web.Response(
        status=200 if body else 404,
        body=body or pages[("", lang)],
        content_type="text/html",
        charset="utf-8",
        headers={"Vary": "Accept-Language", "Content-Language": lang},
    )


@routes.get("/static/{name:.+}", name="static")
async def static_file(request: web.Request) -> web.Response:
    """A static file; cached for a year when asked for with its current version."""
    name = request.match_info["name"]
    file = request.app[SITE].files.get(name)
    if file is None:
        raise NotFound(f"no static file {name[:80]!r}")
    etag = f'"{file.version}"'
    headers = {
        "Cache-Control": LONG_CACHE if request.query.get("v") == file.version else "no-cache",
        "ETag": etag,
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    body = file.body
    if file.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
        body = file.gzipped
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, headers={**headers, "Content-Type": file.content_type})

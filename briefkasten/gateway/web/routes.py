"""The handlers of the pages: ``GET /`` (what this service is, German and English),
``GET /u/{token}``, ``GET /t/{tenant}`` with its information pages
``/t/{tenant}/einfach`` and ``/t/{tenant}/barrierefreiheit``, and ``GET /static/…`` (what they
serve is loaded once at start-up: ``page.Site``). The language: ``?lang=``, else
``Accept-Language``, else German."""

from __future__ import annotations

from aiohttp import web

from briefkasten.errors import NotFound
from briefkasten.gateway.keys import SITE
from briefkasten.gateway.request import compress
from briefkasten.gateway.web.page import LONG_CACHE, home_language, language

routes = web.RouteTableDef()


@routes.get("/", name="home")
async def home(request: web.Request) -> web.Response:
    """What this service is and where applicants, operators and developers go."""
    lang = home_language(request.query.get("lang"), request.headers.get("Accept-Language", ""))
    return _html(request, request.app[SITE].home[lang], lang)


@routes.get("/u/{token}", name="upload-page")
async def upload_page(request: web.Request) -> web.Response:
    """The page for any token: the script validates it against the API."""
    lang = language(request.query.get("lang"), request.headers.get("Accept-Language", ""))
    return _html(request, request.app[SITE].html[lang], lang)


@routes.get("/t/{tenant}", name="start-page")
async def start_page(request: web.Request) -> web.Response:
    """The start page for uploads without a link: the form where the tenant allows them, else
    only a message (status 404 for a tenant that is not configured)."""
    lang = language(request.query.get("lang"), request.headers.get("Accept-Language", ""))
    pages = request.app[SITE].start
    body = pages.get((request.match_info["tenant"], lang))
    return _html(request, body or pages[("", lang)], lang, status=200 if body else 404)


@routes.get("/t/{tenant}/{page:einfach|barrierefreiheit}", name="info-page")
async def info_page(request: web.Request) -> web.Response:
    """ "Einfach erklärt" or the accessibility statement of a tenant; a tenant without a table
    (one known only from its API keys) gets the general ones."""
    lang = language(request.query.get("lang"), request.headers.get("Accept-Language", ""))
    pages = request.app[SITE].info
    which = request.match_info["page"]
    body = pages.get((request.match_info["tenant"], which, lang)) or pages[("", which, lang)]
    return _html(request, body, lang)


def _html(request: web.Request, body: bytes, lang: str, status: int = 200) -> web.Response:
    response = web.Response(
        status=status,
        body=body,
        content_type="text/html",
        charset="utf-8",
        headers={"Vary": "Accept-Language, Accept-Encoding", "Content-Language": lang},
    )
    compress(request, response)
    return response


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

"""The applicant's upload page ``GET /u/{token}``, the start page for uploads without a link
``GET /t/{tenant}``, and their files under ``GET /static/…``.

The page holds no case data. Its HTML is the same for every token (only the language differs),
so both languages are rendered once at start-up; the script reads the token from the address,
sends it only as ``Authorization: Bearer`` and learns everything else from the API (an invalid,
expired or revoked token still gets the page, which then shows the API's message). The script's
texts travel in a ``<script type="application/json">`` block, so the page runs under a CSP
without inline code. Static files are read once, served from memory with their content hash in
the URL (cached for a year), gzipped for text types; there are no third-party origins.

The start page ``/t/{tenant}`` is rendered at start-up too, per configured tenant and language,
from the settings: where the tenant allows uploads without a link it holds the form for the
BG-Nummer (its script asks ``POST /api/v1/tenants/{tenant}/upload-links`` for a one-day link and
opens it), elsewhere only a message; an unknown tenant gets the message page with status 404.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from aiohttp import web

from briefkasten.config import TenantSettings
from briefkasten.errors import NotFound
from briefkasten.gateway.keys import SETTINGS
from briefkasten.gateway.web.texts import ERRORS, LANGUAGES, START_TEXTS, TEXTS

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
DEFAULT_LANGUAGE = "de"
#: Versioned static URLs never change their content: cache them for a year.
LONG_CACHE = "public, max-age=31536000, immutable"
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
    ".map": "application/json",
}
MAX_ACCEPT_LANGUAGE_ENTRIES = 20


@dataclass(frozen=True)
class StaticFile:
    """One file under ``static/``, held in memory."""

    body: bytes
    gzipped: bytes | None
    content_type: str
    version: str  # the first 16 hex digits of its SHA-256


@dataclass(frozen=True)
class Site:
    """What the pages need at run time: the rendered HTML per language and the static files."""

    html: dict[str, bytes]
    files: dict[str, StaticFile]
    #: The start page per (tenant id, language); the tenant id ``""`` is the unknown tenant.
    start: dict[tuple[str, str], bytes] = field(default_factory=dict)


SITE = web.AppKey("upload_page", Site)


def setup(app: web.Application) -> None:
    """Add ``GET /u/{token}``, ``GET /t/{tenant}`` and ``GET /static/{name}`` to the gateway."""
    app[SITE] = load(tenants=app[SETTINGS].tenants)
    app.router.add_get("/u/{token}", upload_page, name="upload-page")
    app.router.add_get("/t/{tenant}", start_page, name="start-page")
    app.router.add_get("/static/{name:.+}", static_file, name="static")


def load(
    static_dir: Path = STATIC_DIR,
    templates_dir: Path = TEMPLATES_DIR,
    tenants: tuple[TenantSettings, ...] = (),
) -> Site:
    """Read the static files and render the pages in every language (the start page for each
    of ``tenants`` and for an unknown one)."""
    files = {
        path.relative_to(static_dir).as_posix(): _static(path)
        for path in sorted(static_dir.rglob("*"))
        if path.is_file()
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def static_url(name: str) -> str:
        # Relative, so the page also works under a path prefix (``/briefkasten/u/…``).
        return f"../static/{name}?v={files[name].version}"

    template = env.get_template("page.html")
    html = {
        lang: template.render(
            lang=lang,
            other=next(other for other in LANGUAGES if other != lang),
            t=TEXTS[lang],
            texts={"lang": lang, "errors": ERRORS, **TEXTS},
            static=static_url,
        ).encode()
        for lang in LANGUAGES
    }
    start_template = env.get_template("start.html")
    start = {
        (tenant.id if tenant else "", lang): start_template.render(
            lang=lang,
            other=next(other for other in LANGUAGES if other != lang),
            t=START_TEXTS[lang],
            texts={"lang": lang, "errors": ERRORS, **START_TEXTS},
            static=static_url,
            tenant=tenant,
        ).encode()
        for tenant in (None, *tenants)
        for lang in LANGUAGES
    }
    return Site(html=html, files=files, start=start)


def language(query: str | None, accept_language: str) -> str:
    """``?lang=`` if it names a language we have, else the best of ``Accept-Language``."""
    if query in LANGUAGES:
        return query
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for entry in accept_language.split(",")[:MAX_ACCEPT_LANGUAGE_ENTRIES]:
        tag, _, params = entry.partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


async def upload_page(request: web.Request) -> web.Response:
    """The page for any token: the script validates it against the API."""
    lang = language(request.query.get("lang"), request.headers.get("Accept-Language", ""))
    return web.Response(
        body=request.app[SITE].html[lang],
        content_type="text/html",
        charset="utf-8",
        headers={"Vary": "Accept-Language", "Content-Language": lang},
    )


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


def _static(path: Path) -> StaticFile:
    body = path.read_bytes()
    content_type = (
        CONTENT_TYPES.get(path.suffix)
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    compress = content_type.startswith(COMPRESSIBLE) and len(body) > 1024
    return StaticFile(
        body=body,
        gzipped=gzip.compress(body, mtime=0) if compress else None,
        content_type=content_type,
        version=hashlib.sha256(body).hexdigest()[:16],
    )

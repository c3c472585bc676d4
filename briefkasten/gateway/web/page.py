"""The pages and their files, loaded and rendered once at start-up (``Site``): the applicant's
upload page ``GET /u/{token}``, the start page for uploads without a link ``GET /t/{tenant}``,
their files under ``GET /static/…`` (the handlers are in ``routes.py``) and the one Jinja
environment, which the operators' dashboard renders with too.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from briefkasten.config import TenantSettings
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


def environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """The one Jinja environment of the gateway's pages (the applicant's and the operators')."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


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
    #: The templates, for pages rendered elsewhere (the operators' dashboard).
    templates: jinja2.Environment = field(default_factory=environment, compare=False, repr=False)

    def render(self, name: str, static_base: str, **context: Any) -> bytes:
        """The template ``name`` with ``static(file)`` giving versioned URLs under
        ``static_base`` (relative to the page's own path)."""
        template = self.templates.get_template(name)
        return template.render(static=static_urls(self.files, static_base), **context).encode()


def static_urls(files: dict[str, StaticFile], base: str) -> Callable[[str], str]:
    """``static(name)`` for templates: ``<base>static/<name>?v=<version>``."""

    def static_url(name: str) -> str:
        return f"{base}static/{name}?v={files[name].version}"

    return static_url


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
    env = environment(templates_dir)
    # Relative, so the pages also work under a path prefix (``/briefkasten/u/…``).
    static_url = static_urls(files, "../")
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
    return Site(html=html, files=files, start=start, templates=env)


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

"""The pages and their files, loaded and rendered once at start-up (``Site``): the applicant's
upload page ``GET /u/{token}``, the start page for uploads without a link ``GET /t/{tenant}``,
their files under ``GET /static/…`` (the handlers are in ``routes.py``) and the one Jinja
environment, which the operators' dashboard renders with too.

The page holds no case data. Its HTML is the same for every token (only the language differs),
so every applicant language (``briefkasten.i18n``: ten, ``dir="rtl"`` for Arabic and Persian)
is rendered once at start-up; the script reads the token from the address, sends it only as
``Authorization: Bearer`` and learns everything else from the API (an invalid, expired or
revoked token still gets the page, which then shows the API's message). The script's texts in
the page's language travel in a ``<script type="application/json">`` block, so the page runs
under a CSP without inline code; the language menu switches in place (what was added stays),
fetching the other language's texts from ``static/i18n/page-<lang>.json`` (versioned, cached).
Static files are read once, served from memory with their content hash in the URL (cached
for a year), gzipped for text types; there are no third-party origins.

The start page ``/t/{tenant}`` is rendered at start-up too, per configured tenant and language,
from the settings: where the tenant allows uploads without a link it holds the form for the
BG-Nummer (its script asks ``POST /api/v1/tenants/{tenant}/upload-links`` for a one-day link and
opens it), elsewhere only a message; an unknown tenant gets the message page with status 404.
So are each tenant's "Einfach erklärt" page ``/t/{tenant}/einfach`` (the steps in easy-to-read
sentences, German in Leichte Sprache style, with pictures) and its accessibility statement
``/t/{tenant}/barrierefreiheit`` (BITV 2.0: conformance, known limits, the contact for reporting
a barrier, the enforcement body; from ``[accessibility]`` and the tenant's own entries).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from briefkasten import i18n
from briefkasten.config import TenantSettings
from briefkasten.config.accessibility import AccessibilitySettings

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
DEFAULT_LANGUAGE = i18n.DEFAULT
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
    #: The "Einfach erklärt" page and the accessibility statement per (tenant id, ``einfach``
    #: or ``barrierefreiheit``, language).
    info: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    #: ``GET /`` in German and English.
    home: dict[str, bytes] = field(default_factory=dict)
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


def page_texts(lang: str) -> dict[str, str]:
    """The upload page's texts in ``lang``."""
    return i18n.section(lang, "page")


def start_texts(lang: str) -> dict[str, str]:
    """The start page's texts in ``lang``: the upload page's frame and its own."""
    return {**page_texts(lang), **i18n.section(lang, "start")}


def script_texts(lang: str, texts: dict[str, str]) -> dict[str, Any]:
    """What a page's script needs in ``lang``: its texts, the applicant error texts by code and
    the advice on a photo by quality flag, the review step's type hints by suggested type
    (also served as ``static/i18n/…json`` for switching the language in place)."""
    return {
        "texts": texts,
        "errors": i18n.section(lang, "error"),
        "advice": i18n.section(lang, "advice"),
        "suggest": i18n.section(lang, "suggest"),
    }


def load(
    static_dir: Path = STATIC_DIR,
    templates_dir: Path = TEMPLATES_DIR,
    tenants: tuple[TenantSettings, ...] = (),
    statements: Mapping[str, AccessibilitySettings] | None = None,
) -> Site:
    """Read the static files and render the pages in every language: the upload page, and for
    each of ``tenants`` and for an unknown one the start page, the "Einfach erklärt" page and
    the accessibility statement (``statements`` by tenant id; the key ``""`` for an unknown
    tenant; default: empty ones)."""
    files = {
        path.relative_to(static_dir).as_posix(): _static(path)
        for path in sorted(static_dir.rglob("*"))
        if path.is_file()
    }
    for lang in i18n.LANGUAGES:
        for name, texts in (("page", page_texts(lang)), ("start", start_texts(lang))):
            body = json.dumps(script_texts(lang, texts), ensure_ascii=False).encode()
            files[f"i18n/{name}-{lang}.json"] = _file(body, "application/json")
    env = environment(templates_dir)
    # Relative, so the pages also work under a path prefix (``/briefkasten/u/…``).
    static_url = static_urls(files, "../")
    statements = statements or {}
    common = statements.get("", AccessibilitySettings())

    def frame(lang: str, texts: dict[str, str], kind: str, footer: str = "") -> dict[str, Any]:
        return {
            "footer_base": footer,
            "lang": lang,
            "dir": i18n.direction(lang),
            "languages": [(c, i18n.NAMES[c], i18n.direction(c)) for c in i18n.LANGUAGES],
            "t": texts,
            "texts": {
                "lang": lang,
                "languages": {c: static_url(f"i18n/{kind}-{c}.json") for c in i18n.LANGUAGES},
                lang: script_texts(lang, texts),
            },
            "static": static_url,
        }

    template = env.get_template("page.html")
    html = {
        lang: template.render(**frame(lang, page_texts(lang), "page")).encode()
        for lang in i18n.LANGUAGES
    }
    start: dict[tuple[str, str], bytes] = {}
    info: dict[tuple[str, str, str], bytes] = {}
    for tenant in (None, *tenants):
        key = tenant.id if tenant else ""
        for lang in i18n.LANGUAGES:
            context = frame(lang, start_texts(lang), "start", tenant.id if tenant else "")
            context["tenant"] = tenant
            start[(key, lang)] = env.get_template("start.html").render(**context).encode()
            # One level deeper (``/t/<tenant>/einfach``): static files are ``../../static/``.
            context["static"] = static_urls(files, "../../")
            context["footer_base"] = "." if tenant else ""
            context["t"] = {**context["t"], **i18n.section(lang, "easy")}
            info[(key, "einfach", lang)] = env.get_template("easy.html").render(**context).encode()
            context["t"] = {**start_texts(lang), **i18n.section(lang, "a11y")}
            context["statement"] = statements.get(key, common)
            context["name"] = tenant.display_name if tenant else i18n.text(lang, "page.brand")
            body = env.get_template("accessibility.html").render(**context).encode()
            info[(key, "barrierefreiheit", lang)] = body
    home = {
        lang: env.get_template("home.html")
        .render(lang=lang, other=other, t=HOME_TEXTS[lang], tenants=tenants, static=home_static)
        .encode()
        for lang, other, home_static in (
            ("de", "en", static_urls(files, "")),
            ("en", "de", static_urls(files, "")),
        )
    }
    return Site(html=html, files=files, start=start, info=info, home=home, templates=env)


def home_language(query: str | None, accept_language: str) -> str:
    """``GET /`` speaks German, or English where that is what the client asks for."""
    return "en" if language(query, accept_language) == "en" else "de"


#: The texts of ``GET /`` (for operators and developers as much as applicants: German and
#: English only, so they live here and not in the applicant catalogues).
HOME_TEXTS = {
    "de": {
        "title": "Briefkasten – der digitale Briefkasten des Jobcenters",
        "language": "Sprache",
        "other_language": "English",
        "what": (
            "Hier reichen Menschen, die Bürgergeld bekommen, Unterlagen bei ihrem Jobcenter ein: "
            "Fotos oder PDF-Dateien, vom Handy oder vom Computer, zu jeder Zeit. Briefkasten macht "
            "daraus durchsuchbare PDF-Dokumente und gibt sie an die Fachsoftware des Jobcenters."
        ),
        "applicants_title": "Für Antragstellende",
        "applicants": (
            "Ihr Jobcenter gibt Ihnen einen Link oder einen QR-Code, zum Beispiel in einem Brief. "
            "Öffnen Sie den Link oder scannen Sie den Code mit dem Handy. Dort laden Sie Ihre "
            "Unterlagen hoch. Sie brauchen kein Konto."
        ),
        "start_pages": "Manche Jobcenter haben eine eigene Startseite:",
        "operators_title": "Für den Betrieb",
        "admin": "Übersicht für den Betrieb (Anmeldung mit zweitem Faktor)",
        "metrics": "Kennzahlen für Prometheus",
        "health": "Lebens- und Bereitschaftsprüfung",
        "developers_title": "Für Entwicklerinnen und Entwickler",
        "openapi": "die HTTP-Schnittstelle (OpenAPI 3.1)",
        "asyncapi": "die Nachrichten an die Fachsoftware (AsyncAPI)",
    },
    "en": {
        "title": "Briefkasten – the job centre's digital mailbox",
        "language": "Language",
        "other_language": "Deutsch",
        "what": (
            "People who receive Bürgergeld hand in documents to their job centre here: photos or "
            "PDF files, from a phone or a computer, at any time. Briefkasten turns them into "
            "searchable PDF documents and delivers them to the job centre's case software."
        ),
        "applicants_title": "For applicants",
        "applicants": (
            "Your job centre gives you a link or a QR code, for example in a letter. Open the "
            "link or scan the code with your phone. There you upload your documents. You do not "
            "need an account."
        ),
        "start_pages": "Some job centres have their own start page:",
        "operators_title": "For operators",
        "admin": "the administrators' dashboard (sign-in with a second factor)",
        "metrics": "metrics for Prometheus",
        "health": "liveness and readiness probes",
        "developers_title": "For developers",
        "openapi": "the HTTP API (OpenAPI 3.1)",
        "asyncapi": "the messages to the case software (AsyncAPI)",
    },
}


def language(query: str | None, accept_language: str) -> str:
    """``?lang=`` if it names a language we have, else the best of ``Accept-Language``."""
    return i18n.negotiate(query, accept_language)


def _static(path: Path) -> StaticFile:
    content_type = (
        CONTENT_TYPES.get(path.suffix)
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )
    return _file(path.read_bytes(), content_type)


def _file(body: bytes, content_type: str) -> StaticFile:
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    compress = content_type.startswith(COMPRESSIBLE) and len(body) > 1024
    return StaticFile(
        body=body,
        gzipped=gzip.compress(body, mtime=0) if compress else None,
        content_type=content_type,
        version=hashlib.sha256(body).hexdigest()[:16],
    )

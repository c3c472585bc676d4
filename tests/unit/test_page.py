"""The upload page ``/u/{token}``, the start page ``/t/{tenant}`` and their static files, without
a browser.

The upload page is the same HTML for every token; these tests check what a browser would rely
on: both languages, no inline code (the CSP forbids it), the texts block for the script, the
vendored tus client, and the caching of the static files. The start page for uploads without a
link has the form only where the tenant allows them.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from briefkasten import i18n
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings, TenantSettings
from briefkasten.gateway.web import page
from briefkasten.intake import CASE_NUMBER
from briefkasten.storage import open_storage
from tests.support.gateway import GatewayClient
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)

Client = TestClient[Any, Any]
TOKEN = "not-a-real-token.signature"
TUS_JS_SHA256 = "8cbb1b63fccc3bba0ae73ad1deb160ce046c3750851d0c3e94921ae3ef070eb8"
SNIFF = Path(__file__).resolve().parents[2] / "briefkasten" / "pipeline" / "sniff.py"
OPEN = TenantSettings(
    "jc-offen", name="Jobcenter Offenbach", logo="/srv/logo.svg", allow_uploads_without_link=True
)
CLOSED = TenantSettings("jc-zu", name="Jobcenter Zustadt")


class _Document(HTMLParser):
    """Every tag with its attributes, and the text of each ``<script>``."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def parse(html: str) -> _Document:
    document = _Document()
    document.feed(html)
    return document


async def page_client(
    gateway_client: GatewayClient, settings: Settings, folder: Path, **changes: Any
) -> Client:
    """A gateway for the pages' tests: one tenant API key, a spool in ``folder``, memory
    storage and queue; ``changes`` replace sections of ``settings`` (``tenants=…``)."""
    settings = dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway, api_keys="jc-test:page-key-0123456789", spool_dir=folder / "spool"
        ),
        **changes,
    )
    storage = open_storage(f"memory://{folder.name}")
    return await gateway_client(settings, storage=storage, jobs=MemoryJobQueue())


@pytest.fixture
async def client(tmp_path: Path, settings: Settings, gateway_client: GatewayClient) -> Client:
    return await page_client(gateway_client, settings, tmp_path, tenants=(OPEN, CLOSED))


async def get_page(client: Client, query: str = "", **headers: str) -> tuple[str, Any]:
    response = await client.get(f"/u/{TOKEN}{query}", headers=headers)
    assert response.status == 200
    return await response.text(), response


def assert_page_headers(response: Any, lang: str) -> None:
    assert response.content_type == "text/html"
    assert response.charset == "utf-8"
    assert response.headers["Content-Language"] == lang
    assert response.headers["Vary"] == "Accept-Language, Accept-Encoding"
    assert "Content-Security-Policy" in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def assert_no_inline_code(html: str) -> None:
    """Scripts come from our origin or are data; no style or on* attributes; no foreign origin."""
    document = parse(html)
    for attrs, text in document.scripts:
        if attrs.get("type") == "application/json":
            continue
        assert attrs.get("src", "").startswith("../static/"), attrs  # type: ignore[union-attr]
        assert not text.strip()
    assert not document.find("style")
    for tag, attrs in document.tags:
        assert "style" not in attrs, tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
    # No third-party origin anywhere.
    assert not re.search(r"(src|href)=\"(https?:)?//", html)


async def test_page_is_german_by_default_and_holds_no_inline_code(client: Client) -> None:
    html, response = await get_page(client)
    assert_page_headers(response, "de")
    assert parse(html).find("html")[0]["lang"] == "de"
    assert "Unterlagen senden" in html and "Foto machen" in html
    assert_no_inline_code(html)
    assert TOKEN not in html  # the page is the same for every token


async def test_texts_block_carries_its_language_and_where_the_others_are(client: Client) -> None:
    html, _ = await get_page(client)
    (texts,) = [text for attrs, text in parse(html).scripts if attrs.get("id") == "texts"]
    data = json.loads(texts)
    assert data["lang"] == "de"
    assert set(data) == {"lang", "languages", "de"}  # only the page's own language inline
    assert data["de"]["texts"] == page.page_texts("de")
    assert data["de"]["texts"]["save_pdf"] == "Quittung als PDF speichern"
    assert data["de"]["errors"]["link_expired"] == i18n.text("de", "error.link_expired")
    assert data["de"]["advice"]["blurry"] == i18n.text("de", "advice.blurry")
    assert set(data["languages"]) == set(i18n.LANGUAGES)
    assert "</" not in texts  # nothing in the JSON can close the script element
    # Each other language's texts are a versioned static file the menu fetches.
    for lang, url in data["languages"].items():
        assert url.startswith(f"../static/i18n/page-{lang}.json?v=")
        response = await client.get("/static/" + url.removeprefix("../static/"))
        assert response.status == 200
        assert response.headers["Cache-Control"] == page.LONG_CACHE
        fetched = await response.json()
        assert fetched["texts"] == page.page_texts(lang)
        assert fetched["errors"] == i18n.section(lang, "error")


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("?lang=en", "", "en"),
        ("?lang=de", "en-US,en;q=0.9", "de"),
        ("", "en-GB,en;q=0.9,de;q=0.8", "en"),
        ("", "de-DE,de;q=0.9,en;q=0.8", "de"),
        ("", "fr-FR,fr;q=0.9,en;q=0.5", "en"),
        ("", "tr", "tr"),
        ("", "uk-UA,ru;q=0.8", "uk"),
        ("?lang=ar", "de", "ar"),
        ("", "fa-IR", "fa"),
        ("", "sv", "de"),
        ("?lang=xx", "", "de"),
    ],
)
async def test_language_from_query_or_accept_language(
    client: Client, query: str, accept: str, expected: str
) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    html, response = await get_page(client, query, **headers)
    document = parse(html)
    assert document.find("html")[0]["lang"] == expected
    assert response.headers["Content-Language"] == expected
    assert document.find("html")[0]["dir"] == ("rtl" if expected in ("ar", "fa") else "ltr")
    # The menu: every language by its own name, as a ?lang= link; the page's one is current.
    menu = [a for a in document.find("a") if a.get("data-lang")]
    assert [a["data-lang"] for a in menu] == list(i18n.LANGUAGES)
    for link in menu:
        code = str(link["data-lang"])
        assert link["href"] == f"?lang={code}" and link["lang"] == link["hreflang"] == code
        assert link["dir"] == i18n.direction(code)
        assert (link.get("aria-current") == "true") == (code == expected)
        assert f">{i18n.NAMES[code]}</a>" in html
    assert html.count(page.page_texts(expected)["take_photo"]) >= 1


def test_language_ignores_malformed_quality_values() -> None:
    assert page.language(None, "en;q=abc, de;q=0.1") == "de"
    assert page.language(None, "") == "de"
    assert page.language("en", "de") == "en"


async def test_page_has_the_accessible_structure(client: Client) -> None:
    html, _ = await get_page(client)
    document = parse(html)
    assert document.find("main", id="main")
    assert document.find("fieldset", id="types")
    assert "<legend" in html
    (camera,) = document.find("input", id="camera-input")
    assert camera["type"] == "file" and camera["capture"] == "environment"
    assert camera["accept"] == "image/*"
    (files,) = document.find("input", id="files-input")
    assert "multiple" in files
    accepted = set(str(files["accept"]).split(","))
    # Every media type the gateway's sniff allowlist accepts can be chosen.
    allowlist = set(re.findall(r'return "([a-z]+/[a-z.+-]+)"', SNIFF.read_text()))
    assert allowlist and allowlist <= accepted
    live = [a for t, a in document.tags if a.get("role") in ("status", "alert")]
    assert len(live) >= 4  # announcer, per-step alerts
    assert document.find("div", id="announcer")[0]["aria-live"] == "polite"
    for _, attrs in document.tags:
        if attrs.get("id") in ("collect-title", "review-title", "receipt-title"):
            assert attrs["tabindex"] == "-1"  # focus moves to the heading of each step
    (viewport,) = document.find("meta", name="viewport")
    assert "user-scalable" not in str(viewport["content"])  # zoom stays possible


async def test_static_files_are_served_with_a_long_cache_and_gzip(client: Client) -> None:
    html, _ = await get_page(client)
    sources = re.findall(r'(?:src|href)="\.\./static/([^"?]+)\?v=([0-9a-f]{16})"', html)
    names = {name for name, _ in sources}
    assert {"page.js", "page.css", "vendor/tus.min.js", "favicon.svg"} <= names
    for name, version in sources:
        response = await client.get(f"/static/{name}?v={version}")
        assert response.status == 200, name
        assert response.headers["Cache-Control"] == page.LONG_CACHE
        body = await response.read()
        assert hashlib.sha256(body).hexdigest()[:16] == version
    response = await client.get(
        "/static/page.js", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "no-cache"  # unversioned: revalidate
    assert b"tus.Upload" in gzip.decompress(await response.read())
    etag = response.headers["ETag"]
    again = await client.get("/static/page.js", headers={"If-None-Match": etag})
    assert again.status == 304
    css = await client.get("/static/page.css")
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert css.headers["X-Content-Type-Options"] == "nosniff"


async def test_unknown_static_file_is_a_json_404(client: Client) -> None:
    for path in ("/static/nope.js", "/static/../page.py", "/static/%2e%2e/page.py"):
        response = await client.get(path)
        assert response.status == 404, path
        body = await response.json()
        assert body["error"]["code"] == "not_found"


def test_vendored_tus_client_is_the_published_build() -> None:
    vendored = page.STATIC_DIR / "vendor" / "tus.min.js"
    assert hashlib.sha256(vendored.read_bytes()).hexdigest() == TUS_JS_SHA256
    assert (
        (page.STATIC_DIR / "vendor" / "tus-js-client-LICENSE.txt")
        .read_text()
        .startswith("The MIT License")
    )


@pytest.mark.parametrize("name", ["common.js", "page.js", "start.js"])
def test_the_script_uses_no_eval_and_writes_no_html(name: str) -> None:
    script = (page.STATIC_DIR / name).read_text()
    for forbidden in ("eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML"):
        assert forbidden not in script, forbidden
    assert ".style." not in script and "setAttribute('style'" not in script
    assert "localStorage" not in script and "document.cookie" not in script


# --- the start page for uploads without a link: /t/{tenant} -----------------------------------


async def get_start(
    client: Client, tenant: str, query: str = "", status: int = 200, **headers: str
) -> tuple[str, Any]:
    response = await client.get(f"/t/{tenant}{query}", headers=headers)
    assert response.status == status
    return await response.text(), response


async def test_start_page_has_the_form_where_the_tenant_allows_it(client: Client) -> None:
    html, response = await get_start(client, OPEN.id)
    assert_page_headers(response, "de")
    assert_no_inline_code(html)
    document = parse(html)
    assert document.find("html")[0]["lang"] == "de"
    (tenant,) = document.find("p", id="tenant")
    assert "An: Jobcenter Offenbach" in html and tenant["data-name"] == OPEN.display_name
    (logo,) = document.find("img", id="tenant-logo")
    assert logo["src"] == f"../tenant-logo/{OPEN.id}" and logo["alt"] == ""
    (form,) = document.find("form", id="start-form")
    assert form["data-tenant"] == OPEN.id
    assert "hidden" in form  # the script shows it; without a script the noscript text says why
    assert "<noscript>" in html
    # One labelled input, described by the hint (and by the error once there is one).
    (label,) = document.find("label")
    assert label["for"] == "case-number"
    (field,) = document.find("input")
    assert field["id"] == "case-number" and field["type"] == "text"
    assert field["aria-describedby"] == "case-hint"
    assert field["autocomplete"] == "off"
    (hint,) = document.find("p", id="case-hint")
    assert (
        "Die BG-Nummer steht oben auf Ihren Briefen vom Jobcenter, zum Beispiel 12345BG0012345."
        in html
    )
    assert hint["class"] == "hint"
    assert document.find("p", id="case-error")[0]["class"] == "field-error"
    assert document.find("div", id="start-alert")[0]["role"] == "alert"
    assert document.find("div", id="announcer")[0]["aria-live"] == "polite"
    (button,) = document.find("button")
    assert button["type"] == "submit"
    # Our script only, and the texts for it in both languages.
    sources = [attrs["src"] for attrs, _ in document.scripts if attrs.get("src")]
    assert [str(s).split("?")[0] for s in sources] == ["../static/common.js", "../static/start.js"]
    (texts,) = [text for attrs, text in document.scripts if attrs.get("id") == "texts"]
    data = json.loads(texts)
    assert data["lang"] == "de"
    assert data["de"]["texts"] == page.start_texts("de")
    assert "rate_limited" in data["de"]["errors"]
    assert set(data["languages"]) == set(i18n.LANGUAGES)
    assert "</" not in texts


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("?lang=en", "", "en"),
        ("?lang=de", "en-US,en;q=0.9", "de"),
        ("", "en-GB,en;q=0.9,de;q=0.8", "en"),
        ("", "", "de"),
        ("?lang=uk", "", "uk"),
        ("", "ar", "ar"),
    ],
)
async def test_start_page_language(client: Client, query: str, accept: str, expected: str) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    html, response = await get_start(client, OPEN.id, query, **headers)
    assert_page_headers(response, expected)
    document = parse(html)
    assert document.find("html")[0]["lang"] == expected
    assert document.find("html")[0]["dir"] == i18n.direction(expected)
    (current,) = [a for a in document.find("a") if a.get("aria-current") == "true"]
    assert current["data-lang"] == expected
    texts = page.start_texts(expected)
    assert escape(texts["case_label"]) in html and escape(texts["case_hint"]) in html
    assert escape(texts["to_jobcenter"].format(name=OPEN.display_name)) in html
    (field,) = document.find("input", id="case-number")
    assert field["dir"] == "ltr"  # the BG-Nummer reads left to right on RTL pages too
    # The footer and the intro lead to the tenant's information pages, in this language.
    links = {a["id"]: a["href"] for a in document.find("a") if a.get("id")}
    assert links["easy-link"] == f"{OPEN.id}/einfach?lang={expected}"
    assert links["a11y-link"] == f"{OPEN.id}/barrierefreiheit?lang={expected}"


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_start_page_without_the_form_where_the_tenant_does_not_allow_it(
    client: Client, lang: str
) -> None:
    html, response = await get_start(client, CLOSED.id, f"?lang={lang}")
    assert_page_headers(response, lang)
    assert_no_inline_code(html)
    document = parse(html)
    assert not document.find("form") and not document.find("input")
    assert not document.scripts  # a plain message: nothing to run
    texts = page.start_texts(lang)
    assert escape(texts["no_link_title"]) in html and escape(texts["no_link"]) in html
    assert document.find("p", id="tenant") and CLOSED.display_name in html
    assert not document.find("img", id="tenant-logo")  # none configured
    assert document.find("link", rel="stylesheet")  # the same look
    assert document.find("details", id="lang-menu")


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_start_page_for_an_unknown_tenant_is_a_404_page(client: Client, lang: str) -> None:
    html, response = await get_start(client, "jc-nirgendwo", f"?lang={lang}", status=404)
    assert_page_headers(response, lang)
    assert_no_inline_code(html)
    document = parse(html)
    assert not document.find("form") and not document.scripts
    assert not document.find("p", id="tenant") and not document.find("img", id="tenant-logo")
    texts = page.start_texts(lang)
    assert escape(texts["unknown_title"]) in html and escape(texts["unknown"]) in html
    assert "hidden" in parse(html).find("p", id="footer-links")[0]
    assert "nirgendwo" not in html  # nothing from the address is echoed
    # A path that looks like markup is not echoed either.
    html, _ = await get_start(client, "%3Cscript%3Ealert(1)%3C%2Fscript%3E", status=404)
    assert "alert(1)" not in html and "<script" not in html


async def test_start_page_static_files_are_versioned(client: Client) -> None:
    html, _ = await get_start(client, OPEN.id)
    sources = re.findall(r'(?:src|href)="\.\./static/([^"?]+)\?v=([0-9a-f]{16})"', html)
    assert {"start.js", "page.css", "favicon.svg"} <= {name for name, _ in sources}
    for name, version in sources:
        response = await client.get(f"/static/{name}?v={version}")
        assert response.status == 200, name
        assert response.headers["Cache-Control"] == page.LONG_CACHE


def test_start_script_checks_the_same_format_as_the_gateway() -> None:
    script = (page.STATIC_DIR / "start.js").read_text()
    assert f"const CASE_NUMBER = /{CASE_NUMBER.pattern}/;" in script
    assert "location.assign(" in script

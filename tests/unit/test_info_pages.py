"""The tenant's information pages: "Einfach erklärt" (``/t/{tenant}/einfach``) and the
accessibility statement (``/t/{tenant}/barrierefreiheit``), in every language, without a
browser (the browser tests check them with axe)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from aiohttp.test_utils import TestClient

from briefkasten import i18n
from briefkasten.config import ConfigError, Settings, TenantSettings, load
from briefkasten.config.accessibility import AccessibilitySettings
from tests.support.gateway import GatewayClient
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)
from tests.unit.test_page import assert_no_inline_code, assert_page_headers, page_client, parse

Client = TestClient[Any, Any]
OWN = TenantSettings(
    "jc-eigen",
    name="Jobcenter Eigenstadt",
    accessibility_email="barrierefrei@jobcenter-eigenstadt.example",
    accessibility_phone="0123 456789",
    accessibility_enforcement_name="Durchsetzungsstelle des Landes",
    accessibility_enforcement_url="https://durchsetzung.example/",
)
COMMON = TenantSettings("jc-allgemein", name="Jobcenter Allgemein")


@pytest.fixture
async def client(tmp_path: Path, settings: Settings, gateway_client: GatewayClient) -> Client:
    accessibility = AccessibilitySettings(
        conformance="partial",
        statement_date="2026-11-30",
        address="Musterstraße 1, 12345 Musterstadt",
    )
    return await page_client(
        gateway_client, settings, tmp_path, accessibility=accessibility, tenants=(OWN, COMMON)
    )


async def get(client: Client, path: str, status: int = 200) -> tuple[str, Any]:
    response = await client.get(path)
    assert response.status == status
    return await response.text(), response


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
async def test_easy_page_has_every_step_with_a_picture(client: Client, lang: str) -> None:
    html, response = await get(client, f"/t/{OWN.id}/einfach?lang={lang}")
    assert_page_headers(response, lang)
    assert_no_inline_code(html)
    document = parse(html)
    assert document.find("html")[0]["dir"] == i18n.direction(lang)
    assert not document.scripts  # plain text and pictures: nothing to run
    texts = i18n.section(lang, "easy")
    for step in ("step1", "step2", "step3", "step4"):
        assert escape(texts[f"{step}_title"]) in html
        for line in texts[step].split("\n"):  # one idea per line: each its own paragraph
            assert f"<p>{escape(line)}</p>" in html
    pictures = [img for img in document.find("img") if "easy-" in str(img.get("src"))]
    assert len(pictures) == 4
    assert all(img["alt"] for img in pictures)  # every picture says what it shows
    for img in pictures:
        response = await client.get(urljoin(f"/t/{OWN.id}/einfach", str(img["src"])))
        assert response.status == 200 and response.content_type == "image/svg+xml"
    # The style sheet and icons resolve from one level below the start page.
    (sheet,) = document.find("link", rel="stylesheet")
    response = await client.get(urljoin(f"/t/{OWN.id}/einfach", str(sheet["href"])))
    assert response.status == 200 and response.content_type == "text/css"
    (back,) = [a for a in document.find("a") if a.get("href") == f"../{OWN.id}?lang={lang}"]
    assert back


async def test_the_start_page_links_the_easy_page(client: Client) -> None:
    html, _ = await get(client, f"/t/{OWN.id}")
    hrefs = [a["href"] for a in parse(html).find("a")]
    assert f"{OWN.id}/einfach?lang=de" in hrefs  # in the intro and in the footer
    assert f"{OWN.id}/barrierefreiheit?lang=de" in hrefs


@pytest.mark.parametrize("lang", ["de", "en", "ar"])
async def test_accessibility_statement_of_a_tenant_with_its_own_contact(
    client: Client, lang: str
) -> None:
    html, response = await get(client, f"/t/{OWN.id}/barrierefreiheit?lang={lang}")
    assert_page_headers(response, lang)
    assert not parse(html).scripts
    texts = i18n.section(lang, "a11y")
    assert escape(texts["intro"].replace("{name}", OWN.display_name)) in html
    assert escape(texts["status_partial"]) in html  # conformance from [accessibility]
    assert escape(texts["limit_receipt_pdf"]) in html  # the known limits are listed
    assert escape(texts["prepared"].replace("{date}", "2026-11-30")) in html
    document = parse(html)
    hrefs = [a["href"] for a in document.find("a")]
    assert f"mailto:{OWN.accessibility_email}" in hrefs  # the feedback contact
    assert "tel:0123456789" in hrefs
    assert "Musterstraße 1, 12345 Musterstadt" in html  # the global address, not overridden
    assert OWN.accessibility_enforcement_url in hrefs
    assert escape(texts["enforcement"]) in html
    # In another language than German, the statement says the German text applies.
    assert (escape(texts["limit_translation"]) in html) == (lang != "de")


async def test_accessibility_statement_without_a_contact_says_so(
    client: Client, tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    other = await page_client(gateway_client, settings, tmp_path / "bare", tenants=(COMMON,))
    html, _ = await get(other, f"/t/{COMMON.id}/barrierefreiheit")
    assert escape(i18n.text("de", "a11y.not_configured")) in html
    assert "mailto:" not in html
    assert escape(i18n.text("de", "a11y.enforcement_title")) not in html  # none configured


async def test_information_pages_of_a_tenant_without_a_table_are_the_general_ones(
    client: Client,
) -> None:
    """An upload link's tenant may be known only from its API key: its footer links work."""
    html, _ = await get(client, "/t/jc-test/barrierefreiheit")
    assert escape(i18n.text("de", "a11y.intro", name=i18n.text("de", "page.brand"))) in html
    assert "Musterstraße 1" in html  # the global contact
    html, _ = await get(client, "/t/jc-test/einfach?lang=uk")
    assert escape(i18n.text("uk", "easy.title")) in html
    await get(client, "/t/jc-test/anything-else", status=404)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BRIEFKASTEN_ACCESSIBILITY_CONFORMANCE": "mostly"}, "conformance"),
        ({"BRIEFKASTEN_ACCESSIBILITY_STATEMENT_DATE": "30.11.2026"}, "statement_date"),
        ({"BRIEFKASTEN_ACCESSIBILITY_ENFORCEMENT_URL": "javascript:alert(1)"}, "https"),
    ],
)
def test_accessibility_settings_are_checked(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(environ=environ)


def test_a_tenants_enforcement_url_is_checked(tmp_path: Path) -> None:
    config = tmp_path / "briefkasten.toml"
    config.write_text(
        '[tenants.jc-a]\nname = "A"\naccessibility_enforcement_url = "http://x.example/"\n'
    )
    with pytest.raises(ConfigError, match=r"\[tenants.jc-a\] accessibility_enforcement_url"):
        load(config, environ={})

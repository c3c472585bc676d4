"""``GET /`` (what the service is, German and English) and gzip for the pages."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from briefkasten.config import Settings
from tests.support.gateway import GatewayClient
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)
from tests.unit.test_admin import admin_settings
from tests.unit.test_page import CLOSED, OPEN, assert_no_inline_code, page_client, parse

Client = TestClient[Any, Any]


@pytest.fixture
async def client(tmp_path: Path, settings: Settings, gateway_client: GatewayClient) -> Client:
    """The pages' gateway with the operators' dashboard switched on."""
    admin = admin_settings(settings, tmp_path)
    return await page_client(
        gateway_client,
        settings,
        tmp_path,
        tenants=(OPEN, CLOSED),
        admin=admin.admin,
        operators=admin.operators,
    )


@pytest.mark.parametrize(
    ("query", "accept", "lang", "phrase"),
    [
        ("", "", "de", "Für Antragstellende"),
        ("", "en-GB,en;q=0.9", "en", "For applicants"),
        ("?lang=en", "de", "en", "For applicants"),
        ("?lang=de", "en", "de", "Für Antragstellende"),
        ("", "uk,ru;q=0.8", "de", "Für Antragstellende"),  # only German and English here
    ],
)
async def test_home_page_says_what_this_is_and_where_everyone_goes(
    client: Client, query: str, accept: str, lang: str, phrase: str
) -> None:
    response = await client.get(f"/{query}", headers={"Accept-Language": accept})
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Content-Language"] == lang
    html = await response.text()
    assert phrase in html
    assert f'<html lang="{lang}"' in html
    assert_no_inline_code(html.replace('src="static/', 'src="../static/'))
    document = parse(html)
    links = {a.get("href") for a in document.find("a")}
    for target in ("admin", "metrics", "healthz", "readyz", "api/v1/openapi.json"):
        assert target in links
    assert f"t/jc-offen?lang={lang}" in links and f"t/jc-zu?lang={lang}" in links
    assert ("?lang=en" if lang == "de" else "?lang=de") in links
    for stylesheet in document.find("link", rel="stylesheet"):
        href = str(stylesheet["href"])
        assert (await client.get("/" + href)).status == 200  # relative to /


async def test_home_page_links_that_the_gateway_answers(client: Client) -> None:
    for target in (
        "healthz",
        "metrics",
        "t/jc-offen",
        "api/v1/openapi.json",
        "api/v1/asyncapi.json",
    ):
        assert (await client.get("/" + target)).status == 200, target


@pytest.mark.parametrize(
    "path", ["/", "/u/some-token", "/t/jc-offen", "/t/jc-offen/einfach", "/admin"]
)
async def test_pages_are_gzipped_for_clients_that_accept_it(client: Client, path: str) -> None:
    plain = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    body = await plain.read()
    response = await client.get(
        path, headers={"Accept-Encoding": "gzip, deflate, br"}, auto_decompress=False
    )
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    compressed = await response.read()
    assert gzip.decompress(compressed) == body
    assert len(compressed) < len(body) / 2

"""Case-bound upload links: the domain functions, the HTTP API and the ``link`` CLI.

The unit tier's part (no servers, no external programs); the other parts:
``tests/e2e/test_links.py``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
import segno
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from briefkasten import links
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.errors import ConfigError, InvalidRequest, NotFound, Unauthorized
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from briefkasten.storage.layout import manifest_key
from tests.support import factories
from tests.support.gateway import GatewayClient
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)

CASE = "12345BG0012345"
OTHER_CASE = "12345BG0099999"
KEY = "test-key-0123456789"
OTHER_KEY = "other-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
SECRET = "s" * 40
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

Client = TestClient[Any, Any]


@dataclasses.dataclass
class Gateway:
    client: Client
    storage: Storage
    settings: Settings


def with_links(settings: Settings, tmp_path: Path, secret: str = SECRET) -> Settings:
    return dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway,
            api_keys=f"jc-musterstadt:{KEY},jc-anderswo:{OTHER_KEY}",
            spool_dir=tmp_path / "spool",
        ),
        links=dataclasses.replace(
            settings.links, secret=secret, public_base_url="https://briefkasten.example/"
        ),
    )


@pytest.fixture
def png_bytes() -> bytes:
    buffer = io.BytesIO()
    factories.text_page().save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
async def gateway(tmp_path: Path, settings: Settings, gateway_client: GatewayClient) -> Gateway:
    settings = with_links(settings, tmp_path)
    storage = open_storage(f"memory://{tmp_path.name}")
    client = await gateway_client(settings, storage=storage, jobs=MemoryJobQueue())
    return Gateway(client, storage, settings)


async def create(gateway: Gateway, **body: Any) -> dict[str, Any]:
    response = await gateway.client.post(
        "/api/v1/upload-links", json={"case_number": CASE, **body}, headers=AUTH
    )
    assert response.status == 201, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


def link_form(png: bytes, document_type: str = "kontoauszug", case: str | None = None) -> FormData:
    form = FormData()
    if case is not None:
        form.add_field("case_number", case)
    form.add_field("document_type", document_type)
    form.add_field("file", png, filename="seite.png", content_type="application/octet-stream")
    return form


async def upload(gateway: Gateway, token: str, form: FormData) -> tuple[int, dict[str, Any]]:
    response = await gateway.client.post(
        "/api/v1/submissions", data=form, headers={"Authorization": f"Bearer {token}"}
    )
    return response.status, await response.json()


# --- the domain functions ------------------------------------------------------------------


def test_token_round_trip_is_short_and_binds_the_case(settings: Settings, tmp_path: Path) -> None:
    settings = with_links(settings, tmp_path)
    storage = open_storage("memory://links-domain")
    link, token = links.create_link(
        settings, storage, "jc-musterstadt", CASE, ["mietvertrag", "kontoauszug", "mietvertrag"]
    )
    assert len(token) < 200
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    verified = links.verify(settings.links, storage, token)
    assert verified == link
    assert verified.case_number == CASE
    assert verified.document_types == ("mietvertrag", "kontoauszug")
    record = json.loads(storage.get_bytes(f"jc-musterstadt/links/{link.link_id}.json"))
    assert record["case_number"] == CASE
    assert record["document_types"] == ["mietvertrag", "kontoauszug"]
    assert {"created_at", "expires_at"} <= set(record)


def test_refused_tokens(settings: Settings, tmp_path: Path) -> None:
    settings = with_links(settings, tmp_path)
    storage = open_storage("memory://links-refused")
    link, token = links.create_link(settings, storage, "jc-musterstadt", CASE)
    payload, _, signature = token.partition(".")
    with pytest.raises(Unauthorized):
        links.verify(settings.links, storage, payload[:-2] + "xx." + signature)
    with pytest.raises(Unauthorized):
        links.verify(dataclasses.replace(settings.links, secret="t" * 40), storage, token)
    with pytest.raises(Unauthorized):
        links.verify(settings.links, storage, "not-a-token")
    _, old = links.create_link(
        settings, storage, "jc-musterstadt", CASE, expires_in_days=14, now=time.time() - 15 * 86400
    )
    with pytest.raises(links.LinkExpired) as expired:
        links.verify(settings.links, storage, old)
    assert "abgelaufen" in expired.value.message_de
    links.revoke(storage, "jc-musterstadt", link.link_id)
    with pytest.raises(links.LinkRevoked):
        links.verify(settings.links, storage, token)


def test_creation_is_validated(settings: Settings, tmp_path: Path) -> None:
    storage = open_storage("memory://links-validated")
    with pytest.raises(ConfigError):
        links.create_link(settings, storage, "jc-musterstadt", CASE)  # no secret configured
    settings = with_links(settings, tmp_path)
    for bad in [
        {"case_number": "12345"},
        {"document_types": ["kochrezept"]},
        {"expires_in_days": 0},
        {"expires_in_days": settings.links.max_expiry_days + 1},
    ]:
        arguments: dict[str, Any] = {"case_number": CASE, **bad}
        with pytest.raises(InvalidRequest):
            links.create_link(settings, storage, "jc-musterstadt", **arguments)
    with pytest.raises(NotFound):
        links.revoke(storage, "jc-musterstadt", "0" * 16)
    assert links.parse_expiry("14d") == 14
    assert links.parse_expiry("3") == 3
    with pytest.raises(InvalidRequest):
        links.parse_expiry("2w")


# --- the HTTP API --------------------------------------------------------------------------


async def test_create_via_api_then_upload_into_the_links_case(
    gateway: Gateway, png_bytes: bytes
) -> None:
    answer = await create(gateway, document_types=["kontoauszug"], expires_in_days=7)
    token = answer["token"]
    assert answer["url"] == f"https://briefkasten.example/u/{token}"
    assert answer["document_types"] == ["kontoauszug"]
    assert answer["qr_png_url"] == f"/api/v1/upload-links/{answer['link_id']}/qr.png"
    status, body = await upload(gateway, token, link_form(png_bytes))  # no case_number needed
    assert status == 202, body
    assert body["receipt"]["case_number"] == "12345BG•••2345"  # masked for link holders
    manifest = json.loads(
        gateway.storage.get_bytes(manifest_key("jc-musterstadt", body["submission_id"]))
    )
    assert manifest["channel"] == "link"
    assert manifest["case_number"] == CASE
    status, body = await upload(gateway, token, link_form(png_bytes, case=CASE))
    assert status == 202, body


async def test_api_keys_still_upload_with_a_case_number(gateway: Gateway, png_bytes: bytes) -> None:
    status, body = await upload(gateway, KEY, link_form(png_bytes, case=OTHER_CASE))
    assert status == 202, body
    status, body = await upload(gateway, KEY, link_form(png_bytes))
    assert status == 400
    assert body["error"]["code"] == "invalid_request"


async def test_qr_codes_and_self(gateway: Gateway) -> None:
    answer = await create(gateway, document_types=["mietvertrag", "lohnabrechnung"])
    png = await gateway.client.get(answer["qr_png_url"], headers=AUTH)
    assert png.status == 200
    assert png.content_type == "image/png"
    data = await png.read()
    assert data.startswith(PNG_MAGIC)
    expected = io.BytesIO()
    segno.make(answer["url"], error="m", micro=False).save(
        expected, kind="png", scale=links.QR_PNG_SCALE, border=4
    )
    assert data == expected.getvalue()  # the QR code encodes exactly the link's URL
    svg = await gateway.client.get(answer["qr_svg_url"], headers=AUTH)
    assert svg.content_type == "image/svg+xml"
    assert b"<svg" in await svg.read()
    described = await gateway.client.get(
        "/api/v1/upload-links/self", headers={"Authorization": f"Bearer {answer['token']}"}
    )
    body = await described.json()
    assert body["document_types"] == ["mietvertrag", "lohnabrechnung"]
    assert body["expires_at"] == answer["expires_at"]
    assert CASE not in json.dumps(body)  # the applicant's own BG-Nummer is not echoed


async def test_api_refuses_bad_requests(gateway: Gateway) -> None:
    for body in [
        {"case_number": "nope"},
        {"case_number": CASE, "document_types": ["kochrezept"]},
        {"case_number": CASE, "document_types": "kontoauszug"},
        {"case_number": CASE, "expires_in_days": "14"},
        {"case_number": CASE, "colour": "blue"},
        [CASE],
    ]:
        response = await gateway.client.post("/api/v1/upload-links", json=body, headers=AUTH)
        assert response.status == 400, body
    response = await gateway.client.post("/api/v1/upload-links", json={"case_number": CASE})
    assert response.status == 401


async def test_tampered_expired_and_revoked_tokens_cannot_upload(
    gateway: Gateway, png_bytes: bytes
) -> None:
    answer = await create(gateway)
    token = answer["token"]
    tampered = token.replace(token[5], "A" if token[5] != "A" else "B", 1)
    status, body = await upload(gateway, tampered, link_form(png_bytes))
    assert status == 401
    assert body["error"]["message_de"]
    _, expired = links.create_link(
        gateway.settings,
        gateway.storage,
        "jc-musterstadt",
        CASE,
        expires_in_days=1,
        now=time.time() - 2 * 86400,
    )
    status, body = await upload(gateway, expired, link_form(png_bytes))
    assert (status, body["error"]["code"]) == (401, "link_expired")
    response = await gateway.client.delete(
        f"/api/v1/upload-links/{answer['link_id']}", headers=AUTH
    )
    assert response.status == 204
    status, body = await upload(gateway, token, link_form(png_bytes))
    assert (status, body["error"]["code"]) == (401, "link_revoked")
    described = await gateway.client.get(
        "/api/v1/upload-links/self", headers={"Authorization": f"Bearer {token}"}
    )
    assert described.status == 401
    qr = await gateway.client.get(answer["qr_png_url"], headers=AUTH)
    assert qr.status == 404
    assert [k for k in gateway.storage.list("") if "/originals/" in k] == []


async def test_another_tenants_link_is_not_found(gateway: Gateway) -> None:
    answer = await create(gateway)
    other = {"Authorization": f"Bearer {OTHER_KEY}"}
    qr = await gateway.client.get(answer["qr_png_url"], headers=other)
    assert qr.status == 404
    deleted = await gateway.client.delete(
        f"/api/v1/upload-links/{answer['link_id']}", headers=other
    )
    assert deleted.status == 404
    assert (await gateway.client.delete("/api/v1/upload-links/..%2Fx", headers=AUTH)).status == 404
    # still valid for its own tenant
    assert (await gateway.client.get(answer["qr_svg_url"], headers=AUTH)).status == 200


async def test_a_link_uploads_only_what_it_asks_for_into_its_own_case(
    gateway: Gateway, png_bytes: bytes
) -> None:
    answer = await create(gateway, document_types=["kontoauszug"])
    token = answer["token"]
    status, body = await upload(gateway, token, link_form(png_bytes, document_type="ausweis"))
    assert status == 400
    assert "not requested" in body["error"]["message_en"]
    status, body = await upload(gateway, token, link_form(png_bytes, case=OTHER_CASE))
    assert status == 400
    assert "does not match" in body["error"]["message_en"]
    assert [k for k in gateway.storage.list("") if "/originals/" in k] == []
    # a link token is no API key: it cannot create links or read submissions
    response = await gateway.client.post(
        "/api/v1/upload-links",
        json={"case_number": OTHER_CASE},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 401


async def test_link_idempotency_keys_do_not_find_other_receipts(
    gateway: Gateway, png_bytes: bytes
) -> None:
    response = await gateway.client.post(
        "/api/v1/submissions",
        data=link_form(png_bytes, case=OTHER_CASE),
        headers={**AUTH, "Idempotency-Key": "abc"},
    )
    assert response.status == 202
    answer = await create(gateway)
    response = await gateway.client.post(
        "/api/v1/submissions",
        data=link_form(png_bytes),
        headers={"Authorization": f"Bearer {answer['token']}", "Idempotency-Key": "abc"},
    )
    body = await response.json()
    assert body["receipt"]["case_number"] == "12345BG•••2345"  # masked for link holders


# --- the CLI -------------------------------------------------------------------------------


def test_a_token_reveals_nothing_about_the_case(settings: Settings, tmp_path: Path) -> None:
    import base64

    settings = with_links(settings, tmp_path)
    storage = open_storage("memory://links-opaque")
    _, token = links.create_link(settings, storage, "jc-musterstadt", CASE, ["mietvertrag"])
    payload = token.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert CASE.encode() not in decoded and b"mietvertrag" not in decoded
    assert CASE not in token

"""The upload gateway over real HTTP (aiohttp test server), with the in-package memory storage.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_gateway.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from tests.support import factories
from tests.support.gateway import GatewayClient
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)

CASE = "12345BG0012345"
KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}

Client = TestClient[Any, Any]


@dataclasses.dataclass
class Gateway:
    client: Client
    storage: Storage
    jobs: MemoryJobQueue
    spool: Path


@pytest.fixture
def png_bytes() -> bytes:
    buffer = io.BytesIO()
    factories.text_page().save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
async def gateway(
    tmp_path: Path,
    settings: Settings,
    gateway_client: GatewayClient,
) -> Gateway:
    spool = tmp_path / "spool"
    settings = dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway, api_keys=f"jc-musterstadt:{KEY}", spool_dir=spool
        ),
        limits=dataclasses.replace(settings.limits, max_file_bytes=2_000_000, max_files=3),
    )
    storage = open_storage(f"memory://{tmp_path.name}")
    jobs = MemoryJobQueue()
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    return Gateway(client, storage, jobs, spool)


def simple_form(*files: tuple[str, bytes], document_type: str = "kontoauszug") -> FormData:
    form = FormData()
    form.add_field("case_number", CASE)
    form.add_field("document_type", document_type)
    for name, data in files:
        form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


def stored_originals(storage: Storage) -> list[str]:
    return [k for k in storage.list("") if "/originals/" in k]


async def test_simple_upload_stores_original_answers_receipt_and_enqueues(
    gateway: Gateway, png_bytes: bytes
) -> None:
    response = await gateway.client.post(
        "/api/v1/submissions", data=simple_form(("Seite 1.png", png_bytes)), headers=AUTH
    )
    assert response.status == 202, await response.text()
    body = await response.json()
    files = body["receipt"]["documents"][0]["files"]
    assert files[0]["sha256"] == hashlib.sha256(png_bytes).hexdigest()
    assert files[0]["size"] == len(png_bytes)
    assert files[0]["media_type"] == "image/png"
    assert files[0]["name"] == "Seite 1.png"
    assert body["status_url"] == f"/api/v1/submissions/{body['submission_id']}"
    originals = stored_originals(gateway.storage)
    assert len(originals) == 1
    assert gateway.storage.get_bytes(originals[0]) == png_bytes
    assert "Seite" not in originals[0]  # server-made names only
    assert [j.submission_id for j in gateway.jobs.jobs] == [body["submission_id"]]
    assert list(gateway.spool.iterdir()) == []
    status = await gateway.client.get(body["status_url"], headers=AUTH)
    assert (await status.json())["status"] == "received"


async def test_one_request_can_carry_several_documents(gateway: Gateway, png_bytes: bytes) -> None:
    pdf = factories.born_digital_pdf(gateway.spool.parent / "b.pdf").read_bytes()
    form = FormData()
    form.add_field("case_number", CASE)
    form.add_field("document_type", "kontoauszug")
    form.add_field("file", png_bytes, filename="a.png")
    form.add_field("file", png_bytes[::-1][::-1], filename="a2.png")
    form.add_field("document_type", "mietvertrag")
    form.add_field("note", "Neuer Vertrag ab März")
    form.add_field("file", pdf, filename="vertrag.pdf")
    response = await gateway.client.post("/api/v1/submissions", data=form, headers=AUTH)
    assert response.status == 202, await response.text()
    documents = (await response.json())["receipt"]["documents"]
    assert [d["document_type"] for d in documents] == ["kontoauszug", "mietvertrag"]
    assert [len(d["files"]) for d in documents] == [2, 1]
    assert documents[0]["files"][1]["duplicate_of"] is not None  # same bytes, same case
    assert len(gateway.jobs.jobs) == 1


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": KEY}, 401)],
)
async def test_without_a_valid_key_nothing_is_stored(
    gateway: Gateway, png_bytes: bytes, headers: dict[str, str], status: int
) -> None:
    response = await gateway.client.post(
        "/api/v1/submissions", data=simple_form(("a.png", png_bytes)), headers=headers
    )
    assert response.status == status
    error = (await response.json())["error"]
    assert error["code"] == "unauthorized" and error["message_de"] and error["message_en"]
    assert gateway.storage.list("") == []


async def refused(gateway: Gateway, form: FormData, status: int, code: str) -> None:
    response = await gateway.client.post("/api/v1/submissions", data=form, headers=AUTH)
    assert response.status == status, await response.text()
    assert (await response.json())["error"]["code"] == code
    assert gateway.storage.list("") == []
    assert gateway.jobs.jobs == []
    assert list(gateway.spool.iterdir()) == []


async def test_disguised_text_file_is_refused(gateway: Gateway) -> None:
    await refused(gateway, simple_form(("foto.jpg", b"kein Bild " * 50)), 415, "unsupported_type")


async def test_truncated_image_is_refused(gateway: Gateway, png_bytes: bytes) -> None:
    form = simple_form(("ok.png", png_bytes), ("cut.png", png_bytes[: len(png_bytes) // 2]))
    await refused(gateway, form, 422, "corrupt_input")


async def test_file_over_the_limit_is_refused_while_streaming(gateway: Gateway) -> None:
    await refused(
        gateway, simple_form(("big.png", b"\x89PNG" + b"0" * 2_100_000)), 413, "limit_exceeded"
    )


async def test_too_many_files(gateway: Gateway, png_bytes: bytes) -> None:
    form = simple_form(*[(f"{i}.png", png_bytes) for i in range(4)])
    await refused(gateway, form, 413, "limit_exceeded")


@pytest.mark.parametrize(
    ("field", "value"),
    [("case_number", "12345-BG-1"), ("document_type", "steuererklaerung")],
)
async def test_bad_form_values_are_refused(
    gateway: Gateway, png_bytes: bytes, field: str, value: str
) -> None:
    form = FormData()
    form.add_field("case_number", value if field == "case_number" else CASE)
    form.add_field("document_type", value if field == "document_type" else "kontoauszug")
    form.add_field("file", png_bytes, filename="a.png")
    await refused(gateway, form, 400, "invalid_request")


async def test_a_document_without_files_is_refused(gateway: Gateway) -> None:
    form = FormData()
    form.add_field("case_number", CASE)
    form.add_field("document_type", "kontoauszug")
    form.add_field("dummy", b"", filename="")  # forces multipart encoding
    await refused(gateway, form, 400, "invalid_request")


async def test_idempotency_key_returns_the_first_submission(
    gateway: Gateway, png_bytes: bytes
) -> None:
    headers = {**AUTH, "Idempotency-Key": "phone-retry-1"}
    first = await gateway.client.post(
        "/api/v1/submissions", data=simple_form(("a.png", png_bytes)), headers=headers
    )
    second = await gateway.client.post(
        "/api/v1/submissions", data=simple_form(("a.png", png_bytes)), headers=headers
    )
    assert first.status == second.status == 202
    assert (await first.json()) == (await second.json())
    assert len(gateway.jobs.jobs) == 1
    assert len(stored_originals(gateway.storage)) == 1


async def test_status_of_unknown_or_foreign_submission_is_404(
    gateway: Gateway, png_bytes: bytes
) -> None:
    response = await gateway.client.get("/api/v1/submissions/" + "0" * 32, headers=AUTH)
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"
    bad = await gateway.client.get("/api/v1/submissions/..%2F..%2Fetc", headers=AUTH)
    assert bad.status in (400, 404)


@pytest.mark.parametrize("malformed", ["g" * 32, "abc", "0" * 31 + "Z"])
async def test_a_malformed_submission_id_is_not_found(gateway: Gateway, malformed: str) -> None:
    """An id that cannot name anything (``MalformedId``) answers 404, as an unknown one does:
    status and receipt PDF alike, without a storage key ever being made from it."""
    for path in (
        f"/api/v1/submissions/{malformed}",
        f"/api/v1/submissions/{malformed}/receipt.pdf",
    ):
        response = await gateway.client.get(path, headers=AUTH)
        assert response.status == 404, path
        assert (await response.json())["error"]["code"] == "not_found"


async def test_unknown_route_is_json_404(gateway: Gateway) -> None:
    response = await gateway.client.get("/nope")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"

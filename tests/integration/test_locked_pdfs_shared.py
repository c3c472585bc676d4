"""Two gateways, one Redis, one object storage: a locked PDF's wrong tries add up over both.

The tus uploads live in the shared object storage (``gateway.tus_store = "storage"``), so a
locked PDF uploaded through gateway A can be unlocked through B; the wrong tries are counted in
the one Redis (``gateway.rate_limit_storage``): three in all, on whichever gateway, discard it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from briefkasten import links
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.storage import open_storage
from tests.support import factories
from tests.support.gateway import Client, GatewayClient

TENANT = "jc-musterstadt"
CASE = "12345BG0012345"
KEY = "test-key-0123456789"
SECRET = "s" * 40
PASSWORD = "Lohn-Mai-2026"


@pytest.fixture
def locked(tmp_path: Path) -> bytes:
    return factories.locked_pdf(tmp_path / "locked.pdf", PASSWORD).read_bytes()


async def upload(client: Client, bearer: dict[str, str], data: bytes) -> str:
    tus = {**bearer, "Tus-Resumable": "1.0.0"}
    created = await client.post("/api/v1/tus/", headers={**tus, "Upload-Length": str(len(data))})
    assert created.status == 201
    location = created.headers["Location"]
    headers = {**tus, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    done = await client.patch(location, data=data, headers=headers)
    assert done.status == 422
    assert (await done.json())["error"]["code"] == "pdf_password_required"
    return location


async def unlock(client: Client, bearer: dict[str, str], location: str, password: str) -> Any:
    response = await client.post(location + "/unlock", json={"password": password}, headers=bearer)
    return response.status, await response.json()


async def test_wrong_tries_add_up_over_both_gateways(
    settings: Settings,
    tmp_path: Path,
    gateway_client: GatewayClient,
    redis_url: str,
    locked: bytes,
) -> None:
    storage = open_storage(f"memory://{tmp_path.name}")
    jobs = MemoryJobQueue()
    own = []
    for name in ("a", "b"):
        gateway = dataclasses.replace(
            settings.gateway,
            api_keys=f"{TENANT}:{KEY}",
            spool_dir=tmp_path / name / "spool",
            rate_limit_storage=redis_url,
            tus_store="storage",
        )
        own.append(
            dataclasses.replace(
                settings, gateway=gateway, links=dataclasses.replace(settings.links, secret=SECRET)
            )
        )
    a = await gateway_client(own[0], storage=storage, jobs=jobs)
    b = await gateway_client(own[1], storage=storage, jobs=jobs)
    _, token = links.create_link(own[0], storage, TENANT, CASE)
    bearer = {"Authorization": f"Bearer {token}"}

    first = await upload(a, bearer, locked)
    assert (await unlock(a, bearer, first, "falsch-1"))[1]["error"]["code"] == "pdf_password_wrong"
    assert (await unlock(b, bearer, first, "falsch-2"))[1]["error"]["code"] == "pdf_password_wrong"
    status, body = await unlock(a, bearer, first, "falsch-3")
    assert (status, body["error"]["code"]) == (422, "pdf_password_attempts_exceeded")
    assert (await unlock(b, bearer, first, PASSWORD))[0] == 404  # gone for both

    second = await upload(b, bearer, locked)
    assert (await unlock(a, bearer, second, "falsch-1"))[0] == 422
    assert (await unlock(b, bearer, second, "falsch-2"))[0] == 422
    status, body = await unlock(a, bearer, second, PASSWORD)
    assert status == 200 and body["pages"] == 1
    upload_id = second.rsplit("/", 1)[-1]
    sent = await b.post(  # sent through the other gateway: it fetches both copies
        "/api/v1/submissions",
        json={"documents": [{"document_type": "lohnabrechnung", "uploads": [upload_id]}]},
        headers=bearer,
    )
    assert sent.status == 202, await sent.text()
    keys = storage.list("")
    assert sum(k.endswith(".decrypted.pdf") for k in keys) == 1
    assert not [k for k in keys if k.startswith("_tus/")]
    assert all(PASSWORD.encode() not in storage.get_bytes(k) for k in keys)

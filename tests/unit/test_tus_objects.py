"""tus uploads in the shared object storage (``gateway.tus_store = "storage"``): two gateways
with their own spools and one storage answer for every upload, whichever received its bytes.

Here on the in-memory storage; ``tests/integration/test_tus_s3.py`` runs them on SeaweedFS."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from tusclient import client as tus_client

from briefkasten import links
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.errors import ConfigError, NotFound, StorageError
from briefkasten.gateway import tus
from briefkasten.gateway.keys import TUS_STORE
from briefkasten.gateway.tus_objects import ObjectTusStore, longest_run
from briefkasten.storage import layout, open_storage
from briefkasten.storage.base import Storage
from tests.support.env import wait_for_async
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)
from tests.unit.test_tus import (
    CASE,
    CHUNK,
    KEY,
    OCTETS,
    OTHER_KEY,
    PHOTO,
    SAMPLE,
    SECRET,
    ServeLikeServer,
    Tus,
    blocking,
    create,
    offset_of,
    patch,
    sha256,
    upload_id,
)

Client = TestClient[Any, Any]


@dataclasses.dataclass
class Pair:
    """Two gateways behind one imagined load balancer: same storage, separate spools."""

    a: Tus
    b: Tus
    storage: Storage

    def objects(self) -> list[str]:
        return self.storage.list(layout.TUS_PREFIX)


@pytest.fixture
def tus_storage(tmp_path: Path) -> Storage:
    """The storage both gateways share (tests/integration/test_tus_s3.py: a real S3)."""
    return open_storage(f"memory://{tmp_path.name}")


@pytest.fixture
async def pair(
    tmp_path: Path,
    settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    tus_storage: Storage,
) -> Pair:
    storage = tus_storage
    base = dataclasses.replace(
        settings,
        limits=dataclasses.replace(settings.limits, max_file_bytes=2_000_000),
        links=dataclasses.replace(settings.links, secret=SECRET),
    )
    link, token = links.create_link(base, storage, "jc-musterstadt", CASE)
    gateways = []
    for name in ("a", "b"):
        configured = dataclasses.replace(
            base,
            gateway=dataclasses.replace(
                base.gateway,
                api_keys=f"jc-musterstadt:{KEY},jc-anderswo:{OTHER_KEY}",
                spool_dir=tmp_path / f"spool-{name}",
                tus_store="storage",
                tus_quota_per_owner_bytes=3_000_000,
            ),
        )
        app = create_app_for(configured, storage)
        client = await aiohttp_client(ServeLikeServer(app))
        staging = tmp_path / f"spool-{name}" / "tus-staging"
        gateways.append(
            Tus(client, app[TUS_STORE], token, f"jc-musterstadt/{link.link_id}", staging)
        )
    return Pair(gateways[0], gateways[1], storage)


def create_app_for(settings: Settings, storage: Storage) -> Any:
    from tests.support.gateway import gateway_app

    return gateway_app(settings, storage=storage, jobs=MemoryJobQueue())


def store(gateway: Tus) -> ObjectTusStore:
    assert isinstance(gateway.store, ObjectTusStore)
    return gateway.store


# --- the run of parts -----------------------------------------------------------------------


def test_the_longest_run_of_parts_from_zero_is_the_offset() -> None:
    assert longest_run([]) == []
    assert longest_run([(5, 9, "late")]) == []  # nothing from byte 0
    assert longest_run([(0, 4, "a"), (4, 9, "b"), (12, 20, "gap")]) == [(0, 4, "a"), (4, 9, "b")]
    # Two gateways wrote from 0 at once; then one went on from its own end.
    parts = [(0, 10, "x"), (0, 20, "y"), (10, 30, "z"), (20, 25, "w"), (7, 7, "empty")]
    assert longest_run(parts) == [(0, 10, "x"), (10, 30, "z")]


def test_tus_store_setting_is_checked(settings: Settings) -> None:
    from briefkasten.config.checks import check

    wrong = dataclasses.replace(
        settings, gateway=dataclasses.replace(settings.gateway, tus_store="redis")
    )
    with pytest.raises(ConfigError, match="tus_store"):
        check(wrong)


# --- any gateway answers for any upload -----------------------------------------------------


async def test_an_upload_made_on_one_gateway_is_read_and_assembled_on_the_other(
    pair: Pair,
) -> None:
    data = SAMPLE.read_bytes()
    client = tus_client.TusClient(
        pair.a.endpoint, headers={"Authorization": f"Bearer {pair.a.token}"}
    )
    uploader = client.uploader(
        file_path=str(SAMPLE), chunk_size=CHUNK, metadata={"filename": "s.png"}
    )
    await blocking(uploader.upload)
    location = str(uploader.url).removeprefix(str(pair.a.client.make_url("")))
    assert await offset_of(pair.b, location) == len(data)

    keys = pair.objects()
    parts = [k for k in keys if "/part-" in k]
    assert len(parts) == -(-len(data) // CHUNK)  # one part per PATCH
    assert sum(1 for k in keys if "/info-" in k) == sum(1 for k in keys if "/complete-" in k) == 1
    assert not [p for p in pair.a.spool.iterdir() if p.suffix == ".part"]  # chunks stored

    incoming = pair.b.store.completed(pair.b.owner, upload_id(location))  # assembled on b
    assert incoming.path.read_bytes() == data
    assert (incoming.sha256, incoming.media_type, incoming.name) == (
        sha256(data),
        "image/png",
        "s.png",
    )
    assert incoming.path.parent == pair.b.spool


async def test_a_cut_upload_resumes_through_the_other_gateway(pair: Pair) -> None:
    data = PHOTO.read_bytes()
    location = await create(pair.a, len(data))
    server = pair.a.client.server
    _reader, writer = await asyncio.open_connection(server.host, server.port)
    head = (
        f"PATCH {location} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        f"Authorization: Bearer {pair.a.token}\r\nTus-Resumable: 1.0.0\r\n"
        f"Content-Type: {OCTETS}\r\nUpload-Offset: 0\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    writer.write(head.encode() + data[:150_000])
    await writer.drain()
    chunk = pair.a.spool / f"{upload_id(location)}.0.part"
    await wait_for_async(lambda: chunk.exists() and chunk.stat().st_size > 0, "a chunk on a", 10)
    writer.close()  # the phone loses its connection
    await writer.wait_closed()

    async def kept() -> bool:
        return await offset_of(pair.b, location) > 0

    await wait_for_async(kept, "the kept bytes visible on b", 10, poll=0.05)
    client = tus_client.TusClient(
        pair.b.endpoint, headers={"Authorization": f"Bearer {pair.b.token}"}
    )
    url = str(pair.b.client.make_url(location))
    uploader = await blocking(
        client.uploader, file_path=str(PHOTO), url=url, chunk_size=CHUNK, upload_checksum=True
    )
    assert 0 < uploader.offset <= 150_000  # resumed where a's part ends
    await blocking(uploader.upload)
    incoming = pair.a.store.completed(pair.a.owner, upload_id(location))
    assert incoming.sha256 == sha256(data)
    assert not chunk.exists()


async def test_two_gateways_writing_the_same_offset_at_once_give_one_right_file(
    pair: Pair,
) -> None:
    data = SAMPLE.read_bytes()
    location = await create(pair.a, len(data))
    answers = await asyncio.gather(
        patch(pair.a, location, 0, data[:40_000]), patch(pair.b, location, 0, data)
    )
    statuses = [status for status, _ in answers]
    # Both took the offset as 0 (both 204), or one came first and the other was told the
    # offset moved (409); after the short one, the long one resumes, as a tus client does.
    assert statuses in ([204, 204], [204, 409], [409, 204]), statuses
    if statuses[1] == 409:
        assert await offset_of(pair.b, location) == 40_000
        assert await patch(pair.b, location, 40_000, data[40_000:]) == (204, None)
    assert await offset_of(pair.a, location) == len(data)
    incoming = pair.a.store.completed(pair.a.owner, upload_id(location))
    assert incoming.sha256 == sha256(data)


async def test_a_submission_on_the_other_gateway_uses_the_upload_up(pair: Pair) -> None:
    data = SAMPLE.read_bytes()
    location = await create(
        pair.a, len(data), **{"Upload-Metadata": "filename " + base64.b64encode(b"x.png").decode()}
    )
    assert await patch(pair.a, location, 0, data) == (204, None)
    response = await pair.b.client.post(
        "/api/v1/submissions",
        json={"documents": [{"document_type": "kontoauszug", "uploads": [upload_id(location)]}]},
        headers={"Authorization": f"Bearer {pair.b.token}"},
    )
    assert response.status == 202, await response.text()
    receipt = await response.json()
    assert receipt["receipt"]["documents"][0]["files"][0]["sha256"] == sha256(data)
    assert pair.objects() == []  # the upload is used up, on every gateway
    assert not list(pair.b.spool.iterdir())
    assert (await pair.a.client.head(location, headers=pair.a.headers())).status == 404


# --- termination, expiry, ownership, checksums, tampering, quotas ---------------------------


async def test_termination_on_one_gateway_removes_every_object(pair: Pair) -> None:
    data = SAMPLE.read_bytes()
    location = await create(pair.a, len(data))
    assert await patch(pair.a, location, 0, data[:5000]) == (204, None)
    assert len(pair.objects()) == 2
    response = await pair.b.client.delete(location, headers=pair.b.headers())
    assert response.status == 204
    assert pair.objects() == []
    assert (await pair.a.client.head(location, headers=pair.a.headers())).status == 404


async def test_expiry_removes_objects_and_stray_staging_files(pair: Pair) -> None:
    data = SAMPLE.read_bytes()
    old = await create(pair.a, len(data))
    assert await patch(pair.a, old, 0, data) == (204, None)
    pair.a.store.completed(pair.a.owner, upload_id(old))  # assembled in a's staging
    assert (pair.a.spool / f"{upload_id(old)}.bin").exists()
    later = time.time() + store(pair.b).expiry_s + 60
    assert store(pair.b).expire(now=later) == 1
    assert pair.objects() == []
    assert store(pair.a).expire(now=later) == 0  # nothing left to delete in storage
    assert not (pair.a.spool / f"{upload_id(old)}.bin").exists()  # its copy on a is swept


async def test_an_upload_that_is_not_expired_stays(pair: Pair) -> None:
    location = await create(pair.a, 100)
    assert store(pair.b).expire() == 0
    assert await offset_of(pair.b, location) == 0


async def test_someone_elses_upload_is_not_found_on_either_gateway(pair: Pair) -> None:
    location = await create(pair.a, 100)
    for gateway in (pair.a, pair.b):
        response = await gateway.client.head(location, headers=gateway.headers(OTHER_KEY))
        assert response.status == 404
    with pytest.raises(NotFound):
        pair.b.store.get("jc-anderswo/api", upload_id(location))


async def test_a_checksum_mismatch_stores_no_part(pair: Pair) -> None:
    location = await create(pair.a, 100)
    wrong = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    status, _ = await patch(pair.b, location, 0, b"y" * 50, **{"Upload-Checksum": f"sha1 {wrong}"})
    assert status == 460
    assert [k for k in pair.objects() if "/part-" in k] == []
    assert not [p for p in pair.b.spool.iterdir() if p.suffix == ".part"]
    assert await offset_of(pair.a, location) == 0


async def test_a_part_changed_in_storage_is_detected_when_assembling(pair: Pair) -> None:
    data = SAMPLE.read_bytes()
    location = await create(pair.a, len(data))
    assert await patch(pair.a, location, 0, data) == (204, None)
    (part,) = [k for k in pair.objects() if "/part-" in k]
    pair.storage.put_bytes(part, b"\0" + data[1:], content_type="application/octet-stream")
    with pytest.raises(StorageError, match="do not match"):
        pair.b.store.completed(pair.b.owner, upload_id(location))
    assert not (pair.b.spool / f"{upload_id(location)}.bin").exists()


async def test_the_owners_quota_counts_uploads_made_on_both_gateways(pair: Pair) -> None:
    await create(pair.a, 1_800_000)
    response = await pair.b.client.post(
        tus.PREFIX, headers=pair.b.headers(**{"Upload-Length": "1500000"})
    )
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "quota_exceeded"
    await create(pair.b, 1_000_000)

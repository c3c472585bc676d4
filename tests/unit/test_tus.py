"""tus 1.0.0 resumable uploads: the real tuspy client against a real gateway on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import io
import stat
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_runner import BaseRunner
from tusclient import client as tus_client

from briefkasten import links
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.errors import InvalidRequest, NotFound
from briefkasten.gateway import tus
from briefkasten.gateway.keys import SETTINGS, STORAGE, TUS_STORE
from briefkasten.gateway.tus_store import TusStore
from briefkasten.storage import open_storage
from tests.support.env import wait_for_async
from tests.support.gateway import gateway_app
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)

CASE = "12345BG0012345"
KEY = "test-key-0123456789"
OTHER_KEY = "other-key-0123456789"
SECRET = "s" * 40
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "set" / "brief-scan.png"
PHOTO = Path(__file__).resolve().parents[2] / "samples" / "set" / "mietvertrag-photo.jpg"
CHUNK = 64 * 1024
TIMEOUT = 60.0
OCTETS = "application/offset+octet-stream"

Client = TestClient[Any, Any]
T = TypeVar("T")


@dataclasses.dataclass
class Tus:
    client: Client
    store: TusStore
    token: str
    owner: str
    spool: Path

    @property
    def endpoint(self) -> str:
        return str(self.client.make_url(tus.PREFIX))

    def headers(self, token: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token or self.token}",
            "Tus-Resumable": "1.0.0",
            **extra,
        }


GatewayFactory = Callable[..., Awaitable[Tus]]


class ServeLikeServer(TestServer):
    """Like ``briefkasten serve`` (``web.run_app``): handlers are not cancelled when a client
    hangs up, they see the cut as a read error instead (the test server cancels them)."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        kwargs["handler_cancellation"] = False
        return await super()._make_runner(**kwargs)


@pytest.fixture
def make_gateway(
    tmp_path: Path, settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]]
) -> GatewayFactory:
    async def make(*, serve_like: bool = False, **gateway: Any) -> Tus:
        configured = dataclasses.replace(
            settings,
            gateway=dataclasses.replace(
                settings.gateway,
                api_keys=f"jc-musterstadt:{KEY},jc-anderswo:{OTHER_KEY}",
                spool_dir=tmp_path / "spool",
                **gateway,
            ),
            limits=dataclasses.replace(settings.limits, max_file_bytes=2_000_000),
            links=dataclasses.replace(settings.links, secret=SECRET),
        )
        storage = open_storage(f"memory://{tmp_path.name}")
        link, token = links.create_link(configured, storage, "jc-musterstadt", CASE)
        app = gateway_app(configured, storage=storage, jobs=MemoryJobQueue())
        client = await aiohttp_client(ServeLikeServer(app) if serve_like else app)
        owner = f"jc-musterstadt/{link.link_id}"
        return Tus(client, app[TUS_STORE], token, owner, tmp_path / "spool" / "tus")

    return make


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Tus:
    return await make_gateway()


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """tuspy is blocking: run it in a thread, bounded."""
    loop = asyncio.get_running_loop()
    return await asyncio.wait_for(loop.run_in_executor(None, lambda: fn(*args, **kwargs)), TIMEOUT)


async def create(gateway: Tus, length: int, **headers: str) -> str:
    response = await gateway.client.post(
        tus.PREFIX, headers=gateway.headers(**{"Upload-Length": str(length), **headers})
    )
    assert response.status == 201, await response.text()
    location = response.headers["Location"]
    assert location.startswith(tus.PREFIX)
    return location


async def offset_of(gateway: Tus, location: str) -> int:
    response = await gateway.client.head(location, headers=gateway.headers())
    assert response.status == 200
    return int(response.headers["Upload-Offset"])


async def patch(
    gateway: Tus, location: str, offset: int, body: bytes, **headers: str
) -> tuple[int, dict[str, Any] | None]:
    response = await gateway.client.patch(
        location,
        data=body,
        headers=gateway.headers(
            **{"Upload-Offset": str(offset), "Content-Type": OCTETS, **headers}
        ),
    )
    assert response.headers["Tus-Resumable"] == "1.0.0"
    if response.status == 204:
        return 204, None
    return response.status, await response.json()


async def cut_patch(
    gateway: Tus,
    location: str,
    offset: int,
    body: bytes,
    declared: int,
    *,
    keep_open: bool = False,
    **headers: str,
) -> asyncio.StreamWriter:
    """A PATCH that announces ``declared`` bytes, sends ``body`` and (unless told) hangs up.

    It hangs up only once the server has written ``body`` (but for what its file buffer may
    hold): bytes still queued in the server's socket buffer when the connection dies are lost.
    """
    server = gateway.client.server
    _reader, writer = await asyncio.wait_for(
        asyncio.open_connection(server.host, server.port), TIMEOUT
    )
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = (
        f"PATCH {location} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        f"Authorization: Bearer {gateway.token}\r\nTus-Resumable: 1.0.0\r\n"
        f"Content-Type: {OCTETS}\r\nUpload-Offset: {offset}\r\n{extra}"
        f"Content-Length: {declared}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    data_file = gateway.spool / f"{upload_id(location)}.bin"
    await wait_for_async(
        lambda: data_file.stat().st_size >= offset + len(body) - io.DEFAULT_BUFFER_SIZE,
        "the chunk's bytes in the spool",
        10,
    )
    if not keep_open:
        writer.close()
        await writer.wait_closed()
    return writer


async def wait_for_offset(gateway: Tus, location: str, expected: int) -> None:
    async def reached() -> bool:
        return await offset_of(gateway, location) == expected

    await wait_for_async(reached, f"the upload's offset to be {expected}", 10, poll=0.05)


def leftovers(gateway: Tus) -> list[Path]:
    """What is left in the tus spool (made on the first upload)."""
    return sorted(gateway.spool.iterdir()) if gateway.spool.exists() else []


def upload_id(location: str) -> str:
    return location.rsplit("/", 1)[-1]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- discovery and protocol headers ---------------------------------------------------------


async def test_options_advertises_version_extensions_and_limits(gateway: Tus) -> None:
    response = await gateway.client.options(tus.PREFIX)  # no auth, no Tus-Resumable needed
    assert response.status == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Extension"] == "creation,termination,expiration,checksum"
    assert response.headers["Tus-Checksum-Algorithm"] == "sha1,sha256,md5"
    assert response.headers["Tus-Max-Size"] == "2000000"


async def test_missing_or_wrong_version_is_412_and_no_token_is_401(gateway: Tus) -> None:
    for version in (None, "0.2.2"):
        headers = gateway.headers(**{"Upload-Length": "10"})
        if version is None:
            del headers["Tus-Resumable"]
        else:
            headers["Tus-Resumable"] = version
        response = await gateway.client.post(tus.PREFIX, headers=headers)
        assert response.status == 412
        assert response.headers["Tus-Version"] == "1.0.0"
        assert response.headers["Tus-Resumable"] == "1.0.0"
        assert (await response.json())["error"]["code"] == "tus_version_unsupported"
    response = await gateway.client.post(
        tus.PREFIX, headers={"Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    )
    assert response.status == 401
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert (await response.json())["error"]["message_de"]


# --- the happy path with the real client ----------------------------------------------------


async def test_tuspy_uploads_a_sample_in_chunks(gateway: Tus) -> None:
    data = SAMPLE.read_bytes()
    assert len(data) > 3 * CHUNK
    client = tus_client.TusClient(
        gateway.endpoint, headers={"Authorization": f"Bearer {gateway.token}"}
    )
    uploader = client.uploader(
        file_path=str(SAMPLE), chunk_size=CHUNK, metadata={"filename": "../Brief Scan.png"}
    )
    await blocking(uploader.upload)
    location = str(uploader.url).removeprefix(str(gateway.client.make_url("")))
    response = await gateway.client.head(location, headers=gateway.headers())
    assert response.status == 200
    assert response.headers["Upload-Offset"] == response.headers["Upload-Length"] == str(len(data))
    assert response.headers["Cache-Control"] == "no-store"
    expires = parsedate_to_datetime(response.headers["Upload-Expires"]).timestamp()
    assert time.time() + 86_400 - 120 < expires < time.time() + 86_400 + 5
    name, _, encoded = response.headers["Upload-Metadata"].partition(" ")
    assert (name, base64.b64decode(encoded)) == ("filename", b"../Brief Scan.png")

    incoming = gateway.store.completed(gateway.owner, upload_id(location))
    assert incoming.sha256 == sha256(data)
    assert incoming.size == len(data)
    assert (incoming.media_type, incoming.pages) == ("image/png", 1)
    assert incoming.name == "Brief Scan.png"
    assert incoming.path.read_bytes() == data
    assert stat.S_IMODE(gateway.spool.stat().st_mode) == 0o700
    for path in gateway.spool.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("serve_like", [False, True], ids=["cancelled", "read-error"])
async def test_cut_connection_keeps_bytes_and_tuspy_resumes(
    make_gateway: GatewayFactory, serve_like: bool
) -> None:
    gateway = await make_gateway(serve_like=serve_like)
    data = PHOTO.read_bytes()
    location = await create(gateway, len(data))
    await cut_patch(gateway, location, 0, data[:100_000], declared=300_000)
    await wait_for_offset(gateway, location, 100_000)  # what arrived is kept

    client = tus_client.TusClient(
        gateway.endpoint, headers={"Authorization": f"Bearer {gateway.token}"}
    )
    url = str(gateway.client.make_url(location))
    uploader = await blocking(
        client.uploader, file_path=str(PHOTO), url=url, chunk_size=CHUNK, upload_checksum=True
    )
    assert uploader.offset == 100_000  # resumed from the server's offset
    await blocking(uploader.upload)
    incoming = gateway.store.completed(gateway.owner, upload_id(location))
    assert incoming.sha256 == sha256(data)
    assert incoming.media_type == "image/jpeg"


async def test_cut_chunk_with_checksum_is_discarded(gateway: Tus) -> None:
    data = PHOTO.read_bytes()
    location = await create(gateway, len(data))
    assert await patch(gateway, location, 0, data[:1000]) == (204, None)
    part = data[1000:201_000]
    digest = base64.b64encode(hashlib.sha256(part).digest()).decode()
    headers = {"Upload-Checksum": f"sha256 {digest}"}
    await cut_patch(gateway, location, 1000, part[:100_000], len(part), **headers)
    data_file = gateway.spool / f"{upload_id(location)}.bin"
    await wait_for_async(
        lambda: data_file.stat().st_size == 1000, "1000 bytes kept", 10
    )  # the partial chunk is gone
    assert await offset_of(gateway, location) == 1000


async def test_bytes_beyond_the_recorded_offset_are_overwritten(gateway: Tus) -> None:
    """A writer that died after writing but before recording leaves stray bytes behind."""
    data = SAMPLE.read_bytes()
    location = await create(gateway, len(data))
    assert await patch(gateway, location, 0, data[:5000]) == (204, None)
    with (gateway.spool / f"{upload_id(location)}.bin").open("ab") as handle:
        handle.write(b"garbage" * 100)
    assert await patch(gateway, location, 5000, data[5000:]) == (204, None)
    assert gateway.store.completed(gateway.owner, upload_id(location)).sha256 == sha256(data)


# --- checksums, offsets, lengths ------------------------------------------------------------


async def test_checksums_are_checked(gateway: Tus) -> None:
    data = SAMPLE.read_bytes()
    location = await create(gateway, len(data))
    part = data[:4096]
    md5 = base64.b64encode(hashlib.md5(part).digest()).decode()
    assert await patch(gateway, location, 0, part, **{"Upload-Checksum": f"md5 {md5}"}) == (
        204,
        None,
    )
    wrong = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    status, body = await patch(
        gateway, location, 4096, data[4096:8192], **{"Upload-Checksum": f"sha1 {wrong}"}
    )
    assert status == 460
    assert body is not None and body["error"]["code"] == "checksum_mismatch"
    assert body["error"]["message_de"]
    assert await offset_of(gateway, location) == 4096  # the chunk was discarded
    for header in ("crc32 AAAA", "sha256 not*base64"):
        status, body = await patch(gateway, location, 4096, b"x", **{"Upload-Checksum": header})
        assert status == 400


async def test_checksum_mismatch_has_its_reason_phrase(gateway: Tus) -> None:
    location = await create(gateway, 100)
    wrong = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    response = await gateway.client.patch(
        location,
        data=b"x" * 10,
        headers=gateway.headers(
            **{"Upload-Offset": "0", "Content-Type": OCTETS, "Upload-Checksum": f"sha1 {wrong}"}
        ),
    )
    assert (response.status, response.reason) == (460, "Checksum Mismatch")


async def test_post_with_method_override_is_patch_or_delete(gateway: Tus) -> None:
    """tus 1.0.0: a server MUST read X-HTTP-Method-Override (proxies that drop PATCH)."""
    data = SAMPLE.read_bytes()
    location = await create(gateway, len(data))
    response = await gateway.client.post(
        location,
        data=data[:1000],
        headers=gateway.headers(
            **{
                "X-HTTP-Method-Override": "PATCH",
                "Upload-Offset": "0",
                "Content-Type": OCTETS,
            }
        ),
    )
    assert response.status == 204, await response.text()
    assert response.headers["Upload-Offset"] == "1000"
    assert await offset_of(gateway, location) == 1000
    response = await gateway.client.post(
        location, headers=gateway.headers(**{"X-HTTP-Method-Override": "HEAD"})
    )
    assert (response.status, response.headers["Upload-Offset"]) == (200, "1000")
    for wrong in ("GET", "", "POST"):
        response = await gateway.client.post(
            location, headers=gateway.headers(**{"X-HTTP-Method-Override": wrong})
        )
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_request"
    response = await gateway.client.post(
        location, headers=gateway.headers(**{"X-HTTP-Method-Override": "delete"})
    )
    assert response.status == 204
    response = await gateway.client.head(location, headers=gateway.headers())
    assert response.status == 404


async def test_wrong_offset_is_409(gateway: Tus) -> None:
    data = SAMPLE.read_bytes()
    location = await create(gateway, len(data))
    assert await patch(gateway, location, 0, data[:100]) == (204, None)
    for offset in (0, 50, 200):
        status, body = await patch(gateway, location, offset, data[offset : offset + 10])
        assert status == 409
        assert body is not None and body["error"]["code"] == "offset_mismatch"
    assert await offset_of(gateway, location) == 100


async def test_bad_patch_requests(gateway: Tus) -> None:
    location = await create(gateway, 100)
    response = await gateway.client.patch(
        location,
        data=b"x",
        headers=gateway.headers(**{"Upload-Offset": "0", "Content-Type": "text/plain"}),
    )
    assert response.status == 415
    status, _ = await patch(gateway, location, 0, b"x", **{"Upload-Offset": "-1"})
    assert status == 400


async def test_over_length_is_413_and_nothing_is_written(gateway: Tus) -> None:
    response = await gateway.client.post(
        tus.PREFIX, headers=gateway.headers(**{"Upload-Length": "2000001"})
    )
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "limit_exceeded"
    location = await create(gateway, 1000)
    status, body = await patch(gateway, location, 0, b"\x89PNG" + b"x" * 1500)
    assert status == 413
    assert body is not None and body["error"]["code"] == "limit_exceeded"

    async def chunked() -> Any:  # no Content-Length: caught while streaming
        for _ in range(3):
            yield b"y" * 600

    response = await gateway.client.patch(
        location,
        data=chunked(),
        headers=gateway.headers(**{"Upload-Offset": "0", "Content-Type": OCTETS}),
    )
    assert response.status == 413
    assert await offset_of(gateway, location) == 0
    assert (gateway.spool / f"{upload_id(location)}.bin").stat().st_size == 0


async def test_bad_creation_requests(gateway: Tus) -> None:
    cases: list[tuple[dict[str, str], int]] = [
        ({}, 400),
        ({"Upload-Length": "abc"}, 400),
        ({"Upload-Length": "0"}, 422),
        ({"Upload-Defer-Length": "1"}, 400),
        ({"Upload-Length": "10", "Upload-Metadata": "filename not-base64!"}, 400),
        ({"Upload-Length": "10", "Upload-Metadata": "a YQ==,a YQ=="}, 400),
    ]
    for headers, status in cases:
        response = await gateway.client.post(tus.PREFIX, headers=gateway.headers(**headers))
        assert response.status == status, headers
        assert "error" in await response.json()
    assert leftovers(gateway) == []


# --- checking the finished file -------------------------------------------------------------


async def test_rejected_file_type_is_415_and_removed(gateway: Tus) -> None:
    text = b"Sehr geehrte Damen und Herren,\n" * 200
    location = await create(gateway, len(text))
    assert await patch(gateway, location, 0, text[:3000]) == (204, None)
    status, body = await patch(gateway, location, 3000, text[3000:])
    assert status == 415
    assert body is not None and body["error"]["code"] == "unsupported_type"
    assert "Foto" in body["error"]["message_de"]
    response = await gateway.client.head(location, headers=gateway.headers())
    assert response.status == 404
    assert leftovers(gateway) == []


async def test_incomplete_upload_is_not_completed(gateway: Tus) -> None:
    location = await create(gateway, 100)
    with pytest.raises(InvalidRequest):
        gateway.store.completed(gateway.owner, upload_id(location))


# --- termination, owners, expiry ------------------------------------------------------------


async def test_termination(gateway: Tus) -> None:
    data = SAMPLE.read_bytes()
    location = await create(gateway, len(data))
    assert await patch(gateway, location, 0, data[:1000]) == (204, None)
    response = await gateway.client.delete(location, headers=gateway.headers())
    assert response.status == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    for method in ("HEAD", "DELETE"):
        response = await gateway.client.request(method, location, headers=gateway.headers())
        assert response.status == 404
    status, _ = await patch(gateway, location, 1000, data[1000:2000])
    assert status == 404
    assert leftovers(gateway) == []


async def test_another_owner_gets_404(gateway: Tus) -> None:
    location = await create(gateway, 100)
    app = gateway.client.server.app
    _, other_link = links.create_link(app[SETTINGS], app[STORAGE], "jc-musterstadt", CASE)
    for token in (KEY, OTHER_KEY, other_link):  # same tenant's API, other tenant, other link
        headers = gateway.headers(token)
        response = await gateway.client.head(location, headers=headers)
        assert response.status == 404
        response = await gateway.client.patch(
            location,
            data=b"x",
            headers={**headers, "Upload-Offset": "0", "Content-Type": OCTETS},
        )
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"
        response = await gateway.client.delete(location, headers=headers)
        assert response.status == 404
    assert await offset_of(gateway, location) == 0
    for bad in ("../../etc/passwd", "0" * 31, "A" * 32):
        response = await gateway.client.head(tus.PREFIX + bad, headers=gateway.headers())
        assert response.status == 404


async def test_api_key_clients_own_their_uploads(gateway: Tus) -> None:
    response = await gateway.client.post(
        tus.PREFIX, headers=gateway.headers(KEY, **{"Upload-Length": "5"})
    )
    assert response.status == 201
    location = response.headers["Location"]
    assert gateway.store.get("jc-musterstadt/api", upload_id(location)).length == 5
    response = await gateway.client.head(location, headers=gateway.headers())  # the link's token
    assert response.status == 404


async def test_expired_uploads_answer_404_and_are_deleted(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(tus_expiry_s=0.5, tus_cleanup_interval_s=0.0)
    location = await create(gateway, 100)
    response = await gateway.client.head(location, headers=gateway.headers())
    expires = parsedate_to_datetime(response.headers["Upload-Expires"]).timestamp()
    assert expires <= time.time() + 1
    await asyncio.sleep(0.6)
    response = await gateway.client.head(location, headers=gateway.headers())
    assert response.status == 404
    status, _ = await patch(gateway, location, 0, b"x")
    assert status == 404
    assert len(leftovers(gateway)) == 2  # still there until expire() runs
    assert gateway.store.expire() == 1
    assert leftovers(gateway) == []


async def test_the_background_task_deletes_expired_uploads(make_gateway: GatewayFactory) -> None:
    gateway = await make_gateway(tus_expiry_s=0.2, tus_cleanup_interval_s=0.1)
    await create(gateway, 100)
    await wait_for_async(
        lambda: not leftovers(gateway), "the expired upload to be deleted", 10, poll=0.1
    )


# --- concurrency ----------------------------------------------------------------------------


async def test_second_patch_waits_then_409_and_first_keeps_its_bytes(
    gateway: Tus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tus, "LOCK_WAIT_S", 0.3)
    data = PHOTO.read_bytes()
    location = await create(gateway, len(data))
    writer = await cut_patch(gateway, location, 0, data[:50_000], 100_000, keep_open=True)
    await asyncio.sleep(0.2)  # the first PATCH holds the lock, waiting for more bytes
    started = time.monotonic()
    status, body = await patch(gateway, location, 0, data[:10])
    assert status == 409
    assert body is not None and body["error"]["code"] == "offset_mismatch"
    assert time.monotonic() - started >= 0.25
    writer.close()
    await writer.wait_closed()
    await wait_for_offset(gateway, location, 50_000)
    assert await patch(gateway, location, 50_000, data[50_000:]) == (204, None)
    assert gateway.store.completed(gateway.owner, upload_id(location)).sha256 == sha256(data)


async def test_stalled_connection_counts_as_cut(
    gateway: Tus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tus, "READ_TIMEOUT_S", 0.3)
    data = PHOTO.read_bytes()
    location = await create(gateway, len(data))
    writer = await cut_patch(gateway, location, 0, data[:20_000], 100_000, keep_open=True)
    try:
        await wait_for_offset(gateway, location, 20_000)  # no hang-up needed
        assert await patch(gateway, location, 20_000, data[20_000:]) == (204, None)
    finally:
        writer.close()


# --- the store on its own -------------------------------------------------------------------


def test_store_checks_ids_owners_and_cleans_strays(tmp_path: Path) -> None:
    store = TusStore(tmp_path / "tus", expiry_s=100.0, max_bytes=1000)
    upload = store.create("t/a", 10, {"filename": "x\x00y.png"})
    assert upload.name == "xy.png"
    for bad in ("../x", "", "g" * 32, upload.upload_id.upper()):
        with pytest.raises(NotFound):
            store.get("t/a", bad)
    with pytest.raises(NotFound):
        store.get("t/b", upload.upload_id)
    with pytest.raises(NotFound):
        store.delete("t/b", upload.upload_id)
    stray = tmp_path / "tus" / f"{'0' * 32}.bin"
    stray.write_bytes(b"orphan")
    for name in (f".{upload.upload_id}.json.abcd1234.tmp", f"{upload.upload_id}.abcd1234.tmp"):
        (tmp_path / "tus" / name).write_text("{")  # a crash mid-write (today's and older names)
    assert store.expire(now=time.time() + 50) == 0
    assert store.expire(now=time.time() + 4000) == 2  # the upload and the orphan
    assert list((tmp_path / "tus").iterdir()) == []


def test_delete_tolerates_an_adopted_data_file(tmp_path: Path) -> None:
    store = TusStore(tmp_path / "tus", expiry_s=100.0, max_bytes=1000)
    upload = store.create("t/a", 10, {})
    upload.path.rename(tmp_path / "adopted.bin")  # what Intake does with a finished file
    store.delete("t/a", upload.upload_id)
    assert list((tmp_path / "tus").iterdir()) == []
    assert (tmp_path / "adopted.bin").exists()

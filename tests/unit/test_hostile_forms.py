"""Hostile request bodies at the gateway: JSON in pieces, multipart floods, stalls, malformed
forms, raw bytes in file names, and what the logs keep of them (nothing)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import io
import json
import logging
import threading
import types
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request

from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import Settings
from briefkasten.gateway import multipart
from briefkasten.gateway.middleware import errors, install_log_scrubber
from briefkasten.gateway.request import media_type
from briefkasten.monitoring.logs import JsonFormatter
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from tests.support import factories
from tests.support.gateway import gateway_app

CASE = "12345BG0012345"
KEY = "forms-test-key-0123456"
AUTH = {"Authorization": f"Bearer {KEY}"}
BOUNDARY = "XyZ0123boundary"
SECRET_NAME = "Kontoauszug-Erika-Mustermann"

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


def _settings(settings: Settings, spool: Path, **gateway: Any) -> Settings:
    return dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway, api_keys=f"jc-musterstadt:{KEY}", spool_dir=spool, **gateway
        ),
        limits=dataclasses.replace(settings.limits, max_file_bytes=2_000_000, max_files=3),
    )


@pytest.fixture
def make_gateway(
    tmp_path: Path, settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Callable[..., Awaitable[Gateway]]:
    async def make(**gateway: Any) -> Gateway:
        spool = tmp_path / "spool"
        storage = open_storage(f"memory://{tmp_path.name}")
        jobs = MemoryJobQueue()
        app = gateway_app(_settings(settings, spool, **gateway), storage=storage, jobs=jobs)
        return Gateway(await aiohttp_client(app), storage, jobs, spool)

    return make


def part(headers: bytes, body: bytes) -> bytes:
    return b"--" + BOUNDARY.encode() + b"\r\n" + headers + b"\r\n\r\n" + body + b"\r\n"


def field(name: str, value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return part(f'Content-Disposition: form-data; name="{name}"'.encode(), data)


def file_part(filename: bytes, data: bytes) -> bytes:
    return part(
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: application/octet-stream",
        data,
    )


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--" + BOUNDARY.encode() + b"--\r\n"


FORM_TYPE = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


async def post_raw(gateway: Gateway, data: bytes, **headers: str) -> tuple[int, dict[str, Any]]:
    response = await gateway.client.post(
        "/api/v1/submissions", data=data, headers={**AUTH, **FORM_TYPE, **headers}
    )
    return response.status, await response.json()


TIMEOUT = 30.0


async def raw_exchange(gateway: Gateway, head: str, *pieces: bytes, pause: float = 0.0) -> bytes:
    """Send ``head`` and then each piece as its own write (``pause`` s apart); the answer."""
    server = gateway.client.server
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(server.host, server.port), TIMEOUT
    )
    try:
        writer.write(head.encode("latin-1"))
        for piece in pieces:
            await writer.drain()
            await asyncio.sleep(pause)
            writer.write(piece)
        await writer.drain()
        return await asyncio.wait_for(read_answer(reader), TIMEOUT)
    finally:
        writer.close()


async def read_answer(reader: asyncio.StreamReader) -> bytes:
    """One HTTP answer (head and Content-Length body), without waiting for the socket to close:
    aiohttp lingers on a connection whose request body it did not read to the end."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + await reader.readexactly(length)


def request_head(gateway: Gateway, path: str, content_type: str, length: int) -> str:
    server = gateway.client.server
    return (
        f"POST {path} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        f"Authorization: Bearer {KEY}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    )


def status_and_json(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(rest)


def base_fields() -> list[bytes]:
    return [field("case_number", CASE), field("document_type", "kontoauszug")]


# --- JSON bodies ---------------------------------------------------------------------------


async def test_json_body_in_two_tcp_segments_is_read_whole(
    make_gateway: Callable[..., Awaitable[Gateway]],
) -> None:
    gateway = await make_gateway()
    data = json.dumps({"case_number": CASE, "documents": [{"document_type": "x" * 300}]})
    raw = data.encode()
    head = request_head(gateway, "/api/v1/submissions", "application/json", len(raw))
    answer = await raw_exchange(gateway, head, raw[:150], raw[150:], pause=0.3)
    status, payload = status_and_json(answer)
    # Parsed whole: the refusal is about the unknown document type, not "must be JSON".
    assert status == 400, payload
    assert "unknown document_type" in payload["error"]["message_en"]


async def test_a_stalled_json_body_is_408(
    make_gateway: Callable[..., Awaitable[Gateway]],
) -> None:
    gateway = await make_gateway(body_idle_timeout_s=0.5)
    raw = json.dumps({"case_number": CASE, "documents": []}).encode()
    head = request_head(gateway, "/api/v1/submissions", "application/json", len(raw))
    server = gateway.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(head.encode() + raw[:10])  # and then nothing
        await writer.drain()
        status, payload = status_and_json(await asyncio.wait_for(read_answer(reader), TIMEOUT))
    finally:
        writer.close()
    assert status == 408, payload
    assert payload["error"]["code"] == "request_timeout"


async def test_json_body_over_the_limit_is_413(
    make_gateway: Callable[..., Awaitable[Gateway]],
) -> None:
    gateway = await make_gateway()
    raw = json.dumps({"case_number": CASE, "documents": ["x" * 70_000]}).encode()
    response = await gateway.client.post(
        "/api/v1/submissions", data=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "limit_exceeded"


# --- multipart limits ------------------------------------------------------------------------


async def test_too_many_parts_are_refused(
    make_gateway: Callable[..., Awaitable[Gateway]], png_bytes: bytes
) -> None:
    gateway = await make_gateway(max_form_parts=50)
    notes = [field("note", "n") for _ in range(60)]
    status, payload = await post_raw(
        gateway, body(*base_fields(), *notes, file_part(b"a.png", png_bytes))
    )
    assert status == 413, payload
    assert payload["error"]["code"] == "limit_exceeded"
    assert "parts" in payload["error"]["message_en"]
    assert gateway.jobs.jobs == []
    assert list(gateway.spool.iterdir()) == []


async def test_default_part_limit_stops_a_note_flood(
    make_gateway: Callable[..., Awaitable[Gateway]], png_bytes: bytes
) -> None:
    gateway = await make_gateway()
    notes = [field("note", "n") for _ in range(20_000)]
    status, payload = await post_raw(
        gateway, body(*base_fields(), *notes, file_part(b"a.png", png_bytes))
    )
    assert status == 413, payload
    assert gateway.jobs.jobs == []


async def test_non_file_bytes_are_counted_over_all_fields(
    make_gateway: Callable[..., Awaitable[Gateway]], png_bytes: bytes
) -> None:
    gateway = await make_gateway()  # default: 64 KiB over all fields
    notes = [field("note", "n" * 2000) for _ in range(40)]  # each under the 2 KiB field limit
    status, payload = await post_raw(
        gateway, body(*base_fields(), *notes, file_part(b"a.png", png_bytes))
    )
    assert status == 413, payload
    assert "form fields" in payload["error"]["message_en"]


async def test_a_stalled_multipart_body_is_408(
    make_gateway: Callable[..., Awaitable[Gateway]], png_bytes: bytes
) -> None:
    gateway = await make_gateway(body_idle_timeout_s=0.5)
    raw = body(*base_fields(), file_part(b"a.png", png_bytes))
    head = request_head(gateway, "/api/v1/submissions", FORM_TYPE["Content-Type"], len(raw))
    server = gateway.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(head.encode() + raw[: len(raw) // 2])  # and then nothing
        await writer.drain()
        status, payload = status_and_json(await asyncio.wait_for(read_answer(reader), TIMEOUT))
    finally:
        writer.close()
    assert status == 408, payload
    assert payload["error"]["code"] == "request_timeout"
    assert payload["error"]["message_de"]
    assert list(gateway.spool.iterdir()) == []  # the half file is gone


async def test_a_slowloris_body_hits_the_deadline(
    make_gateway: Callable[..., Awaitable[Gateway]], png_bytes: bytes
) -> None:
    gateway = await make_gateway(body_idle_timeout_s=5.0, body_deadline_s=1.0)
    raw = body(*base_fields(), file_part(b"a.png", png_bytes))
    head = request_head(gateway, "/api/v1/submissions", FORM_TYPE["Content-Type"], len(raw))
    server = gateway.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    answer = asyncio.ensure_future(read_answer(reader))
    try:
        writer.write(head.encode())
        for offset in range(0, len(raw), 16):  # 16 bytes every 0.1 s: never idle
            if answer.done():
                break
            writer.write(raw[offset : offset + 16])
            await writer.drain()
            await asyncio.sleep(0.1)
        status, payload = status_and_json(await asyncio.wait_for(answer, TIMEOUT))
    finally:
        writer.close()
    assert status == 408, payload
    assert "longer than allowed" in payload["error"]["message_en"]


# --- malformed multipart -------------------------------------------------------------------


MALFORMED = {
    "nul in a part header": lambda png: body(
        *base_fields(),
        part(b'Content-Disposition: form-data; name="file"; filename="a\x00b.png"', png),
    ),
    "header line without colon": lambda png: body(
        *base_fields(), part(b"Content-Disposition form-data", png)
    ),
    "no boundary at all": lambda png: b"hello " + png,
    "body ends without closing boundary": lambda png: (
        b"".join(base_fields()) + file_part(b"a.png", png)[:-2]
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_malformed_multipart_is_400_not_500(
    make_gateway: Callable[..., Awaitable[Gateway]],
    png_bytes: bytes,
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = await make_gateway()
    caplog.set_level(logging.DEBUG)
    status, payload = await post_raw(gateway, MALFORMED[case](png_bytes))
    assert status == 400, payload
    assert payload["error"]["code"] == "invalid_request"
    assert payload["error"]["message_de"] and payload["error"]["message_en"]
    assert list(gateway.spool.iterdir()) == []


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", 'multipart/form-data; boundary="' + "b" * 200 + '"'],
)
async def test_bad_boundary_is_400(
    make_gateway: Callable[..., Awaitable[Gateway]], content_type: str
) -> None:
    gateway = await make_gateway()
    response = await gateway.client.post(
        "/api/v1/submissions", data=b"--x\r\n", headers={**AUTH, "Content-Type": content_type}
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_request"


async def test_invalid_utf8_in_a_file_name_becomes_replacement_characters(
    make_gateway: Callable[..., Awaitable[Gateway]], png_bytes: bytes
) -> None:
    """Raw bytes that are not UTF-8 and a percent-encoded invalid byte: stored and answered."""
    raw_name, expected = b"Seite \xff\xfe%FF%20eins.png", "Seite \ufffd\ufffd\ufffd eins.png"
    gateway = await make_gateway()
    status, payload = await post_raw(gateway, body(*base_fields(), file_part(raw_name, png_bytes)))
    assert status == 202, payload
    assert payload["receipt"]["documents"][0]["files"][0]["name"] == expected
    manifest = [k for k in gateway.storage.list("") if k.endswith("manifest.json")]
    assert expected in gateway.storage.get_bytes(manifest[0]).decode("utf-8")


# --- logs ----------------------------------------------------------------------------------


async def test_an_unexpected_error_logs_no_file_name(
    aiohttp_client: Callable[..., Awaitable[Client]], caplog: pytest.LogCaptureFixture
) -> None:
    """The 500 path: a handler fails with the raw part header in a chained exception."""

    async def failing(request: web.Request) -> web.Response:
        reader = await request.multipart()
        part = await reader.next()
        header = str(part.headers) if part is not None else ""
        try:
            raise ValueError(f"cannot parse {header}")
        except ValueError as exc:
            raise RuntimeError(f"upload failed: {header}") from exc

    install_log_scrubber()
    app = web.Application(middlewares=[errors])
    app.router.add_post("/boom", failing)
    client = await aiohttp_client(app)
    caplog.set_level(logging.DEBUG)
    data = body(file_part(SECRET_NAME.encode() + b".pdf", b"%PDF-1.7 secret content"))
    response = await client.post("/boom", data=data, headers=FORM_TYPE)
    assert response.status == 500
    assert (await response.json())["error"]["code"] == "internal_error"
    logged = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "RuntimeError" in logged and "ValueError" in logged  # the types stay
    assert "failing" in logged  # and the frames
    assert SECRET_NAME not in logged
    assert "secret content" not in logged


async def test_aiohttp_parser_errors_log_no_header_content(
    make_gateway: Callable[..., Awaitable[Gateway]], caplog: pytest.LogCaptureFixture
) -> None:
    """A request head aiohttp itself refuses: its ``aiohttp.server`` log keeps no content."""
    gateway = await make_gateway()
    caplog.set_level(logging.DEBUG)
    server = gateway.client.server
    head = (
        f"POST /api/v1/submissions HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        f"X-File: {SECRET_NAME}\x00.pdf\r\nContent-Length: 0\r\n\r\n"
    )
    answer = await raw_exchange(gateway, head)
    assert answer.split(b" ")[1] == b"400"
    records = [r for r in caplog.records if r.name.startswith("aiohttp")]
    assert records, "aiohttp logged nothing"
    logged = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in records)
    assert SECRET_NAME not in logged
    as_json = [json.loads(JsonFormatter().format(r)) for r in records if r.levelno >= 40]
    assert as_json and all("BadHttpMessage" in e.get("exc", "") for e in as_json)  # kept, scrubbed


async def test_invalid_utf8_in_a_tus_file_name_becomes_replacement_characters(
    make_gateway: Callable[..., Awaitable[Gateway]], png_bytes: bytes
) -> None:
    gateway = await make_gateway()
    tus = {**AUTH, "Tus-Resumable": "1.0.0"}
    name = base64.b64encode(b"Seite \xff.png").decode()
    created = await gateway.client.post(
        "/api/v1/tus/",
        headers={
            **tus,
            "Upload-Length": str(len(png_bytes)),
            "Upload-Metadata": f"filename {name}",
        },
    )
    assert created.status == 201, await created.text()
    location = created.headers["Location"]
    patched = await gateway.client.patch(
        location,
        data=png_bytes,
        headers={**tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
    )
    assert patched.status == 204
    document = {"document_type": "kontoauszug", "uploads": [location.rsplit("/", 1)[1]]}
    response = await gateway.client.post(
        "/api/v1/submissions", json={"case_number": CASE, "documents": [document]}, headers=AUTH
    )
    assert response.status == 202, await response.text()
    files = (await response.json())["receipt"]["documents"][0]["files"]
    assert files[0]["name"] == "Seite \ufffd.png"


async def test_an_upload_is_hashed_off_the_event_loop(
    make_gateway: Callable[..., Awaitable[Gateway]],
    png_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SHA-256 of a spooled file runs in the I/O threads (it releases the GIL there); the event
    loop only reads the body. The hash the receipt gives is the file's all the same."""
    hashing_threads: set[str] = set()

    class Recorded:
        def __init__(self) -> None:
            self._digest = hashlib.sha256()

        def update(self, data: bytes) -> None:
            hashing_threads.add(threading.current_thread().name)
            self._digest.update(data)

        def hexdigest(self) -> str:
            return self._digest.hexdigest()

    monkeypatch.setattr(multipart, "hashlib", types.SimpleNamespace(sha256=Recorded))
    gateway = await make_gateway()
    loop_thread = threading.current_thread().name  # the test client's server shares this loop
    data = png_bytes * 40  # several chunks
    status, payload = await post_raw(gateway, body(*base_fields(), file_part(b"a.png", data)))
    assert status == 202, payload
    assert hashing_threads and loop_thread not in hashing_threads
    files = payload["receipt"]["documents"][0]["files"]
    assert files[0]["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/json", "application/json"),
        ("Application/JSON; charset=utf-8", "application/json"),
        (f"multipart/form-data; boundary={BOUNDARY}", "multipart/form-data"),
        ("", ""),
    ],
)
def test_the_media_type_is_read_as_aiohttp_reads_it(header: str, expected: str) -> None:
    headers = {"Content-Type": header} if header else {}
    request = make_mocked_request("POST", "/api/v1/submissions", headers=headers)
    assert media_type(request) == expected
    if header:
        assert request.content_type == expected  # what it stands in for

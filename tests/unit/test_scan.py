"""The malware scan: clamd's protocol (unit tests with the test double), the adapter against a
real clamd with an EICAR test signature (``tests/support/clamd.py``), and the gateway refusing,
quarantining, auditing and counting infected uploads, failing closed or open when clamd is away.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_scan.py``, ``tests/e2e/test_scan.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from PIL import Image

from briefkasten import config, links
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import ScanSettings, Settings
from briefkasten.errors import ConfigError, MalwareFound, ScanFailed, ScanUnavailable
from briefkasten.gateway.keys import METRICS
from briefkasten.gateway.tus_protocol import PREFIX
from briefkasten.intake import IncomingDocument, IncomingFile, Intake, load_submission
from briefkasten.malware.scanner import (
    CLEAN,
    NOT_SCANNED,
    ClamdScanner,
    OffScanner,
    StubScanner,
    Verdict,
    frames,
    parse_address,
    parse_reply,
)
from briefkasten.model import Submission
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from tests.support.clamd import (  # noqa: F401  (pytest fixtures)
    FOUND_NAME,
    STREAM_MAX_BYTES,
    Clamd,
    clamd_fixture,
    clamd_server_fixture,
    eicar,
)
from tests.support.gateway import gateway_app
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)

CASE = "12345BG0012345"
TENANT = "jc-musterstadt"
KEY = "scan-test-key-0123456"
SECRET = "s" * 40
AUTH = {"Authorization": f"Bearer {KEY}"}

Client = TestClient[Any, Any]


# ------------------------------------------------------------------------------ hostile files


def jpeg_bytes() -> bytes:
    image = Image.new("RGB", (320, 240), "white")
    for x in range(40, 280):
        image.putpixel((x, 120), (0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def jpeg_with_comment(comment: bytes) -> bytes:
    """A real JPEG with a COM segment (``FF FE``, length incl. itself) right after SOI."""
    data = jpeg_bytes()
    assert data[:2] == b"\xff\xd8"
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:]


# -------------------------------------------------------------------- protocol (unit, no clamd)


def test_instream_frames_are_length_prefixed_and_end_with_a_zero_chunk() -> None:
    body = b"".join(frames([b"abc", b"", b"\x00" * 70000]))
    assert body[:7] == b"\x00\x00\x00\x03abc"
    assert body[7:11] == struct.pack(">I", 70000)
    assert body[11 : 11 + 70000] == b"\x00" * 70000
    assert body[-4:] == b"\x00\x00\x00\x00"
    assert len(body) == 7 + 4 + 70000 + 4  # the empty chunk is skipped, not sent as the end


def test_clamd_replies_are_parsed() -> None:
    assert parse_reply(b"stream: OK\0") == CLEAN
    assert parse_reply(b"stream: Eicar-Test-Signature FOUND\0") == Verdict(
        "infected", "Eicar-Test-Signature"
    )
    assert parse_reply(b"stream: Win.Test.EICAR_HDB-1 FOUND\n") == Verdict(
        "infected", "Win.Test.EICAR_HDB-1"
    )
    with pytest.raises(ScanFailed, match="size limit"):
        parse_reply(b"INSTREAM size limit exceeded. ERROR\0")
    with pytest.raises(ScanFailed, match="without a verdict"):
        parse_reply(b"")
    with pytest.raises(ScanFailed, match="unexpected"):
        parse_reply(b"stream: FOUND\0")
    with pytest.raises(ScanFailed, match="unexpected"):
        parse_reply(b"hello\0")


def test_clamd_addresses() -> None:
    assert parse_address("unix:///run/clamav/clamd.ctl")[1] == "/run/clamav/clamd.ctl"
    assert parse_address("tcp://127.0.0.1:3310")[1] == ("127.0.0.1", 3310)
    for bad in ("", "/run/clamd.ctl", "tcp://127.0.0.1", "tcp://127.0.0.1:x", "http://a:1"):
        with pytest.raises(ConfigError):
            parse_address(bad)
    with pytest.raises(ConfigError):
        ClamdScanner("clamd.sock")


def test_scan_settings_come_from_the_environment() -> None:
    scan = config.load(
        environ={
            "BRIEFKASTEN_SCAN_CLAMD": "tcp://127.0.0.1:3310",
            "BRIEFKASTEN_SCAN_FAIL_OPEN": "1",
        }
    ).scan
    assert scan == ScanSettings("tcp://127.0.0.1:3310", fail_open=True, timeout_s=30.0)
    assert config.load(environ={}).scan.clamd == ""  # off unless configured


def test_an_unreachable_clamd_fails_closed_or_open(tmp_path: Path) -> None:
    sample = tmp_path / "sample.bin"
    sample.write_bytes(b"hello")
    dead = f"unix://{tmp_path / 'no-clamd.sock'}"
    with pytest.raises(ScanUnavailable) as caught:
        ClamdScanner(dead, timeout=2).scan_file(sample)
    assert caught.value.code == "scan_unavailable" and str(tmp_path) not in str(caught.value)
    assert ClamdScanner(dead, timeout=2, fail_open=True).scan_file(sample) == NOT_SCANNED
    assert ClamdScanner(dead, timeout=2).available() is False


def test_old_manifests_read_as_scan_off() -> None:
    data = {
        "submission_id": "ab" * 16,
        "tenant": TENANT,
        "case_number": CASE,
        "received_at": "2026-01-01T00:00:00+00:00",
        "channel": "upload",
        "documents": [],
    }
    assert Submission.from_json(data).malware_scan == "off"
    assert Submission.from_json({**data, "malware_scan": "clean"}).to_json()["malware_scan"] == (
        "clean"
    )


def incoming_document(tmp_path: Path, data: bytes, name: str = "a.jpg") -> IncomingDocument:
    path = tmp_path / name
    path.write_bytes(data)
    file = IncomingFile(path, name, hashlib.sha256(data).hexdigest(), len(data), "image/jpeg", 1)
    return IncomingDocument("kontoauszug", (file,))


def test_intake_with_the_test_double(tmp_path: Path) -> None:
    storage = open_storage(f"memory://{tmp_path.name}")
    jobs = MemoryJobQueue()
    seen: list[str] = []
    intake = Intake(
        storage, jobs, scanner=StubScanner({b"BAD": "Test.Bad"}), on_malware=seen.append
    )
    clean = intake.receive(TENANT, CASE, [incoming_document(tmp_path, b"good")])
    assert clean.malware_scan == "clean"
    assert load_submission(storage, TENANT, clean.submission_id).malware_scan == "clean"
    before = set(storage.list(""))
    with pytest.raises(MalwareFound, match=r"Test\.Bad"):
        intake.receive(
            TENANT,
            CASE,
            [
                incoming_document(tmp_path, b"good too", "b.jpg"),
                incoming_document(tmp_path, b"xBADx", "c.jpg"),
            ],
        )
    added = set(storage.list("")) - before
    assert {k.split("/")[0] for k in added} == {"_quarantine", "_audit"}
    assert seen == [TENANT] and len(jobs.jobs) == 1  # only the clean submission is queued

    assert Intake(storage, jobs).receive(
        TENANT, CASE, [incoming_document(tmp_path, b"x")]
    ).malware_scan == ("off")
    assert OffScanner().available() and OffScanner().version() == "off"
    down = StubScanner({}, down=True)
    with pytest.raises(ScanUnavailable):
        Intake(storage, jobs, scanner=down).receive(
            TENANT, CASE, [incoming_document(tmp_path, b"y")]
        )
    fail_open = StubScanner({}, down=True, fail_open=True)
    flagged = Intake(storage, jobs, scanner=fail_open).receive(
        TENANT, CASE, [incoming_document(tmp_path, b"z")]
    )
    assert flagged.malware_scan == "not_scanned"


# ---------------------------------------------------------------------------- real clamd


# ------------------------------------------------------------------------------ the gateway


@dataclasses.dataclass
class Gateway:
    client: Client
    storage: Storage
    jobs: MemoryJobQueue
    token: str
    settings: Settings

    def malware_count(self) -> float:
        metrics = self.client.app[METRICS]
        value = metrics.registry.get_sample_value(
            "briefkasten_malware_found_total", {"tenant": TENANT}
        )
        return value or 0.0

    async def post(self, name: str, data: bytes, **headers: str) -> Any:
        form = FormData()
        form.add_field("case_number", CASE)
        form.add_field("document_type", "kontoauszug")
        form.add_field("file", data, filename=name, content_type="application/octet-stream")
        return await self.client.post("/api/v1/submissions", data=form, headers={**AUTH, **headers})

    async def tus_upload(self, data: bytes) -> str:
        headers = {"Authorization": f"Bearer {self.token}", "Tus-Resumable": "1.0.0"}
        created = await self.client.post(
            PREFIX, headers={**headers, "Upload-Length": str(len(data)), "Upload-Metadata": ""}
        )
        assert created.status == 201, await created.text()
        location = created.headers["Location"]
        patched = await self.client.patch(
            location,
            data=data,
            headers={
                **headers,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert patched.status == 204, await patched.text()
        return location.rsplit("/", 1)[-1]

    async def readyz_check(self) -> tuple[int, dict[str, Any]]:
        response = await self.client.get("/readyz")
        body = await response.json()
        return response.status, body["checks"]["malware_scan"]

    def stored(self, prefix: str = "") -> list[str]:
        return self.storage.list(prefix)


Factory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
def make_gateway(
    tmp_path: Path, settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Factory:
    async def make(clamd: str = "", *, fail_open: bool = False) -> Gateway:
        configured = dataclasses.replace(
            settings,
            gateway=dataclasses.replace(
                settings.gateway, api_keys=f"{TENANT}:{KEY}", spool_dir=tmp_path / "spool"
            ),
            limits=dataclasses.replace(settings.limits, max_file_bytes=2_000_000),
            links=dataclasses.replace(settings.links, secret=SECRET),
            scan=ScanSettings(clamd=clamd, fail_open=fail_open, timeout_s=10.0),
        )
        storage = open_storage(f"memory://{tmp_path.name}")
        _link, token = links.create_link(configured, storage, TENANT, CASE)
        jobs = MemoryJobQueue()
        app = gateway_app(configured, storage=storage, jobs=jobs)
        return Gateway(await aiohttp_client(app), storage, jobs, token, configured)

    return make


@pytest.mark.parametrize("behaviour", ["stall", "hang-up"])
def test_a_clamd_that_stalls_or_hangs_up_refuses_even_when_failing_open(
    tmp_path: Path, behaviour: str
) -> None:
    """A loopback stand-in that accepts the connection, reads everything and then says nothing
    (within the timeout) or closes: no verdict is never "clean", and not "not_scanned" either."""
    sample = tmp_path / "sample.bin"
    sample.write_bytes(b"x" * 200_000)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    done = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(10)
            received = b""
            while not received.endswith(struct.pack(">I", 0)):
                chunk = connection.recv(65536)
                if not chunk:
                    break
                received += chunk
            if behaviour == "stall":
                done.wait(10)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        scanner = ClamdScanner(f"tcp://127.0.0.1:{port}", timeout=0.5, fail_open=True)
        with pytest.raises(ScanFailed) as caught:
            scanner.scan_file(sample)
        expected = "timed out" if behaviour == "stall" else "without a verdict"
        assert expected in str(caught.value)
    finally:
        done.set()
        thread.join(10)
        listener.close()

"""The malware scan: clamd's protocol (unit tests with the test double), the adapter against a
real clamd with an EICAR test signature (``tests/clamd.py``), and the gateway refusing,
quarantining, auditing and counting infected uploads, failing closed or open when clamd is away.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import socket
import struct
import subprocess
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from briefkasten import config, links
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.config import ScanSettings, Settings
from briefkasten.errors import ConfigError, MalwareFound, ScanFailed, ScanUnavailable
from briefkasten.gateway import create_app
from briefkasten.gateway.keys import INTAKE, METRICS, TUS_STORE
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
from briefkasten.message import DocumentOutcome, build_message
from briefkasten.model import Submission
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from tests.clamd import (  # noqa: F401  (pytest fixtures)
    FOUND_NAME,
    STREAM_MAX_BYTES,
    Clamd,
    clamd_fixture,
    clamd_server_fixture,
    eicar,
)

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


def pdf_with_stream(payload: bytes, *, compress: bool) -> bytes:
    """A one-page PDF whose content stream carries ``payload`` behind a PDF comment, raw or
    Flate-compressed (then the payload's bytes do not occur in the file itself)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    stream = DecodedStreamObject()
    stream.set_data(b"% " + payload + b"\nq Q\n")
    page[NameObject("/Contents")] = writer._add_object(stream)
    if compress:
        page.compress_content_streams()
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    assert (payload in data) is not compress
    if compress:
        assert b"/FlateDecode" in data
    return data


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


def _incoming(tmp_path: Path, data: bytes, name: str = "a.jpg") -> IncomingDocument:
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
    clean = intake.receive(TENANT, CASE, [_incoming(tmp_path, b"good")])
    assert clean.malware_scan == "clean"
    assert load_submission(storage, TENANT, clean.submission_id).malware_scan == "clean"
    before = set(storage.list(""))
    with pytest.raises(MalwareFound, match=r"Test\.Bad"):
        intake.receive(
            TENANT,
            CASE,
            [_incoming(tmp_path, b"good too", "b.jpg"), _incoming(tmp_path, b"xBADx", "c.jpg")],
        )
    added = set(storage.list("")) - before
    assert {k.split("/")[0] for k in added} == {"_quarantine", "_audit"}
    assert seen == [TENANT] and len(jobs.jobs) == 1  # only the clean submission is queued

    assert Intake(storage, jobs).receive(
        TENANT, CASE, [_incoming(tmp_path, b"x")]
    ).malware_scan == ("off")
    assert OffScanner().available() and OffScanner().version() == "off"
    down = StubScanner({}, down=True)
    with pytest.raises(ScanUnavailable):
        Intake(storage, jobs, scanner=down).receive(TENANT, CASE, [_incoming(tmp_path, b"y")])
    fail_open = StubScanner({}, down=True, fail_open=True)
    flagged = Intake(storage, jobs, scanner=fail_open).receive(
        TENANT, CASE, [_incoming(tmp_path, b"z")]
    )
    assert flagged.malware_scan == "not_scanned"


# ---------------------------------------------------------------------------- real clamd


def test_real_clamd_over_unix_socket_and_tcp(clamd: Clamd, tmp_path: Path) -> None:
    infected = tmp_path / "infected.jpg"
    infected.write_bytes(jpeg_with_comment(eicar()))
    harmless = tmp_path / "harmless.jpg"
    harmless.write_bytes(jpeg_with_comment(b"just a comment"))
    for address in (clamd.unix_address, clamd.tcp_address):
        scanner = ClamdScanner(address, timeout=10)
        assert scanner.available()
        assert scanner.version().startswith("ClamAV ")
        assert scanner.scan_file(infected) == Verdict("infected", FOUND_NAME)
        assert scanner.scan_file(harmless) == CLEAN


def test_clamd_decodes_pdf_streams(clamd: Clamd, tmp_path: Path) -> None:
    scanner = ClamdScanner(clamd.unix_address, timeout=10)
    for compress in (False, True):
        pdf = tmp_path / f"doc-{compress}.pdf"
        pdf.write_bytes(pdf_with_stream(eicar(), compress=compress))
        assert scanner.scan_file(pdf) == Verdict("infected", FOUND_NAME)


def test_a_stream_over_clamds_limit_is_refused_even_when_failing_open(
    clamd: Clamd, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (STREAM_MAX_BYTES + 300_000))
    with pytest.raises(ScanFailed, match="size limit") as caught:
        ClamdScanner(clamd.unix_address, timeout=10, fail_open=True).scan_file(big)
    assert caught.value.code == "scan_failed" and caught.value.http_status == 503


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
        app = create_app(configured, storage=storage, jobs=jobs)
        return Gateway(await aiohttp_client(app), storage, jobs, token, configured)

    return make


def quarantined(gateway: Gateway) -> list[dict[str, Any]]:
    records = [k for k in gateway.stored("_quarantine/") if k.endswith(".json")]
    return [json.loads(gateway.storage.get_bytes(k)) for k in records]


def assert_refused_and_quarantined(gateway: Gateway, data: bytes, media_type: str) -> None:
    """Nothing kept but the quarantined bytes, their record and the audit event; no job."""
    [record] = quarantined(gateway)
    assert record["tenant"] == TENANT
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["size"] == len(data)
    assert record["signature"] == FOUND_NAME
    assert record["media_type"] == media_type
    assert set(record) == {
        "quarantine_id",
        "tenant",
        "attempted_at",
        "sha256",
        "size",
        "media_type",
        "signature",
        "key",
    }  # no file name, no case number
    assert gateway.storage.get_bytes(record["key"]) == data
    assert record["key"].startswith(f"_quarantine/{TENANT}/")
    others = [k for k in gateway.stored() if not k.startswith(("_quarantine/", "_audit/"))]
    assert all("/links/" in k for k in others), others  # the upload link only: no original,
    assert gateway.jobs.jobs == []  # no manifest, no hash marker, no idempotency key, no job
    [audit_key] = gateway.stored("_audit/")
    event = json.loads(gateway.storage.get_bytes(audit_key))
    assert (event["actor"], event["action"], event["result"]) == (
        "scanner",
        "quarantine",
        "malware_found",
    )
    assert event["targets"] == [TENANT, record["quarantine_id"]]
    assert gateway.malware_count() == 1


async def test_eicar_in_a_jpeg_comment_is_refused_and_quarantined(
    clamd: Clamd, make_gateway: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = await make_gateway(clamd.unix_address)
    data = jpeg_with_comment(eicar())
    response = await gateway.post("urlaubsfoto-geheim.jpg", data, **{"Idempotency-Key": "k1"})
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "malware_found"
    assert "Schadsoftware" in error["message_de"] and "quarantined" in error["message_en"]
    assert_refused_and_quarantined(gateway, data, "image/jpeg")
    assert "urlaubsfoto-geheim" not in caplog.text
    metrics = await (await gateway.client.get("/metrics")).text()
    assert f'briefkasten_malware_found_total{{tenant="{TENANT}"}} 1.0' in metrics
    assert f'briefkasten_uploads_total{{result="malware_found",tenant="{TENANT}"}} 1.0' in metrics


@pytest.mark.parametrize("compress", [False, True], ids=["raw-stream", "flate-stream"])
async def test_eicar_in_a_pdf_stream_is_refused_and_quarantined(
    clamd: Clamd, make_gateway: Factory, compress: bool
) -> None:
    gateway = await make_gateway(clamd.tcp_address)
    data = pdf_with_stream(eicar(), compress=compress)
    response = await gateway.post("kontoauszug.pdf", data)
    assert response.status == 422, await response.text()
    assert (await response.json())["error"]["code"] == "malware_found"
    assert_refused_and_quarantined(gateway, data, "application/pdf")


async def test_eicar_through_tus_uploads_is_refused_and_the_uploads_are_gone(
    clamd: Clamd, make_gateway: Factory
) -> None:
    gateway = await make_gateway(clamd.unix_address)
    clean = await gateway.tus_upload(jpeg_bytes())
    data = jpeg_with_comment(eicar())
    infected = await gateway.tus_upload(data)
    response = await gateway.client.post(
        "/api/v1/submissions",
        json={"documents": [{"document_type": "kontoauszug", "uploads": [clean, infected]}]},
        headers={"Authorization": f"Bearer {gateway.token}"},
    )
    assert response.status == 422, await response.text()
    assert (await response.json())["error"]["code"] == "malware_found"
    assert_refused_and_quarantined(gateway, data, "image/jpeg")
    store = gateway.client.app[TUS_STORE]
    assert not any(store.directory.iterdir())  # both uploads deleted, nothing left to resend


async def test_a_clean_file_is_accepted_as_clean_up_to_the_message(
    clamd: Clamd, make_gateway: Factory
) -> None:
    gateway = await make_gateway(clamd.unix_address)
    response = await gateway.post("foto.jpg", jpeg_with_comment(b"harmless comment"))
    assert response.status == 202, await response.text()
    receipt = await response.json()
    assert receipt["malware_scan"] == "clean"
    assert gateway.stored("_quarantine/") == [] and gateway.malware_count() == 0
    assert len(gateway.jobs.jobs) == 1
    submission = load_submission(gateway.storage, TENANT, receipt["submission_id"])
    assert submission.malware_scan == "clean"
    outcome = DocumentOutcome(
        submission.documents[0], None, None, 0, [], None, None, "test", "2026-01-01T00:00:00Z"
    )
    message = json.loads(build_message(submission, [outcome], bucket="b").body)
    assert message["malware_scan"] == "clean" and message["schema_version"] == "1.1"
    status, check = await gateway.readyz_check()
    assert status == 200 and check["ok"] and check["detail"].startswith("ClamAV ")


async def test_clamd_down_fails_closed_with_503(clamd: Clamd, make_gateway: Factory) -> None:
    gateway = await make_gateway(clamd.unix_address)
    clamd.stop()  # the fixture starts it again for the next test
    response = await gateway.post("foto.jpg", jpeg_bytes())
    assert response.status == 503, await response.text()
    assert response.headers["Retry-After"] == "30"
    assert (await response.json())["error"]["code"] == "scan_unavailable"
    assert gateway.jobs.jobs == []
    assert [k for k in gateway.stored() if "/links/" not in k] == []
    status, check = await gateway.readyz_check()
    assert status == 503 and check["ok"] is False
    readyz = await (await gateway.client.get("/readyz")).json()
    assert "malware_scan" in readyz["failed"]


async def test_clamd_down_with_fail_open_accepts_and_flags(
    tmp_path: Path, make_gateway: Factory
) -> None:
    gateway = await make_gateway(f"unix://{tmp_path / 'no-clamd.sock'}", fail_open=True)
    response = await gateway.post("foto.jpg", jpeg_bytes())
    assert response.status == 202, await response.text()
    receipt = await response.json()
    assert receipt["malware_scan"] == "not_scanned"
    submission = load_submission(gateway.storage, TENANT, receipt["submission_id"])
    assert submission.malware_scan == "not_scanned"
    status, check = await gateway.readyz_check()
    assert status == 200 and check["ok"] and "not_scanned" in check["detail"]


async def test_scanning_off_says_so(make_gateway: Factory) -> None:
    gateway = await make_gateway("")
    # Without a scanner even the test string is accepted: the receipt must say "off".
    response = await gateway.post("foto.jpg", jpeg_with_comment(eicar()))
    assert response.status == 202, await response.text()
    assert (await response.json())["malware_scan"] == "off"
    status, check = await gateway.readyz_check()
    assert status == 200 and check == {"ok": True, "detail": "off"}
    assert isinstance(gateway.client.app[INTAKE].scanner, OffScanner)


def test_operators_list_copy_out_and_delete_quarantined_files(
    tmp_path: Path, cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    url = (tmp_path / "storage").as_uri()
    storage = open_storage(url)
    intake = Intake(storage, MemoryJobQueue(), scanner=StubScanner({b"BAD": "Test.Bad"}))
    with pytest.raises(MalwareFound):
        intake.receive(TENANT, CASE, [_incoming(tmp_path, b"xBADx", "brief.jpg")])
    env = {**os.environ, "BRIEFKASTEN_STORAGE": url}

    listed = cli("quarantine", "list", "--tenant", TENANT, env=env)
    assert listed.returncode == 0, listed.stderr
    [record] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert record["signature"] == "Test.Bad" and record["size"] == 5
    copied = tmp_path / "copy.bin"
    got = cli("quarantine", "get", record["quarantine_id"], "--output", copied, env=env)
    assert got.returncode == 0, got.stderr
    assert copied.read_bytes() == b"xBADx"

    refused = cli("quarantine", "delete", record["quarantine_id"], env=env)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    deleted = cli("quarantine", "delete", record["quarantine_id"], "--yes", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert storage.list("_quarantine/") == []
    events = [json.loads(storage.get_bytes(k)) for k in storage.list("_audit/")]
    assert [e["action"] for e in events] == ["quarantine", "quarantine_delete"]
    missing = cli("quarantine", "get", record["quarantine_id"], "--output", copied, env=env)
    assert missing.returncode == 2 and "not_found" in missing.stderr


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

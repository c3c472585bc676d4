"""The malware scan: clamd's protocol (unit tests with the test double), the adapter against a
real clamd with an EICAR test signature (``tests/support/clamd.py``), and the gateway refusing,
quarantining, auditing and counting infected uploads, failing closed or open when clamd is away.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_scan.py``,
``tests/e2e/test_scan.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from briefkasten import contract
from briefkasten.errors import ScanFailed
from briefkasten.gateway.keys import INTAKE, TUS_STORE
from briefkasten.intake import load_submission
from briefkasten.malware.scanner import (
    CLEAN,
    ClamdScanner,
    OffScanner,
    Verdict,
)
from briefkasten.message import DocumentOutcome, build_message
from tests.support.clamd import (  # noqa: F401  (pytest fixtures)
    FOUND_NAME,
    STREAM_MAX_BYTES,
    Clamd,
    clamd_fixture,
    clamd_server_fixture,
    eicar,
)
from tests.unit import test_scan as unit_scan
from tests.unit.test_scan import (
    TENANT,
    Factory,
    Gateway,
    jpeg_bytes,
    jpeg_with_comment,
)

make_gateway = unit_scan.make_gateway  # the fixture, shared with tests/unit/test_scan.py


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
    assert (
        message["malware_scan"] == "clean" and message["schema_version"] == contract.SCHEMA_VERSION
    )
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

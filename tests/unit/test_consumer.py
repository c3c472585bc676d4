"""The reference consumer's saving step: validate, download, verify SHA-256, save, idempotent.

The unit tier's part (no servers, no external programs); the other parts:
``tests/e2e/test_consumer.py``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from briefkasten import contract
from briefkasten.broker.subscriber import ReceivedMessage
from briefkasten.cli.consume import save_message
from briefkasten.errors import InvalidRequest, ProcessingError
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage

SUBMISSION = "a" * 32
DOCUMENT = "b" * 32


def announce(storage: Storage, *, failed: bool = False) -> ReceivedMessage:
    base = f"jc-test/12345BG0012345/{SUBMISSION}"
    original = storage.put_bytes(
        f"{base}/originals/{'c' * 32}.jpg", b"\xff\xd8 jpeg", content_type="image/jpeg"
    )
    pdf = (
        None
        if failed
        else storage.put_bytes(
            f"{base}/documents/{DOCUMENT}.pdf", b"%PDF-1.7 ...", content_type="application/pdf"
        )
    )
    text = (
        None
        if failed
        else storage.put_bytes(
            f"{base}/documents/{DOCUMENT}.txt", "Größe".encode(), content_type="text/plain"
        )
    )
    body = {
        "message_id": contract.message_id_for(SUBMISSION),
        "schema_version": contract.SCHEMA_VERSION,
        "tenant": "jc-test",
        "case_number": "12345BG0012345",
        "submission_id": SUBMISSION,
        "received_at": "2026-11-24T10:00:00+00:00",
        "processed_at": "2026-11-24T10:00:05+00:00",
        "channel": "upload",
        "documents": [
            {
                "document_id": DOCUMENT,
                "document_type": "kontoauszug",
                "pages": 1,
                "pdf": pdf.to_contract() if pdf else None,
                "text": text.to_contract() if text else None,
                "originals": [
                    {
                        "name": "foto.jpg",
                        "media_type": "image/jpeg",
                        "duplicate_of": None,
                        **original.to_contract(),
                    }
                ],
                "quality_flags": [[]] if not failed else [],
                "ocr_confidence": 91.0 if not failed else None,
                "pipeline": None if failed else {"name": "default", "version": "1"},
                "normalisation_failed": failed,
                "failure_reason": "corrupt_input: cannot decode image" if failed else None,
            }
        ],
    }
    contract.validate(body)
    return ReceivedMessage(body["message_id"], "jc-test.kontoauszug", json.dumps(body).encode())


def test_saves_verified_pdf_and_text_then_the_message(tmp_path: Path) -> None:
    storage = open_storage("memory://consumer")
    folder = save_message(announce(storage), storage, tmp_path)
    assert folder == tmp_path / "jc-test" / "12345BG0012345" / SUBMISSION
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"kontoauszug-{DOCUMENT}.pdf", f"kontoauszug-{DOCUMENT}.txt", "message.json"]
    assert (folder / f"kontoauszug-{DOCUMENT}.txt").read_text() == "Größe"


def test_a_failed_document_brings_its_originals(tmp_path: Path) -> None:
    storage = open_storage("memory://consumer")
    folder = save_message(announce(storage, failed=True), storage, tmp_path)
    originals = [p for p in folder.iterdir() if "-original-" in p.name]
    assert len(originals) == 1 and originals[0].read_bytes() == b"\xff\xd8 jpeg"


def test_a_tampered_object_is_refused_and_nothing_is_marked_done(tmp_path: Path) -> None:
    storage = open_storage("memory://consumer")
    message = announce(storage)
    key = json.loads(message.body)["documents"][0]["pdf"]["key"]
    storage.put_bytes(key, b"%PDF-1.7 something else", content_type="application/pdf")
    with pytest.raises(ProcessingError, match="SHA-256"):
        save_message(message, storage, tmp_path)
    assert not list(tmp_path.rglob("message.json"))
    assert not list(tmp_path.rglob("*.part"))


def test_saving_twice_is_harmless(tmp_path: Path) -> None:
    storage = open_storage("memory://consumer")
    message = announce(storage)
    first = save_message(message, storage, tmp_path)
    pdf = first / f"kontoauszug-{DOCUMENT}.pdf"
    digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert save_message(message, storage, tmp_path) == first
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == digest


def test_a_message_off_the_contract_is_refused(tmp_path: Path) -> None:
    storage = open_storage("memory://consumer")
    bad = ReceivedMessage("x", "jc-test.kontoauszug", b'{"message_id": "x"}')
    with pytest.raises(InvalidRequest):
        save_message(bad, storage, tmp_path)

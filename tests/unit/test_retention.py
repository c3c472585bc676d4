"""Deletion after hand-over: confirmations (API and the receipts exchange) and the sweep.

The sweep runs with an injected ``now``, against memory, file and S3 storage (SeaweedFS);
confirmations over RabbitMQ use a vhost of this run's own.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_retention.py``, ``tests/e2e/test_retention.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from briefkasten import contract
from briefkasten.broker.base import OutboundMessage
from briefkasten.broker.local import MemoryJobQueue
from briefkasten.broker.outbox import Outbox
from briefkasten.config import Settings, TenantSettings
from briefkasten.errors import InvalidRequest, NotFound
from briefkasten.housekeeping import retention
from briefkasten.housekeeping.confirmations import confirmation_message, handle_confirmation
from briefkasten.intake import IncomingDocument, IncomingFile, Intake
from briefkasten.model import Submission
from briefkasten.storage import layout, open_storage
from briefkasten.storage.base import Storage
from tests.support.gateway import GatewayClient
from tests.support.openapi import aiohttp_client_cls  # noqa: F401 (fixture: every response checked)

CASE = "12345BG0012345"
TENANT = "jc-test"
KEY = "ret-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
FILE_NAME = "kontoauszug-erika-mustermann.png"
Client = TestClient[Any, Any]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared defaults with an API key for the test tenant (tenants are swept by name)."""
    gateway = dataclasses.replace(settings.gateway, api_keys=f"{TENANT}:{KEY}")
    return dataclasses.replace(settings, gateway=gateway)


def make_storage(kind: str, tmp_path: Path) -> Storage:
    if kind == "file":
        return open_storage((tmp_path / "storage").as_uri())
    return open_storage(f"memory://{tmp_path.name}")


def receive(
    storage: Storage, tmp_path: Path, content: bytes, *, tenant: str = TENANT, key: str = ""
) -> Submission:
    """A submission as the gateway stores it, plus a stored result as a worker would."""
    spooled = tmp_path / f"spool-{hashlib.sha256(content).hexdigest()[:8]}-{time.time_ns()}"
    spooled.write_bytes(content)
    incoming = IncomingFile(
        spooled, FILE_NAME, hashlib.sha256(content).hexdigest(), len(content), "image/png", 1
    )
    documents = [IncomingDocument("kontoauszug", (incoming,))]
    submission = Intake(storage, MemoryJobQueue()).receive(
        tenant, CASE, documents, idempotency_key=key or None
    )
    document_id = submission.documents[0].document_id
    for suffix in ("pdf", "txt"):
        storage.put_bytes(
            layout.document_key(tenant, CASE, submission.submission_id, document_id, suffix),
            b"result",
            content_type="application/octet-stream",
        )
    return submission


def received_at(submission: Submission) -> datetime:
    return datetime.fromisoformat(submission.received_at)


def gone(storage: Storage, submission: Submission) -> bool:
    prefix = layout.submission_prefix(submission.tenant, CASE, submission.submission_id)
    manifest = layout.manifest_key(submission.tenant, submission.submission_id)
    return not storage.list(prefix) and not storage.exists(manifest)


def status(storage: Storage, submission: Submission) -> dict[str, Any]:
    return Intake(storage, MemoryJobQueue()).status(submission.tenant, submission.submission_id)


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_sweep_deletes_after_grace_or_max_and_keeps_the_rest(
    kind: str, tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    storage = make_storage(kind, tmp_path)
    confirmed = receive(storage, tmp_path, b"page one", key="idem-1")
    unconfirmed = receive(storage, tmp_path, b"page two")
    start = received_at(confirmed)
    recorded, answer = retention.confirm(
        storage, settings, TENANT, confirmed.submission_id, via="api", now=start
    )
    assert recorded and answer["status"] == "confirmed"
    assert answer["delete_after"] == (start + timedelta(days=7)).isoformat()

    caplog.set_level(logging.INFO, logger="briefkasten")
    early = retention.sweep(storage, settings, now=start + timedelta(days=6))
    assert early.deleted == [] and early.kept == 2
    after_grace = retention.sweep(storage, settings, now=start + timedelta(days=7, seconds=1))
    assert [(d.submission_id, d.reason) for d in after_grace.deleted] == [
        (confirmed.submission_id, retention.CONFIRMED)
    ]
    assert after_grace.deleted[0].objects == 3  # the original, the PDF, the text
    assert gone(storage, confirmed) and not gone(storage, unconfirmed)
    tombstone = status(storage, confirmed)
    assert tombstone["status"] == "deleted"
    assert tombstone["reason"] == retention.CONFIRMED
    assert tombstone["confirmed_at"] == start.isoformat()
    assert tombstone["received_at"] == confirmed.received_at
    assert set(tombstone) == {
        "submission_id",
        "status",
        "received_at",
        "confirmed_at",
        "deleted_at",
        "reason",
        "updated_at",
        "documents",
    }
    assert not storage.exists(layout.confirmation_key(TENANT, confirmed.submission_id))
    # the hash marker went with it: the same file again is no duplicate of a deleted one
    marker = layout.hash_marker_key(TENANT, CASE, hashlib.sha256(b"page one").hexdigest())
    assert not storage.exists(marker)
    again = receive(storage, tmp_path, b"page one")
    assert again.documents[0].files[0].duplicate_of is None
    # an Idempotency-Key of a deleted submission starts afresh instead of failing
    assert Intake(storage, MemoryJobQueue()).find(TENANT, "idem-1") is None
    # confirming a deleted submission is still fine (idempotent) and says so
    recorded, answer = retention.confirm(
        storage, settings, TENANT, confirmed.submission_id, via="api"
    )
    assert not recorded and answer["status"] == "deleted"

    late = retention.sweep(storage, settings, now=start + timedelta(days=90, seconds=1))
    reasons = {d.submission_id: d.reason for d in late.deleted}
    assert reasons == {  # "again" was received at (about) the same time
        unconfirmed.submission_id: retention.UNCONFIRMED,
        again.submission_id: retention.UNCONFIRMED,
    }
    assert status(storage, unconfirmed)["status"] == "deleted"
    assert storage.list(f"{TENANT}/{CASE}/") == []  # originals, results and markers: all gone

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert confirmed.submission_id in logged and unconfirmed.submission_id in logged
    for secret in (FILE_NAME, "kontoauszug-erika", "originals/", CASE, ".png"):
        assert secret not in logged


def test_dry_run_deletes_nothing(tmp_path: Path, settings: Settings) -> None:
    storage = make_storage("memory", tmp_path)
    submission = receive(storage, tmp_path, b"dry")
    keys = storage.list("")
    report = retention.sweep(
        storage, settings, now=received_at(submission) + timedelta(days=365), dry_run=True
    )
    assert [d.submission_id for d in report.deleted] == [submission.submission_id]
    assert report.dry_run
    assert storage.list("") == keys
    assert status(storage, submission)["status"] == "received"


def test_per_tenant_retention_overrides_the_global_days(tmp_path: Path, settings: Settings) -> None:
    settings = dataclasses.replace(
        settings,
        tenants=(TenantSettings("jc-short", retention_grace_days=1, retention_max_days=2),),
    )
    assert retention.periods(settings, "jc-short") == (1, 2)
    assert retention.periods(settings, TENANT) == (7, 90)
    assert "jc-short" in retention.known_tenants(settings)
    storage = make_storage("memory", tmp_path)
    short = receive(storage, tmp_path, b"short", tenant="jc-short")
    normal = receive(storage, tmp_path, b"normal", tenant=TENANT)
    now = received_at(short) + timedelta(days=2, seconds=1)
    report = retention.sweep(storage, settings, now=now, tenants=["jc-short", TENANT])
    assert [d.submission_id for d in report.deleted] == [short.submission_id]
    assert not gone(storage, normal)


def test_sweep_prunes_sent_outbox_messages_after_grace(tmp_path: Path, settings: Settings) -> None:
    outbox = Outbox(tmp_path / "outbox")
    for message_id in ("sent-one", "still-pending"):
        outbox.add(OutboundMessage(message_id, "jc-test.kontoauszug", b"{}"))
    outbox.mark_sent("sent-one")
    storage = make_storage("memory", tmp_path)
    now = datetime.now(UTC)
    assert retention.sweep(storage, settings, now=now, outbox=outbox).outbox_pruned == 0
    later = now + timedelta(days=8)
    dry = retention.sweep(storage, settings, now=later, outbox=outbox, dry_run=True)
    assert dry.outbox_pruned == 1 and outbox.counts()["sent"] == 1
    assert retention.sweep(storage, settings, now=later, outbox=outbox).outbox_pruned == 1
    assert outbox.counts() == {"pending": 1, "sent": 0, "failed": 0}


def test_a_confirmation_in_the_future_counts_as_now(tmp_path: Path, settings: Settings) -> None:
    storage = make_storage("memory", tmp_path)
    submission = receive(storage, tmp_path, b"future")
    now = received_at(submission)
    _, answer = retention.confirm(
        storage,
        settings,
        TENANT,
        submission.submission_id,
        via="amqp",
        confirmed_at=now + timedelta(days=3650),
        now=now,
    )
    assert answer["confirmed_at"] == now.isoformat()
    with pytest.raises(NotFound):
        retention.confirm(storage, settings, TENANT, "f" * 32, via="api")
    with pytest.raises(NotFound):
        retention.confirm(storage, settings, TENANT, "../x", via="api")


async def test_ack_over_the_api(
    tmp_path: Path, settings: Settings, gateway_client: GatewayClient
) -> None:
    settings = dataclasses.replace(
        settings,
        gateway=dataclasses.replace(
            settings.gateway,
            api_keys=f"{TENANT}:{KEY},jc-other:other-key-0123456789",
            spool_dir=tmp_path / "spool",
        ),
    )
    storage = make_storage("memory", tmp_path)
    client = await gateway_client(settings, storage=storage, jobs=MemoryJobQueue())
    submission = receive(storage, tmp_path, b"api")
    url = f"/api/v1/submissions/{submission.submission_id}/ack"

    assert (await client.post(url)).status == 401
    foreign = await client.post(url, headers={"Authorization": "Bearer other-key-0123456789"})
    assert foreign.status == 404
    unknown = await client.post(f"/api/v1/submissions/{'e' * 32}/ack", headers=AUTH)
    assert unknown.status == 404
    first = await client.post(url, headers=AUTH)
    assert first.status == 202
    body = await first.json()
    assert body["status"] == "confirmed" and body["submission_id"] == submission.submission_id
    second = await client.post(url, headers=AUTH)
    assert second.status == 200
    assert (await second.json())["confirmed_at"] == body["confirmed_at"]
    assert retention.confirmation(storage, TENANT, submission.submission_id) is not None

    now = datetime.fromisoformat(body["delete_after"]) + timedelta(seconds=1)
    retention.sweep(storage, settings, now=now)
    answer = await client.get(f"/api/v1/submissions/{submission.submission_id}", headers=AUTH)
    assert answer.status == 200
    assert (await answer.json())["status"] == "deleted"
    after = await client.post(url, headers=AUTH)
    assert after.status == 200 and (await after.json())["status"] == "deleted"
    pdf = await client.get(
        f"/api/v1/submissions/{submission.submission_id}/receipt.pdf", headers=AUTH
    )
    assert pdf.status == 404


def test_confirmation_message_follows_its_contract() -> None:
    message = confirmation_message(TENANT, "a" * 32)
    body = json.loads(message.body)
    contract.validate_confirmation(body)
    assert message.routing_key == TENANT
    assert (
        message.message_id == body["message_id"] == contract.confirmation_message_id_for("a" * 32)
    )
    with pytest.raises(InvalidRequest):
        contract.validate_confirmation({**body, "extra": "x"})


def test_handle_confirmation_checks_the_routing_key(tmp_path: Path, settings: Settings) -> None:
    from briefkasten.broker.subscriber import ReceivedMessage

    storage = make_storage("memory", tmp_path)
    submission = receive(storage, tmp_path, b"rk")
    message = confirmation_message(TENANT, submission.submission_id)
    with pytest.raises(InvalidRequest):
        handle_confirmation(ReceivedMessage(None, "jc-other", message.body), storage, settings)
    handle_confirmation(ReceivedMessage(None, TENANT, message.body), storage, settings)
    assert retention.confirmation(storage, TENANT, submission.submission_id) is not None


def test_the_documented_confirmation_follows_the_schema() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs"
    text = (docs / "contract.md").read_text(encoding="utf-8")
    section = text[text.index("## Confirming storage") :]
    block = section[
        section.index("```json") + 7 : section.index("```", section.index("```json") + 7)
    ]
    example = json.loads(block)
    contract.validate_confirmation(example)
    assert example["message_id"] == contract.confirmation_message_id_for(example["submission_id"])
    asyncapi = (docs / "asyncapi.yaml").read_text(encoding="utf-8")
    assert "../briefkasten/contract/receipt-v1.schema.json" in asyncapi
    assert "name: briefkasten.receipts" in asyncapi

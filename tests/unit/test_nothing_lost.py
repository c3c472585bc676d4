"""Nothing lost: a broker outage at upload, the client's retry, concurrent retries, the
reconciler, and no status left at ``processing``.

Distributed tests run against the real RabbitMQ (this run's vhost) and SeaweedFS; the gateway
whose broker is "away" is configured with a loopback port nobody listens on, its retry reaches a
gateway whose broker works (as behind a load balancer after the outage). Reconciler tests run on
file storage and on SeaweedFS with the embedded journal; ``now`` is passed, nobody waits.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_nothing_lost.py``, ``tests/e2e/test_nothing_lost.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData

from briefkasten.broker import open_job_queue
from briefkasten.broker.local import LocalJobQueue
from briefkasten.broker.outbox import Outbox
from briefkasten.config import Settings
from briefkasten.errors import RequestInProgress, UnsupportedType
from briefkasten.gateway.idempotency import KeyLocks
from briefkasten.housekeeping.reconcile import ORPHAN, STUCK, Reconciler, reconcile
from briefkasten.intake import IncomingDocument, IncomingFile, Intake
from briefkasten.storage import layout, open_storage
from briefkasten.storage.base import Storage
from briefkasten.worker import Worker, start_housekeeping
from tests.integration.test_failures import (
    TENANT,
)
from tests.integration.test_service import AUTH, CASE, Client, service_settings, small_page
from tests.support.gateway import GatewayClient
from tests.support.rabbit import rabbit_url, rabbit_vhost  # noqa: F401  (pytest fixtures)

# -- helpers ----------------------------------------------------------------------------------


def form(*pages: bytes) -> FormData:
    data = FormData()
    data.add_field("case_number", CASE)
    data.add_field("document_type", "kontoauszug")
    for number, page in enumerate(pages):
        data.add_field("file", page, filename=f"seite{number}.png")
    return data


async def post(client: Client, key: str, *pages: bytes) -> tuple[int, dict[str, Any]]:
    headers = {**AUTH, "Idempotency-Key": key}
    response = await client.post("/api/v1/submissions", data=form(*pages), headers=headers)
    body: dict[str, Any] = await response.json()
    return response.status, body


def manifests(storage: Storage) -> list[str]:
    prefix = layout.submissions_prefix(TENANT)
    return sorted(k.split("/")[2] for k in storage.list(prefix) if k.endswith("/manifest.json"))


def status_of(storage: Storage, submission_id: str) -> dict[str, Any] | None:
    key = layout.status_key(TENANT, submission_id)
    if not storage.exists(key):
        return None
    data: dict[str, Any] = json.loads(storage.get_bytes(key))
    return data


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- a broker outage at upload, then the client's retry ---------------------------------------


# -- one key, two concurrent requests ---------------------------------------------------------


async def test_two_concurrent_requests_with_one_key_make_one_submission(
    tmp_path: Path,
    settings: Settings,
    gateway_client: GatewayClient,
) -> None:
    settings = service_settings(settings, tmp_path)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir)
    client = await gateway_client(settings, storage=storage, jobs=jobs)
    pages = [small_page(f"Blatt {n}") for n in range(6)]

    answers = await asyncio.gather(*(post(client, "double-tap", *pages) for _ in range(2)))

    assert [status for status, _ in answers] == [202, 202]
    assert answers[0][1] == answers[1][1]
    assert manifests(storage) == [answers[0][1]["submission_id"]]
    assert jobs.pending_count() == 1
    originals = [k for k in storage.list(f"{TENANT}/") if "/originals/" in k]
    assert len(originals) == len(pages)


async def test_a_file_name_with_invalid_utf8_leaves_no_orphan(
    tmp_path: Path,
    settings: Settings,
    gateway_client: GatewayClient,
) -> None:
    settings = service_settings(settings, tmp_path)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    client = await gateway_client(
        settings, storage=storage, jobs=LocalJobQueue(settings.broker.journal_dir)
    )
    part = b'Content-Disposition: form-data; name="%s"%s\r\n'
    body = b"".join(
        [
            b"--B\r\n" + part % (b"case_number", b"") + b"\r\n" + CASE.encode() + b"\r\n",
            b"--B\r\n" + part % (b"document_type", b"") + b"\r\nkontoauszug\r\n",
            b"--B\r\n" + part % (b"file", b'; filename="Kontoauszug \xff\xfe.png"'),
            b"Content-Type: image/png\r\n\r\n" + small_page("Mai") + b"\r\n--B--\r\n",
        ]
    )
    headers = {**AUTH, "Content-Type": "multipart/form-data; boundary=B"}

    response = await client.post("/api/v1/submissions", data=body, headers=headers)

    # accepted (with the name repaired) or refused: either way nothing without a manifest
    owned = set(manifests(storage))
    for key in storage.list(f"{TENANT}/"):
        if "/originals/" in key:
            assert key.split("/")[2] in owned, (response.status, key)
        if "/hashes/" in key:
            assert json.loads(storage.get_bytes(key))["submission_id"] in owned, response.status


async def test_a_request_waits_for_the_one_with_its_key_bounded() -> None:
    locks = KeyLocks(wait_s=0.2)
    order: list[str] = []

    async def first() -> None:
        async with locks.hold("t\nk"):
            order.append("first")
            await asyncio.sleep(0.05)

    async def second() -> None:
        await asyncio.sleep(0)  # let the first take the lock
        async with locks.hold("t\nk"):
            order.append("second")

    await asyncio.gather(first(), second())
    assert order == ["first", "second"] and len(locks) == 0

    async with locks.hold("t\nk"):
        with pytest.raises(RequestInProgress):
            async with locks.hold("t\nk"):
                pass
        async with locks.hold("t\nother"):  # another key does not wait
            pass
    assert len(locks) == 0


# -- the reconciler ---------------------------------------------------------------------------


def storage_of_kind(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """``file`` (a directory) or ``s3`` (the SeaweedFS of the integration tests)."""
    if kind == "file":
        return open_storage((tmp_path / "storage").absolute().as_uri())
    return open_storage(request.getfixturevalue("s3_url"))


@pytest.fixture(params=["file"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """Files here; tests/integration/test_nothing_lost.py runs these tests on S3 as well."""
    return storage_of_kind(request.param, request, tmp_path)


def incoming(tmp_path: Path, data: bytes, name: str, media_type: str = "image/png") -> IncomingFile:
    path = tmp_path / f"spool-{sha(data)[:12]}-{len(list(tmp_path.iterdir()))}"
    path.write_bytes(data)
    return IncomingFile(path, name, sha(data), len(data), media_type, 1)


def run_embedded_worker(settings: Settings, storage: Storage) -> int:
    queue = open_job_queue(settings)  # the embedded journal, with the configured retry delays
    return Worker(settings, storage, queue, threading.Event()).run(idle_timeout=2.0)


def test_every_worker_runs_a_reconciler(tmp_path: Path, settings: Settings) -> None:
    settings = service_settings(settings, tmp_path)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    outbox = Outbox(settings.broker.outbox_dir)
    journal = LocalJobQueue(tmp_path / "journal")
    off = dataclasses.replace(settings.reconcile, interval_s=0)
    tasks = start_housekeeping(settings, storage, outbox, journal)
    tasks_off = start_housekeeping(dataclasses.replace(settings, reconcile=off), storage, outbox)
    for task in tasks + tasks_off:
        task.stop()
    assert [type(t) for t in tasks if isinstance(t, Reconciler)] == [Reconciler]
    assert not any(isinstance(t, Reconciler) for t in tasks_off)


def crashed_intake(storage: Storage, data: bytes, submission_id: str, started: datetime) -> str:
    """What a gateway that died while storing leaves: intake.json, an original, its marker."""
    key = layout.original_key(TENANT, CASE, submission_id, "f" * 32, "image/png")
    storage.put_bytes(key, data, content_type="image/png")
    marker = {"file_id": "f" * 32, "submission_id": submission_id}
    put_json(storage, layout.hash_marker_key(TENANT, CASE, sha(data)), marker)
    intake = {"state": "storing", "case_number": CASE, "started_at": started.isoformat()}
    put_json(storage, layout.intake_key(TENANT, submission_id), intake)
    return key


def put_json(storage: Storage, key: str, data: dict[str, Any]) -> None:
    storage.put_bytes(key, json.dumps(data).encode(), content_type="application/json")


def test_originals_without_manifest_are_deleted_after_the_grace_not_before(
    tmp_path: Path, settings: Settings, storage: Storage
) -> None:
    settings = service_settings(settings, tmp_path)
    journal = LocalJobQueue(settings.broker.journal_dir)
    kept_page = small_page("bleibt")
    document = IncomingDocument("sonstiges", (incoming(tmp_path, kept_page, "a.png"),))
    complete = Intake(storage, journal).receive(TENANT, CASE, [document])
    started = datetime.now(UTC)
    orphan_id = "0d" * 16
    original = crashed_intake(storage, b"\x89PNG orphan bytes", orphan_id, started)
    marker = layout.hash_marker_key(TENANT, CASE, sha(b"\x89PNG orphan bytes"))
    grace = timedelta(seconds=settings.reconcile.orphan_grace_s)

    early = reconcile(storage, settings, journal, now=started + grace - timedelta(minutes=1))
    assert early.repairs == [] and storage.exists(original) and storage.exists(marker)
    late = started + grace + timedelta(minutes=1)
    dry = reconcile(storage, settings, journal, now=late, dry_run=True)
    assert [r.reason for r in dry.repairs] == [ORPHAN] and storage.exists(original)

    report = reconcile(storage, settings, journal, now=late)

    assert [(r.submission_id, r.reason, r.objects) for r in report.repairs] == [
        (orphan_id, ORPHAN, 1)
    ]
    assert not storage.exists(original) and not storage.exists(marker)
    assert not storage.exists(layout.intake_key(TENANT, orphan_id))
    kept = complete.documents[0].files[0]  # the complete submission is untouched
    assert storage.exists(kept.key)
    assert storage.exists(layout.hash_marker_key(TENANT, CASE, kept.sha256))
    assert manifests(storage) == [complete.submission_id]


def test_an_intake_that_fails_while_storing_leaves_no_orphan(
    tmp_path: Path, settings: Settings, storage: Storage
) -> None:
    page = small_page("erste Datei")
    files = (
        incoming(tmp_path, page, "gut.png"),
        incoming(tmp_path, b"plain text", "x.txt", media_type="text/plain"),
    )
    journal = LocalJobQueue(tmp_path / "journal")
    with pytest.raises(UnsupportedType):
        Intake(storage, journal).receive(TENANT, CASE, [IncomingDocument("sonstiges", files)])
    assert storage.list(f"{TENANT}/") == []  # the first original and its marker are gone
    assert journal.pending_count() == 0


def test_a_submission_stuck_in_processing_is_queued_again_once(
    tmp_path: Path, settings: Settings, storage: Storage
) -> None:
    settings = service_settings(settings, tmp_path)
    journal = LocalJobQueue(settings.broker.journal_dir)
    document = IncomingDocument("sonstiges", (incoming(tmp_path, small_page("x"), "x.png"),))
    submission = Intake(storage, journal).receive(TENANT, CASE, [document])
    assert journal.claim() is not None  # a worker took it …
    body = status_of_processing(submission.submission_id, datetime.now(UTC))
    put_json(storage, layout.status_key(TENANT, submission.submission_id), body)  # … and died
    stuck = timedelta(seconds=settings.reconcile.stuck_after_s)
    now = datetime.now(UTC)

    assert reconcile(storage, settings, journal, now=now + stuck / 2).repairs == []
    report = reconcile(storage, settings, journal, now=now + stuck + timedelta(minutes=1))
    assert [r.reason for r in report.repairs] == [STUCK]
    assert journal.pending_count() == 1
    # not again in the next rounds: it was queued again just now
    assert reconcile(storage, settings, journal, now=now + stuck * 1.5).repairs == []


def status_of_processing(submission_id: str, when: datetime) -> dict[str, Any]:
    return {
        "submission_id": submission_id,
        "status": "processing",
        "received_at": when.isoformat(),
        "updated_at": when.isoformat(),
        "documents": [],
    }


# -- no status stays "processing" -------------------------------------------------------------


def upload_then_lose_the_original(tmp_path: Path, storage: Storage, jobs: Any) -> str:
    document = IncomingDocument("sonstiges", (incoming(tmp_path, small_page("weg"), "w.png"),))
    submission = Intake(storage, jobs).receive(TENANT, CASE, [document])
    storage.delete(submission.documents[0].files[0].key)  # e.g. removed by hand
    return submission.submission_id


def test_a_dead_lettered_job_leaves_status_failed_in_the_journal(
    tmp_path: Path, settings: Settings
) -> None:
    settings = service_settings(settings, tmp_path)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    journal = LocalJobQueue(settings.broker.journal_dir)
    submission_id = upload_then_lose_the_original(tmp_path, storage, journal)

    assert run_embedded_worker(settings, storage) == 1

    assert len(journal.dead_jobs()) == 1
    status = status_of(storage, submission_id) or {}
    assert (status["status"], status["reason"]) == ("failed", "not_found")
    assert "w.png" not in json.dumps(status)


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    before = {t.name for t in threading.enumerate()}
    yield
    left = {t.name for t in threading.enumerate()} - before
    assert not {n for n in left if n in ("reconcile", "retention")}, left


def broken_journal(directory: Path) -> LocalJobQueue:
    """An embedded journal whose disk fails (its ``pending/`` is gone): ``enqueue`` raises."""
    journal = LocalJobQueue(directory)
    (directory / "pending").rmdir()
    return journal

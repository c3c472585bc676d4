"""Nothing lost: a broker outage at upload, the client's retry, concurrent retries, the
reconciler, and no status left at ``processing``.

Distributed tests run against the real RabbitMQ (this run's vhost) and SeaweedFS; the gateway
whose broker is "away" is configured with a loopback port nobody listens on, its retry reaches a
gateway whose broker works (as behind a load balancer after the outage). Reconciler tests run on
file storage and on SeaweedFS with the embedded journal; ``now`` is passed, nobody waits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData

from briefkasten import contract
from briefkasten.broker.local import LocalJobQueue
from briefkasten.broker.outbox import Outbox
from briefkasten.broker.rabbitmq import RabbitJobQueue
from briefkasten.config import Settings
from briefkasten.errors import BrokerError, RequestInProgress, UnsupportedType
from briefkasten.gateway import create_app
from briefkasten.gateway.idempotency import KeyLocks
from briefkasten.housekeeping.reconcile import NEVER_QUEUED, ORPHAN, STUCK, Reconciler, reconcile
from briefkasten.intake import IncomingDocument, IncomingFile, Intake
from briefkasten.storage import layout, open_storage
from briefkasten.storage.base import Storage
from briefkasten.worker import Worker, job_queue, start_housekeeping
from tests.rabbit import rabbit_url, rabbit_vhost  # noqa: F401  (pytest fixtures)
from tests.test_failures import (
    TENANT,
    case_system,
    collect,
    distributed_settings,
    queue_depth,
    wait_for,
    workers_running,
)
from tests.test_service import AUTH, CASE, Client, service_settings, small_page

# -- helpers ----------------------------------------------------------------------------------


def dead_port() -> int:
    """A loopback port nobody listens on (bound, then closed again)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def broker_away(settings: Settings) -> Settings:
    """The same settings, with the AMQP URL pointing at a dead loopback port."""
    vhost = settings.broker.amqp_url.rpartition("/")[2]
    url = f"amqp://guest:guest@127.0.0.1:{dead_port()}/{vhost}"
    return dataclasses.replace(settings, broker=dataclasses.replace(settings.broker, amqp_url=url))


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


def delivered(storage: Storage, submission_id: str) -> bool:
    return (status_of(storage, submission_id) or {}).get("status") == "delivered"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- a broker outage at upload, then the client's retry ---------------------------------------


async def test_broker_away_at_upload_and_the_retry_delivers_exactly_once(
    tmp_path: Path,
    settings: Settings,
    rabbit_url: str,  # noqa: F811
    s3_url: str,
    aiohttp_client: Callable[..., Awaitable[Client]],
) -> None:
    settings = distributed_settings(settings, tmp_path, rabbit_url, s3_url)
    storage = open_storage(s3_url)
    subscriber = case_system(settings)
    pages = (small_page("Kontoauszug Mai"), small_page("Kontoauszug Juni"))
    away, back = job_queue(broker_away(settings)), job_queue(settings)
    try:
        down = await aiohttp_client(create_app(settings, storage=storage, jobs=away))
        status, body = await post(down, "phone-7", *pages)
        assert status == 503, body
        assert body["error"]["code"] == "broker_unavailable"
        (stored,) = manifests(storage)  # the originals and manifest are kept …
        assert status_of(storage, stored) is None
        assert queue_depth(settings) == (0, 0)  # … but no job exists yet

        up = await aiohttp_client(create_app(settings, storage=storage, jobs=back))
        status, body = await post(up, "phone-7", *pages)  # the documented retry
        assert status == 202, body
        assert body["submission_id"] == stored  # the first upload, not a second one
        assert manifests(storage) == [stored]
        assert queue_depth(settings) == (1, 0)
        status, again = await post(up, "phone-7", *pages)  # a third try: the same receipt
        assert (status, again) == (202, body)
        assert queue_depth(settings) == (1, 0)

        with workers_running(settings, storage):
            expected = {contract.message_id_for(stored)}
            received = await asyncio.to_thread(collect, subscriber, expected)
            await asyncio.to_thread(wait_for, lambda: delivered(storage, stored), "the status")
            # the reconciler, a day later, finds nothing to queue again
            later = datetime.now(UTC) + timedelta(days=1)
            report = await asyncio.to_thread(
                reconcile, storage, settings, back, now=later, tenants=[TENANT]
            )
            assert report.repairs == []
            received += await asyncio.to_thread(collect, subscriber, set(), 3.0)
    finally:
        for queue in (away, back):
            assert isinstance(queue, RabbitJobQueue)
            queue.close()
        subscriber.close()

    assert [m.message_id for m in received] == [contract.message_id_for(stored)]  # once
    message = json.loads(received[0].body)
    (document,) = message["documents"]
    assert [o["sha256"] for o in document["originals"]] == [sha(p) for p in pages]
    for original in document["originals"]:
        assert sha(storage.get_bytes(original["key"])) == original["sha256"]
    assert sha(storage.get_bytes(document["pdf"]["key"])) == document["pdf"]["sha256"]
    assert (status_of(storage, stored) or {})["status"] == "delivered"
    assert queue_depth(settings) == (0, 0)


async def test_a_retry_after_the_reconciler_queued_it_adds_no_second_job(
    tmp_path: Path,
    settings: Settings,
    rabbit_url: str,  # noqa: F811
    s3_url: str,
    aiohttp_client: Callable[..., Awaitable[Client]],
) -> None:
    settings = distributed_settings(settings, tmp_path, rabbit_url, s3_url)
    storage = open_storage(s3_url)
    away, back = job_queue(broker_away(settings)), job_queue(settings)
    try:
        down = await aiohttp_client(create_app(settings, storage=storage, jobs=away))
        assert (await post(down, "tablet-3", small_page("Mietvertrag")))[0] == 503
        (stored,) = manifests(storage)
        soon = datetime.now(UTC) + timedelta(seconds=10)
        assert reconcile(storage, settings, back, now=soon, tenants=[TENANT]).repairs == []
        later = datetime.now(UTC) + timedelta(seconds=settings.reconcile.requeue_after_s + 1)
        report = reconcile(storage, settings, back, now=later, tenants=[TENANT])
        assert [(r.submission_id, r.reason) for r in report.repairs] == [(stored, NEVER_QUEUED)]
        assert queue_depth(settings) == (1, 0)

        up = await aiohttp_client(create_app(settings, storage=storage, jobs=back))
        status, body = await post(up, "tablet-3", small_page("Mietvertrag"))
        assert (status, body["submission_id"]) == (202, stored)
        assert queue_depth(settings) == (1, 0)  # already queued: not a second job
    finally:
        for queue in (away, back):
            assert isinstance(queue, RabbitJobQueue)
            queue.close()


# -- one key, two concurrent requests ---------------------------------------------------------


async def test_two_concurrent_requests_with_one_key_make_one_submission(
    tmp_path: Path,
    settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
) -> None:
    settings = service_settings(settings, tmp_path)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    jobs = LocalJobQueue(settings.broker.journal_dir)
    client = await aiohttp_client(create_app(settings, storage=storage, jobs=jobs))
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
    aiohttp_client: Callable[..., Awaitable[Client]],
) -> None:
    settings = service_settings(settings, tmp_path)
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    client = await aiohttp_client(
        create_app(settings, storage=storage, jobs=LocalJobQueue(settings.broker.journal_dir))
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


@pytest.fixture(params=["file", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "file":
        return open_storage((tmp_path / "storage").absolute().as_uri())
    return open_storage(request.getfixturevalue("s3_url"))


def broken_journal(directory: Path) -> LocalJobQueue:
    """An embedded journal whose disk fails (its ``pending/`` is gone): ``enqueue`` raises."""
    journal = LocalJobQueue(directory)
    (directory / "pending").rmdir()
    return journal


def incoming(tmp_path: Path, data: bytes, name: str, media_type: str = "image/png") -> IncomingFile:
    path = tmp_path / f"spool-{sha(data)[:12]}-{len(list(tmp_path.iterdir()))}"
    path.write_bytes(data)
    return IncomingFile(path, name, sha(data), len(data), media_type, 1)


def run_embedded_worker(settings: Settings, storage: Storage) -> int:
    queue = job_queue(settings)  # the embedded journal, with the configured retry delays
    return Worker(settings, storage, queue, threading.Event()).run(idle_timeout=2.0)


def test_a_manifest_without_job_is_queued_again_and_delivered(
    tmp_path: Path, settings: Settings, storage: Storage
) -> None:
    settings = service_settings(settings, tmp_path)
    page = small_page("Lohnabrechnung")
    document = IncomingDocument("lohnabrechnung", (incoming(tmp_path, page, "lohn.png"),))
    with pytest.raises(BrokerError):
        Intake(storage, broken_journal(tmp_path / "broken")).receive(TENANT, CASE, [document])
    (stored,) = manifests(storage)
    journal = LocalJobQueue(settings.broker.journal_dir)
    now = datetime.now(UTC)

    young = reconcile(storage, settings, journal, now=now + timedelta(seconds=60))
    assert young.repairs == [] and journal.pending_count() == 0
    due = now + timedelta(seconds=settings.reconcile.requeue_after_s + 5)
    dry = reconcile(storage, settings, journal, now=due, dry_run=True)
    assert [r.reason for r in dry.repairs] == [NEVER_QUEUED] and journal.pending_count() == 0
    report = reconcile(storage, settings, journal, now=due)
    assert [(r.submission_id, r.reason) for r in report.repairs] == [(stored, NEVER_QUEUED)]
    assert reconcile(storage, settings, journal, now=due).repairs == []  # marked queued

    assert run_embedded_worker(settings, storage) == 1
    assert (status_of(storage, stored) or {})["status"] == "delivered"
    (entry,) = Outbox(settings.broker.outbox_dir).pending()
    assert entry.message.message_id == contract.message_id_for(stored)
    assert reconcile(storage, settings, journal, now=due + timedelta(days=1)).repairs == []


def test_reconcile_run_cli(tmp_path: Path, settings: Settings, cli: Callable[..., Any]) -> None:
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    document = IncomingDocument("sonstiges", (incoming(tmp_path, small_page("cli"), "c.png"),))
    with pytest.raises(BrokerError):
        Intake(storage, broken_journal(tmp_path / "broken")).receive(TENANT, CASE, [document])
    (stored,) = manifests(storage)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")}
    env = {
        **clean,
        "BRIEFKASTEN_STORAGE": (tmp_path / "storage").as_uri(),
        "BRIEFKASTEN_API_KEYS": f"{TENANT}:{'k' * 20}",
        "BRIEFKASTEN_BROKER_JOURNAL_DIR": str(tmp_path / "journal"),
        "BRIEFKASTEN_RECONCILE_REQUEUE_AFTER_S": "0",
    }
    journal = LocalJobQueue(tmp_path / "journal")

    dry = cli("reconcile", "run", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout == f"would queue {TENANT} {stored}  {NEVER_QUEUED}\n"
    assert journal.pending_count() == 0
    done = cli("reconcile", "run", env=env)
    assert done.returncode == 0 and done.stdout == f"queued {TENANT} {stored}  {NEVER_QUEUED}\n"
    assert journal.pending_count() == 1
    assert cli("reconcile", "run", env=env).stdout == ""  # queued now: nothing to repair


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


def test_a_running_embedded_worker_repairs_by_itself(
    tmp_path: Path, settings: Settings, storage: Storage
) -> None:
    settings = service_settings(settings, tmp_path)
    fast = dataclasses.replace(settings.reconcile, interval_s=0.2, requeue_after_s=0)
    settings = dataclasses.replace(settings, reconcile=fast)
    document = IncomingDocument("sonstiges", (incoming(tmp_path, small_page("y"), "y.png"),))
    with pytest.raises(BrokerError):
        Intake(storage, broken_journal(tmp_path / "broken")).receive(TENANT, CASE, [document])
    (stored,) = manifests(storage)
    stop = threading.Event()
    worker = Worker(settings, storage, job_queue(settings), stop)  # as ``serve`` runs it
    thread = threading.Thread(target=worker.run, name="test-embedded-worker", daemon=True)
    thread.start()
    try:
        wait_for(lambda: delivered(storage, stored), "the reconciled submission", 90)
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()
    assert len(Outbox(settings.broker.outbox_dir).pending()) == 1


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


def test_a_dead_lettered_job_leaves_status_failed_with_rabbitmq(
    tmp_path: Path,
    settings: Settings,
    rabbit_url: str,  # noqa: F811
    s3_url: str,
) -> None:
    settings = distributed_settings(settings, tmp_path, rabbit_url, s3_url)
    storage = open_storage(s3_url)
    jobs = job_queue(settings)
    try:
        submission_id = upload_then_lose_the_original(tmp_path, storage, jobs)
    finally:
        assert isinstance(jobs, RabbitJobQueue)
        jobs.close()

    queue = job_queue(settings)
    Worker(settings, storage, queue, threading.Event()).run(idle_timeout=2.0)

    assert queue_depth(settings) == (0, 1)
    status = status_of(storage, submission_id) or {}
    assert (status["status"], status["reason"]) == ("failed", "not_found")


def test_a_job_waiting_for_its_retry_is_not_shown_as_processing(
    tmp_path: Path, settings: Settings
) -> None:
    settings = service_settings(settings, tmp_path)
    settings = dataclasses.replace(
        settings,
        ocr=dataclasses.replace(settings.ocr, lang="xqz"),  # not installed: a tool failure
        broker=dataclasses.replace(settings.broker, retry_delay=600.0),
    )
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    journal = LocalJobQueue(settings.broker.journal_dir)
    document = IncomingDocument("sonstiges", (incoming(tmp_path, small_page("x"), "x.png"),))
    submission = Intake(storage, journal).receive(TENANT, CASE, [document])

    assert run_embedded_worker(settings, storage) == 0  # attempt 0 failed, retry not yet due

    assert journal.pending_count() == 1
    assert (status_of(storage, submission.submission_id) or {})["status"] == "received"


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    before = {t.name for t in threading.enumerate()}
    yield
    left = {t.name for t in threading.enumerate()} - before
    assert not {n for n in left if n in ("reconcile", "retention")}, left

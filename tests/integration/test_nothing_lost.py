"""Nothing lost: a broker outage at upload, the client's retry, concurrent retries, the
reconciler, and no status left at ``processing``.

Distributed tests run against the real RabbitMQ (this run's vhost) and SeaweedFS; the gateway
whose broker is "away" is configured with a loopback port nobody listens on, its retry reaches a
gateway whose broker works (as behind a load balancer after the outage). Reconciler tests run on
file storage and on SeaweedFS with the embedded journal; ``now`` is passed, nobody waits.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_nothing_lost.py``,
``tests/e2e/test_nothing_lost.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from briefkasten import contract
from briefkasten.broker import open_job_queue
from briefkasten.broker.local import LocalJobQueue
from briefkasten.broker.outbox import Outbox
from briefkasten.broker.rabbitmq import RabbitJobQueue
from briefkasten.config import Settings
from briefkasten.errors import BrokerError
from briefkasten.housekeeping.reconcile import NEVER_QUEUED, reconcile
from briefkasten.intake import IncomingDocument, Intake
from briefkasten.storage import open_storage
from briefkasten.storage.base import Storage
from briefkasten.worker import Worker
from tests.integration.test_failures import (
    DEADLINE,
    TENANT,
    case_system,
    collect,
    distributed_settings,
    queue_depth,
    wait_for,
    workers_running,
)
from tests.integration.test_service import CASE, service_settings, small_page
from tests.support.gateway import GatewayClient
from tests.support.rabbit import rabbit_url, rabbit_vhost  # noqa: F401  (pytest fixtures)
from tests.unit.test_nothing_lost import (  # noqa: F401  (run here on S3 as well)
    broken_journal,
    incoming,
    manifests,
    post,
    run_embedded_worker,
    sha,
    status_of,
    storage_of_kind,
    test_a_submission_stuck_in_processing_is_queued_again_once,
    test_an_intake_that_fails_while_storing_leaves_no_orphan,
    test_originals_without_manifest_are_deleted_after_the_grace_not_before,
    upload_then_lose_the_original,
)


@pytest.fixture(params=["file", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    return storage_of_kind(request.param, request, tmp_path)


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


def delivered(storage: Storage, submission_id: str) -> bool:
    return (status_of(storage, submission_id) or {}).get("status") == "delivered"


async def test_broker_away_at_upload_and_the_retry_delivers_exactly_once(
    tmp_path: Path,
    settings: Settings,
    rabbit_url: str,  # noqa: F811
    s3_url: str,
    gateway_client: GatewayClient,
) -> None:
    settings = distributed_settings(settings, tmp_path, rabbit_url, s3_url)
    storage = open_storage(s3_url)
    subscriber = case_system(settings)
    pages = (small_page("Kontoauszug Mai"), small_page("Kontoauszug Juni"))
    away, back = open_job_queue(broker_away(settings)), open_job_queue(settings)
    try:
        down = await gateway_client(settings, storage=storage, jobs=away)
        status, body = await post(down, "phone-7", *pages)
        assert status == 503, body
        assert body["error"]["code"] == "broker_unavailable"
        (stored,) = manifests(storage)  # the originals and manifest are kept …
        assert status_of(storage, stored) is None
        assert queue_depth(settings) == (0, 0)  # … but no job exists yet

        up = await gateway_client(settings, storage=storage, jobs=back)
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
            await asyncio.to_thread(
                wait_for, lambda: delivered(storage, stored), "the status", DEADLINE
            )
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
    gateway_client: GatewayClient,
) -> None:
    settings = distributed_settings(settings, tmp_path, rabbit_url, s3_url)
    storage = open_storage(s3_url)
    away, back = open_job_queue(broker_away(settings)), open_job_queue(settings)
    try:
        down = await gateway_client(settings, storage=storage, jobs=away)
        assert (await post(down, "tablet-3", small_page("Mietvertrag")))[0] == 503
        (stored,) = manifests(storage)
        soon = datetime.now(UTC) + timedelta(seconds=10)
        assert reconcile(storage, settings, back, now=soon, tenants=[TENANT]).repairs == []
        later = datetime.now(UTC) + timedelta(seconds=settings.reconcile.requeue_after_s + 1)
        report = reconcile(storage, settings, back, now=later, tenants=[TENANT])
        assert [(r.submission_id, r.reason) for r in report.repairs] == [(stored, NEVER_QUEUED)]
        assert queue_depth(settings) == (1, 0)

        up = await gateway_client(settings, storage=storage, jobs=back)
        status, body = await post(up, "tablet-3", small_page("Mietvertrag"))
        assert (status, body["submission_id"]) == (202, stored)
        assert queue_depth(settings) == (1, 0)  # already queued: not a second job
    finally:
        for queue in (away, back):
            assert isinstance(queue, RabbitJobQueue)
            queue.close()


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
    worker = Worker(settings, storage, open_job_queue(settings), stop)  # as ``serve`` runs it
    thread = threading.Thread(target=worker.run, name="test-embedded-worker", daemon=True)
    thread.start()
    try:
        wait_for(lambda: delivered(storage, stored), "the reconciled submission", 90)
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()
    assert len(Outbox(settings.broker.outbox_dir).pending()) == 1


def test_a_dead_lettered_job_leaves_status_failed_with_rabbitmq(
    tmp_path: Path,
    settings: Settings,
    rabbit_url: str,  # noqa: F811
    s3_url: str,
) -> None:
    settings = distributed_settings(settings, tmp_path, rabbit_url, s3_url)
    storage = open_storage(s3_url)
    jobs = open_job_queue(settings)
    try:
        submission_id = upload_then_lose_the_original(tmp_path, storage, jobs)
    finally:
        assert isinstance(jobs, RabbitJobQueue)
        jobs.close()

    queue = open_job_queue(settings)
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

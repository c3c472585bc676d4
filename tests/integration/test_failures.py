"""Failure tests against the real servers: load, a RabbitMQ outage, a killed worker, S3 away.

Each test wires the service as ``test_service`` does (the gateway through ``aiohttp_client``,
SeaweedFS for storage, RabbitMQ for jobs and messages), with exchange and queues of its own in
this run's vhost. A case system's queue is declared before anything is published, and the
tests then collect from it until every expected ``message_id`` has arrived, within a deadline.
Every wait is bounded; workers, subprocesses and stopped servers are cleaned up in ``finally``.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/e2e/test_failures.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from briefkasten import contract
from briefkasten.broker import open_job_queue
from briefkasten.broker.base import Job
from briefkasten.broker.local import LocalJobQueue
from briefkasten.broker.rabbitmq import RabbitJobQueue
from briefkasten.broker.subscriber import RabbitSubscriber, ReceivedMessage
from briefkasten.config import Settings
from briefkasten.errors import BriefkastenError, BrokerError, StorageError
from briefkasten.storage import layout, open_storage
from briefkasten.storage.base import Storage
from briefkasten.worker import Worker
from tests.integration.test_service import service_settings, small_page, upload
from tests.support.env import wait_for
from tests.support.gateway import GatewayClient
from tests.support.rabbit import broker_stopped, unique
from tests.support.servers import S3Server

TENANT = "jc-test"
DEADLINE = 90.0


# -- wiring ---------------------------------------------------------------------------------


def distributed_settings(
    settings: Settings, tmp_path: Path, amqp_url: str, s3_url: str, **broker: Any
) -> Settings:
    settings = service_settings(
        settings,
        tmp_path,
        amqp_url=amqp_url,
        exchange=unique("documents"),
        work_queue=unique("jobs"),
        **broker,
    )
    return dataclasses.replace(settings, storage=dataclasses.replace(settings.storage, url=s3_url))


def case_system(settings: Settings) -> RabbitSubscriber:
    """The case software's queue, bound before anything is published."""
    subscriber = RabbitSubscriber(
        settings.broker.amqp_url,
        settings.broker.exchange,
        unique("case-system"),
        bindings=(f"{TENANT}.#",),
    )
    subscriber.declare()
    subscriber.close()  # the connection belongs to this thread; ``collect`` opens its own
    return subscriber


def collect(
    subscriber: RabbitSubscriber, expected: set[str], timeout: float = DEADLINE
) -> list[ReceivedMessage]:
    """Consume until every ``expected`` message id arrived (or the deadline); all messages seen.

    Survives the broker being away (it reconnects); duplicates (at-least-once) are returned too.
    """
    received: list[ReceivedMessage] = []
    done = threading.Event()

    def keep(message: ReceivedMessage) -> None:
        contract.validate(json.loads(message.body))
        received.append(message)
        if expected <= {m.message_id for m in received}:
            done.set()

    deadline = time.monotonic() + timeout
    while not done.is_set() and time.monotonic() < deadline:
        try:
            subscriber.consume(keep, stop_event=done, idle_timeout=1.0)
        except BrokerError:
            time.sleep(0.5)
    subscriber.close()
    return received


@contextlib.contextmanager
def workers_running(settings: Settings, storage: Storage, count: int = 1) -> Iterator[None]:
    """``count`` workers (one queue each: pika stays in its thread) until the block ends."""
    stop = threading.Event()
    threads = []
    for number in range(count):
        worker = Worker(settings, storage, open_job_queue(settings), stop)
        thread = threading.Thread(target=worker.run, name=f"test-worker-{number}", daemon=True)
        thread.start()
        threads.append(thread)
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert not any(t.is_alive() for t in threads), "a worker did not stop"


def status(storage: Storage, submission_id: str) -> str | None:
    try:
        data = json.loads(storage.get_bytes(layout.status_key(TENANT, submission_id)))
    except BriefkastenError:
        return None
    value: str = data["status"]
    return value


def queue_depth(settings: Settings) -> tuple[int, int]:
    jobs = open_job_queue(settings)
    assert isinstance(jobs, RabbitJobQueue)
    try:
        return jobs.depth()
    finally:
        jobs.close()


def message_ids(submission_ids: list[str]) -> set[str]:
    return {contract.message_id_for(s) for s in submission_ids}


def assert_pdfs_match(storage: Storage, messages: list[ReceivedMessage]) -> None:
    for message in messages:
        for document in json.loads(message.body)["documents"]:
            assert not document["normalisation_failed"], document.get("failure_reason")
            pdf = storage.get_bytes(document["pdf"]["key"])
            assert hashlib.sha256(pdf).hexdigest() == document["pdf"]["sha256"]
            assert len(pdf) == document["pdf"]["size"]


# -- the tests ------------------------------------------------------------------------------


async def test_fifty_concurrent_submissions_become_fifty_messages(
    tmp_path: Path,
    settings: Settings,
    rabbit_url: str,
    s3_url: str,
    gateway_client: GatewayClient,
) -> None:
    settings = distributed_settings(settings, tmp_path, rabbit_url, s3_url)
    storage = open_storage(s3_url)
    subscriber = case_system(settings)
    jobs = open_job_queue(settings)
    try:
        client = await gateway_client(settings, storage=storage, jobs=jobs)
        page = small_page("Antrag")
        submission_ids = await asyncio.gather(*(upload(client, page) for _ in range(50)))
        assert len(set(submission_ids)) == 50
        assert queue_depth(settings) == (50, 0)  # every job is durable before the 202

        with workers_running(settings, storage, count=2):
            received = await asyncio.to_thread(collect, subscriber, message_ids(submission_ids))
    finally:
        jobs.close()
        subscriber.close()

    assert {m.message_id for m in received} == message_ids(submission_ids)
    assert queue_depth(settings) == (0, 0)
    assert {status(storage, s) for s in submission_ids} == {"delivered"}
    assert_pdfs_match(storage, received[:3])


async def test_every_message_arrives_when_rabbitmq_stops_during_processing(
    tmp_path: Path,
    settings: Settings,
    rabbit_vhost: str,  # not rabbit_url: its shared lock would block broker_stopped
    s3_url: str,
    gateway_client: GatewayClient,
) -> None:
    settings = distributed_settings(settings, tmp_path, rabbit_vhost, s3_url)
    storage = open_storage(s3_url)
    subscriber = case_system(settings)  # its durable queue collects through the outage
    jobs = open_job_queue(settings)
    try:
        client = await gateway_client(settings, storage=storage, jobs=jobs)
        pages = [small_page(f"Blatt {n}") for n in range(10)]
        submission_ids = [await upload(client, page, page) for page in pages]
    finally:
        jobs.close()

    def outage() -> list[ReceivedMessage]:
        with workers_running(settings, storage):
            wait_for(
                lambda: any(status(storage, s) != "received" for s in submission_ids),
                "the worker to start",
                DEADLINE,
            )
            with broker_stopped():  # the worker loses its connection mid-job
                time.sleep(2.0)
            return collect(subscriber, message_ids(submission_ids))

    received = await asyncio.to_thread(outage)

    assert {m.message_id for m in received} == message_ids(submission_ids)
    assert {status(storage, s) for s in submission_ids} == {"delivered"}
    assert queue_depth(settings) == (0, 0)  # nothing dead-lettered
    assert_pdfs_match(storage, received)


class _Failures(logging.Handler):
    """Counts 'job … attempt N failed' warnings of the work queue (any thread)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.reasons.append(record.getMessage())


async def test_jobs_wait_and_retry_while_s3_is_unavailable(
    tmp_path: Path,
    settings: Settings,
    rabbit_url: str,
    s3_server: S3Server,
    s3_url: str,
    gateway_client: GatewayClient,
) -> None:
    # Retries back off (0.5 s, 1 s, 2 s, then every 3 s): ten attempts span ~20 s of outage.
    settings = distributed_settings(
        settings,
        tmp_path,
        rabbit_url,
        s3_url,
        max_attempts=10,
        retry_delay=0.5,
        retry_max_delay=3.0,
    )
    storage = open_storage(s3_url)
    subscriber = case_system(settings)
    jobs = open_job_queue(settings)
    try:
        client = await gateway_client(settings, storage=storage, jobs=jobs)
        submission_id = await upload(client, small_page("Nachweis"), small_page("Anlage"))
    finally:
        jobs.close()
    failures = _Failures()
    queue_log = logging.getLogger("briefkasten.rabbitmq")
    queue_log.addHandler(failures)

    def outage() -> list[ReceivedMessage]:
        s3_server.stop()
        try:
            with workers_running(settings, storage):
                try:
                    wait_for(lambda: len(failures.reasons) >= 2, "two failed attempts", 30)
                    assert queue_depth(settings)[1] == 0  # retried, not dead-lettered
                finally:
                    s3_server.start()
                return collect(subscriber, message_ids([submission_id]))
        finally:
            s3_server.start()

    try:
        received = await asyncio.to_thread(outage)
    finally:
        queue_log.removeHandler(failures)
        subscriber.close()

    # Logged by error code and message, never the error's source (it may be a file name).
    assert all("failed (retry): storage_unavailable: " in r for r in failures.reasons), (
        failures.reasons
    )
    assert {m.message_id for m in received} == message_ids([submission_id])
    assert status(storage, submission_id) == "delivered"
    assert queue_depth(settings) == (0, 0)
    assert_pdfs_match(storage, received)


@pytest.fixture(autouse=True)
def _s3_back(s3_server: S3Server) -> Iterator[None]:
    """Whatever happened, S3 runs again for the next test of this process."""
    yield
    s3_server.start()


def test_the_embedded_journal_also_waits_before_a_retry(tmp_path: Path) -> None:
    """Same backoff without RabbitMQ: a retried job is not claimable until its delay is over."""
    journal = LocalJobQueue(
        tmp_path / "journal", max_attempts=3, job_retry_delay=2.0, job_retry_max_delay=2.0
    )
    journal.enqueue(Job("j1", "s1", TENANT))
    seen: list[int] = []

    def handler(job: Job) -> None:
        seen.append(job.attempt)
        if job.attempt < 2:
            raise StorageError("S3 is away")

    stop = threading.Event()
    assert journal.consume(handler, stop_event=stop, idle_timeout=0.0) == 0
    assert seen == [0] and journal.pending_count() == 1  # retried, but not yet due
    assert journal.claim() is None
    wait_for(lambda: journal.consume(handler, idle_timeout=0.0) == 1, "the retries", 30)
    assert seen == [0, 1, 2] and journal.dead_jobs() == []

"""The pika adapters against the real RabbitMQ, in a vhost of this test run's own.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_rabbitmq.py``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pika
import pytest

from briefkasten import contract
from briefkasten.broker.base import Job, OutboundMessage
from briefkasten.broker.outbox import Outbox, OutboxFlusher
from briefkasten.broker.rabbitmq import (
    ATTEMPTS_HEADER,
    REASON_HEADER,
    RabbitJobQueue,
    RabbitPublisher,
)
from briefkasten.broker.subscriber import RabbitSubscriber, ReceivedMessage
from briefkasten.errors import CorruptJob, InvalidRequest, MessageUnroutable, StorageError
from tests.support import rabbit
from tests.support.env import wait_for
from tests.support.rabbit import rabbit_url, rabbit_vhost  # noqa: F401  (pytest fixtures)


class Tap:
    """A plain pika consumer queue bound to an exchange, to see what really arrived."""

    def __init__(self, url: str, exchange: str, binding: str, *, kind: str = "topic") -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(exchange, exchange_type=kind, durable=True)
        self.queue = rabbit.unique("tap")
        self.channel.queue_declare(self.queue, durable=True)
        self.channel.queue_bind(self.queue, exchange, binding)

    def take(self, count: int, timeout: float = 20.0) -> list[tuple[Any, bytes]]:
        got: list[tuple[Any, bytes]] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.connection.sleep(0.05)
                continue
            got.append((properties, body))
        return got

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def tap_factory(rabbit_url: str) -> Iterator[Callable[..., Tap]]:  # noqa: F811
    taps: list[Tap] = []

    def make(exchange: str, binding: str, kind: str = "topic") -> Tap:
        taps.append(Tap(rabbit_url, exchange, binding, kind=kind))
        return taps[-1]

    yield make
    for tap in taps:
        tap.close()


def outbound(n: int, tenant: str = "jc") -> OutboundMessage:
    message_id = contract.message_id_for(f"submission-{n}")
    body = json.dumps({"message_id": message_id, "n": n}).encode()
    headers = {"schema_version": contract.SCHEMA_VERSION}
    return OutboundMessage(
        message_id, f"{tenant}.kontoauszug", body, headers, message_type=contract.MESSAGE_TYPE
    )


def without_type(message: OutboundMessage) -> dict[str, Any]:
    data = message.to_json()
    del data["message_type"]
    return data


def test_publish_is_confirmed_persistent_and_carries_its_headers(
    rabbit_url: str,  # noqa: F811
    tap_factory: Callable[..., Tap],
) -> None:
    exchange = rabbit.unique("documents")
    tap = tap_factory(exchange, "jc.#")
    publisher = RabbitPublisher(rabbit_url, exchange)
    try:
        publisher.publish(outbound(1))
        # one written to the outbox before the type was set (no "message_type" in its file)
        publisher.publish(OutboundMessage.from_json(without_type(outbound(2))))
        publisher.check()
    finally:
        publisher.close()
    [(properties, body), (older, _)] = tap.take(2)
    assert older.type is None and older.message_id == contract.message_id_for("submission-2")
    assert json.loads(body)["n"] == 1
    assert properties.message_id == contract.message_id_for("submission-1")
    assert properties.delivery_mode == 2
    assert properties.content_type == "application/json"
    assert properties.headers == {"schema_version": contract.SCHEMA_VERSION}
    assert properties.type == contract.MESSAGE_TYPE == "briefkasten.submission.v1"  # AsyncAPI
    assert properties.app_id == "briefkasten" and properties.content_encoding == "utf-8"


def test_unroutable_message_is_an_error_not_a_silent_drop(
    rabbit_url: str,  # noqa: F811
    tap_factory: Callable[..., Tap],
) -> None:
    exchange = rabbit.unique("documents")
    tap_factory(exchange, "other-tenant.#")
    publisher = RabbitPublisher(rabbit_url, exchange)
    try:
        with pytest.raises(MessageUnroutable):
            publisher.publish(outbound(1))
        publisher.publish(outbound(2, tenant="other-tenant"))  # the channel is still usable
    finally:
        publisher.close()


class Recorder:
    """A job handler that fails as told and records every attempt."""

    def __init__(self, failures: dict[str, Callable[[Job], None]] | None = None) -> None:
        self.seen: list[tuple[str, int]] = []
        self.failures = failures or {}
        self.thread_names: set[str] = set()

    def __call__(self, job: Job) -> None:
        self.seen.append((job.job_id, job.attempt))
        self.thread_names.add(threading.current_thread().name)
        fail = self.failures.get(job.job_id)
        if fail is not None:
            fail(job)

    def attempts(self, job_id: str) -> list[int]:
        return [a for j, a in self.seen if j == job_id]


def dead_letters(url: str, queue: str) -> dict[str, tuple[str, int]]:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        found = {}
        while True:
            method, properties, body = channel.basic_get(f"{queue}.dead", auto_ack=True)
            if method is None:
                return found
            headers = properties.headers or {}
            try:
                key = Job.from_bytes(body).job_id
            except CorruptJob:
                key = body.decode()
            found[key] = (
                str(headers[REASON_HEADER]),
                int(headers[ATTEMPTS_HEADER]),
            )
    finally:
        connection.close()


def test_job_queue_acks_retries_and_dead_letters(rabbit_url: str) -> None:  # noqa: F811
    def always_temporary(job: Job) -> None:
        raise StorageError("storage is away")

    def once_temporary(job: Job) -> None:
        if job.attempt == 0:
            raise StorageError("storage blinked")

    def permanent(job: Job) -> None:
        raise ValueError("manifest is broken")

    queue_name = rabbit.unique("jobs")
    jobs = RabbitJobQueue(rabbit_url, queue_name, max_attempts=3)
    handler = Recorder({"temp": always_temporary, "once": once_temporary, "perm": permanent})
    try:
        for job_id in ("ok", "temp", "once", "perm"):
            jobs.enqueue(Job(job_id, f"sub-{job_id}", "jc", 0))
        handled = jobs.consume(handler, idle_timeout=1.0)
        depth = jobs.depth()
    finally:
        jobs.close()
    assert handled == 4
    assert handler.attempts("ok") == [0]
    assert handler.attempts("temp") == [0, 1, 2]
    assert handler.attempts("once") == [0, 1]
    assert handler.attempts("perm") == [0]
    assert all(name.startswith("job") for name in handler.thread_names)  # off the pika thread
    assert depth == (0, 2)
    dead = dead_letters(rabbit_url, queue_name)
    assert set(dead) == {"temp", "perm"}
    assert "gave up after 3 attempt(s): storage is away" in dead["temp"][0]
    assert dead["temp"][1] == 3
    assert dead["perm"] == ("ValueError: manifest is broken", 1)


def test_garbage_and_redelivered_jobs(rabbit_url: str) -> None:  # noqa: F811
    queue_name = rabbit.unique("jobs")
    jobs = RabbitJobQueue(rabbit_url, queue_name, max_attempts=2)
    try:
        jobs.depth()  # declares the topology
        connection = pika.BlockingConnection(pika.URLParameters(rabbit_url))
        channel = connection.channel()
        channel.basic_publish("", queue_name, Job("crashy", "s1", "jc", 1).to_bytes())
        channel.basic_publish("", queue_name, Job("lost", "s2", "jc", 0).to_bytes())
        wait_for(lambda: jobs.depth()[0] == 2, "two jobs in the queue")
        # a worker takes both and dies before acking: they come back redelivered
        for _ in range(2):
            method, _props, _body = channel.basic_get(queue_name, auto_ack=False)
            assert method is not None
        connection.close()
        producer = pika.BlockingConnection(pika.URLParameters(rabbit_url))
        producer.channel().basic_publish("", queue_name, b"{garbage")
        producer.close()
        wait_for(lambda: jobs.depth()[0] == 3, "three jobs in the queue")
        handler = Recorder()
        handled = jobs.consume(handler, idle_timeout=1.0)
    finally:
        jobs.close()
    assert handled == 3
    assert handler.seen == [("lost", 1)]  # the lost attempt counts
    dead = dead_letters(rabbit_url, queue_name)
    assert set(dead) == {"crashy", "{garbage"}
    assert "worker lost" in dead["crashy"][0]
    assert "malformed job" in dead["{garbage"][0]


def test_consume_stops_on_event(rabbit_url: str) -> None:  # noqa: F811
    jobs = RabbitJobQueue(rabbit_url, rabbit.unique("jobs"))
    stop = threading.Event()
    handler = Recorder()
    thread = threading.Thread(target=jobs.consume, args=(handler,), kwargs={"stop_event": stop})
    thread.start()
    try:
        producer = RabbitJobQueue(rabbit_url, jobs.queue)
        producer.enqueue(Job("j1", "s1", "jc"))
        producer.close()
        wait_for(lambda: handler.seen == [("j1", 0)], "the handler to see j1")
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_messages_wait_in_the_outbox_while_rabbitmq_is_stopped(
    rabbit_vhost: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """stop_app while the flusher runs: everything stays pending, then all arrive."""
    exchange = rabbit.unique("documents")
    outbox = Outbox(tmp_path / "outbox")
    tap = Tap(rabbit_vhost, exchange, "jc.#")
    tap.close()  # the durable queue keeps collecting; we read it after the restart
    flusher = OutboxFlusher(
        outbox,
        lambda: RabbitPublisher(rabbit_vhost, exchange, retries=1, retry_delay=0.1),
        interval=0.1,
        min_backoff=0.1,
        max_backoff=1.0,
    ).start()
    try:
        outbox.add(outbound(0))
        flusher.flush_now()
        wait_for(lambda: not outbox.pending(), "an empty outbox")
        with rabbit.broker_stopped():
            for n in range(1, 11):
                outbox.add(outbound(n))
            flusher.flush_now()
            wait_for(lambda: flusher.failures >= 2, "two failed flushes")
            assert len(outbox.pending()) == 10
        wait_for(lambda: not outbox.pending(), "an empty outbox", timeout=60)
    finally:
        flusher.stop()
    assert not flusher.running
    reader = Tap(rabbit_vhost, exchange, "jc.#")
    reader.queue = tap.queue
    try:
        got = reader.take(11)
    finally:
        reader.close()
    ids = {properties.message_id for properties, _ in got}
    assert ids == {outbound(n).message_id for n in range(11)}


def test_subscriber_acks_requeues_and_rejects(rabbit_url: str) -> None:  # noqa: F811
    exchange = rabbit.unique("documents")
    subscriber = RabbitSubscriber(rabbit_url, exchange, rabbit.unique("case-system"))
    publisher = RabbitPublisher(rabbit_url, exchange)
    seen: list[tuple[int, bool]] = []

    def handler(message: ReceivedMessage) -> None:
        n = json.loads(message.body)["n"]
        seen.append((n, message.redelivered))
        assert message.headers == {"schema_version": contract.SCHEMA_VERSION}
        if n == 1 and not message.redelivered:
            raise StorageError("downloads are away for now")
        if n == 2:
            raise InvalidRequest("not our contract")

    try:
        subscriber.declare()
        for n in range(3):
            publisher.publish(outbound(n))
        acked = subscriber.consume(handler, idle_timeout=0.5, requeue_pause=0.05)
    finally:
        publisher.close()
        subscriber.close()
    assert acked == 2
    assert sorted(seen) == [(0, False), (1, False), (1, True), (2, False)]
    connection = pika.BlockingConnection(pika.URLParameters(rabbit_url))
    try:
        method, _props, body = connection.channel().basic_get(f"{subscriber.queue}.dead")
        assert method is not None
        assert json.loads(body)["n"] == 2
    finally:
        connection.close()

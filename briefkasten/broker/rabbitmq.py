"""RabbitMQ adapters (pika 1.x ``BlockingConnection``): the publisher and the work queue.

The connection itself (bounded timeouts, reconnecting calls) is ``broker.amqp.Link``.
Threads: a pika connection is not thread-safe. Each adapter opens its connection lazily in
the thread that first uses it and only that thread may touch it; used from another thread,
the adapter abandons the old connection and opens a new one there. Keep one adapter per
thread (the ``OutboxFlusher`` creates its publisher inside its own thread).

Failures: every pika or socket error becomes ``BrokerError`` (temporary) after a bounded
number of reconnecting retries; a queue or exchange declared with other arguments than ours is
a ``ConfigError``. ``mandatory=True`` makes a message that no queue is bound for an error
(``MessageUnroutable``): it stays in the outbox instead of vanishing in a topic exchange.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from briefkasten.broker.amqp import ATTEMPTS_HEADER, PERSISTENT, REASON_HEADER, Link, describe
from briefkasten.broker.base import (
    FailureHook,
    Handler,
    Job,
    OutboundMessage,
    backoff,
    failure_action,
    failure_code,
    log_reason,
    tell,
)
from briefkasten.errors import BrokerError

log = logging.getLogger("briefkasten.rabbitmq")
#: The code recorded when a job is buried because its workers kept disappearing.
WORKER_LOST = "worker_lost"

__all__ = [
    "ATTEMPTS_HEADER",
    "PERSISTENT",
    "REASON_HEADER",
    "WORKER_LOST",
    "RabbitJobQueue",
    "RabbitPublisher",
]


class RabbitPublisher:
    """Publishes outbound messages on a durable topic exchange with publisher confirms.

    ``publish`` returns once the broker confirmed the message (persisted for durable queues);
    it raises ``MessageUnroutable`` when ``mandatory`` and no queue is bound for the routing
    key, and ``BrokerError`` when the broker stays away through ``retries`` reconnects.
    """

    def __init__(
        self,
        url: str,
        exchange: str,
        *,
        mandatory: bool = True,
        retries: int = 2,
        retry_delay: float = 0.2,
    ) -> None:
        self.exchange = exchange
        self.mandatory = mandatory
        self._link = Link(url, self._declare, retries, retry_delay)

    def _declare(self, channel: BlockingChannel) -> None:
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)

    def publish(self, message: OutboundMessage) -> None:
        properties = pika.BasicProperties(
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=PERSISTENT,
            message_id=message.message_id,
            timestamp=int(time.time()),
            app_id="briefkasten",
            type=message.message_type or None,
            headers=dict(message.headers),
        )

        def send(channel: BlockingChannel) -> None:
            channel.basic_publish(
                self.exchange, message.routing_key, message.body, properties, self.mandatory
            )

        self._link.call(f"publishing message {message.message_id}", send)

    def check(self) -> None:
        """Raise ``BrokerError`` unless the broker answers (readiness probe)."""
        self._link.call("connecting to RabbitMQ", lambda channel: None)

    def close(self) -> None:
        self._link.reset()


class RabbitJobQueue:
    """A durable work queue with a dead-letter queue ``<queue>.dead`` (via exchange of that name).

    Jobs are persistent and confirmed. ``consume`` acks a job only after its handler returned.
    Retried jobs are republished with ``attempt + 1`` (then the old delivery is acked), so the
    count travels with the job; dead-lettered jobs are published to ``<queue>.dead`` with the
    reason in the ``x-briefkasten-reason`` header. A job that comes back *redelivered* (its
    worker died or lost the connection) counts as one failed attempt.

    Delayed retries: with ``retry_delay`` > 0 a retried job goes to the delay queue
    ``<queue>.retry`` (no consumers) with a per-message TTL of ``backoff(...)``; when it expires,
    RabbitMQ dead-letters it back into the work queue. The worker is free meanwhile, and an S3
    outage costs one attempt per delay instead of all attempts at once. (Per-message TTLs expire
    at the head of the queue only, so a short delay behind a long one waits up to
    ``retry_max_delay``: bounded, and simpler than a delayed-message plugin.)

    ``enqueue`` may be called from any thread (the gateway's executor calls it from several at
    once): it hands the publish to one dedicated thread that owns a connection of its own, and
    waits for the broker's confirm. ``consume`` and ``depth`` use the caller's thread.
    """

    def __init__(
        self,
        url: str,
        queue: str,
        *,
        max_attempts: int = 3,
        retries: int = 2,
        retry_delay: float = 0.2,
        job_retry_delay: float = 0.0,
        job_retry_max_delay: float = 300.0,
    ) -> None:
        self.queue = queue
        self.dead = f"{queue}.dead"
        self.delayed = f"{queue}.retry"
        self.max_attempts = max(1, max_attempts)
        self.job_retry_delay = job_retry_delay
        self.job_retry_max_delay = job_retry_max_delay
        self._link = Link(url, self._declare, retries, retry_delay)
        self._sender_link = Link(url, self._declare, retries, retry_delay)
        self._sender: concurrent.futures.ThreadPoolExecutor | None = None
        self._sender_lock = threading.Lock()
        self._on_failure: FailureHook | None = None

    def _declare(self, channel: BlockingChannel) -> None:
        channel.exchange_declare(self.dead, exchange_type="fanout", durable=True)
        channel.queue_declare(self.dead, durable=True)
        channel.queue_bind(self.dead, self.dead)
        arguments = {"x-dead-letter-exchange": self.dead}
        channel.queue_declare(self.queue, durable=True, arguments=arguments)
        back = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": self.queue}
        channel.queue_declare(self.delayed, durable=True, arguments=back)

    def enqueue(self, job: Job) -> None:
        """Publish ``job`` durably (confirmed) from the sender thread; safe from any thread."""
        with self._sender_lock:
            if self._sender is None:
                self._sender = concurrent.futures.ThreadPoolExecutor(
                    1, thread_name_prefix="amqp-enqueue"
                )
            sender = self._sender
        what = f"enqueueing job {job.job_id}"
        sender.submit(self._sender_link.call, what, lambda ch: self._put(ch, job)).result()

    def depth(self) -> tuple[int, int]:
        """How many jobs wait in the work queue and in the dead-letter queue."""

        def count(channel: BlockingChannel) -> tuple[int, int]:
            work = channel.queue_declare(self.queue, passive=True).method.message_count
            dead = channel.queue_declare(self.dead, passive=True).method.message_count
            return work, dead

        return self._link.call("counting jobs", count)

    def consume(
        self,
        handler: Handler,
        *,
        prefetch: int = 1,
        stop_event: threading.Event | None = None,
        idle_timeout: float | None = None,
        reconnect: bool = True,
        max_backoff: float = 5.0,
        on_failure: FailureHook | None = None,
    ) -> int:
        """Handle jobs until ``stop_event`` is set or no job came for ``idle_timeout`` s.

        The handler runs in a helper thread while this thread keeps the connection alive
        (heartbeats); only this thread touches pika. With ``reconnect`` a lost broker is
        waited for (bounded backoff, checking ``stop_event``); without, ``BrokerError``.
        ``on_failure`` is told of every retry and dead letter (after the broker has it).
        Returns how many jobs were finished (acked or dead-lettered).
        """
        stop = stop_event or threading.Event()
        self._on_failure = on_failure
        state = {"handled": 0, "idle_since": time.monotonic()}
        failures = 0
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="job") as executor:
            while not stop.is_set():
                try:
                    channel = self._link.call("connecting to the work queue", lambda ch: ch)
                    channel.basic_qos(prefetch_count=max(1, prefetch))
                    if self._drain(channel, handler, executor, stop, idle_timeout, state):
                        break
                    failures = 0
                except (pika.exceptions.AMQPError, OSError, BrokerError) as exc:
                    self._link.reset()
                    if not reconnect:
                        if isinstance(exc, BrokerError):
                            raise
                        raise BrokerError(f"consuming: {describe(exc)}", source="amqp") from exc
                    failures += 1
                    log.warning("work queue unavailable (%s); reconnecting", describe(exc))
                    stop.wait(min(max_backoff, 0.2 * 2 ** min(failures, 10)))
        self._link.reset()
        return int(state["handled"])

    def close(self) -> None:
        self._link.reset()
        with self._sender_lock:
            sender, self._sender = self._sender, None
        if sender is not None:
            sender.submit(self._sender_link.reset).result()
            sender.shutdown()

    def _drain(
        self,
        channel: BlockingChannel,
        handler: Handler,
        executor: concurrent.futures.Executor,
        stop: threading.Event,
        idle_timeout: float | None,
        state: dict[str, Any],
    ) -> bool:
        """Consume on ``channel``; True when done (idle or stopped), else the generator ended."""
        for method, _props, body in channel.consume(self.queue, inactivity_timeout=0.25):
            if method is None or body is None:
                idle = time.monotonic() - state["idle_since"]
                if stop.is_set() or (idle_timeout is not None and idle >= idle_timeout):
                    channel.cancel()
                    return True
                continue
            if self._handle(channel, method, body, handler, executor):
                state["handled"] += 1
            state["idle_since"] = time.monotonic()
            if stop.is_set():
                channel.cancel()
                return True
        return False

    def _handle(
        self,
        channel: BlockingChannel,
        method: Any,
        body: bytes,
        handler: Handler,
        executor: concurrent.futures.Executor,
    ) -> bool:
        """Run one delivery; True if the job is finished (done or dead), False if retried."""
        tag = method.delivery_tag
        try:
            job = Job.from_bytes(body)
        except Exception as exc:
            self._bury(channel, body, str(exc), 0)
            channel.basic_ack(tag)
            return True
        if method.redelivered:
            job = job.next_attempt()  # the worker that had it died or lost the connection
        if job.attempt >= self.max_attempts:
            reason = f"gave up after {job.attempt} attempt(s): worker lost during processing"
            self._bury(channel, body, reason, job.attempt)
            channel.basic_ack(tag)
            tell(self._on_failure, job, "dead", WORKER_LOST)
            return True
        future = executor.submit(handler, job)
        try:
            while not future.done():
                self._link.connection.process_data_events(time_limit=0.2)
        except BaseException:
            concurrent.futures.wait([future])  # never run two jobs at once
            raise
        error = future.exception()
        if error is None:
            channel.basic_ack(tag)
            return True
        action, reason = failure_action(error, job, self.max_attempts)
        log.warning(
            "job %s attempt %d failed (%s): %s",
            job.job_id,
            job.attempt,
            action,
            log_reason(error),
            extra={"job_id": job.job_id, "submission_id": job.submission_id, "tenant": job.tenant},
        )
        if action == "retry":
            delay = backoff(job, self.job_retry_delay, self.job_retry_max_delay)
            self._put(channel, job.next_attempt(), delay=delay)
        else:
            self._bury(channel, job.to_bytes(), reason, job.attempt + 1)
        channel.basic_ack(tag)
        tell(self._on_failure, job, action, failure_code(error))
        return action == "dead"

    def _put(self, channel: BlockingChannel, job: Job, *, delay: float = 0.0) -> None:
        """Publish ``job`` to the work queue, or after ``delay`` s via the delay queue."""
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=PERSISTENT,
            message_id=f"{job.job_id}.{job.attempt}",
            headers={ATTEMPTS_HEADER: job.attempt},
            expiration=str(max(1, round(delay * 1000))) if delay > 0 else None,
        )
        queue = self.delayed if delay > 0 else self.queue
        channel.basic_publish("", queue, job.to_bytes(), properties, mandatory=True)

    def _bury(self, channel: BlockingChannel, body: bytes, reason: str, attempts: int) -> None:
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=PERSISTENT,
            headers={REASON_HEADER: reason[:500], ATTEMPTS_HEADER: attempts},
        )
        channel.basic_publish(self.dead, "", body, properties, mandatory=True)

"""The consuming side of the contract, for ``briefkasten consume`` (the reference consumer).

``RabbitSubscriber`` declares the durable topic exchange, a durable queue with a dead-letter
queue ``<queue>.dead`` and the bindings (``<tenant>.#`` by default ``#``), then hands each
message to a handler in a helper thread (the pika connection stays in the calling thread).
Ack after the handler returned; a ``TemporaryFailure`` puts the message back (after a short,
bounded pause); any other error rejects it to the dead-letter queue.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from briefkasten.broker.amqp import Link, describe
from briefkasten.broker.base import failure_reason
from briefkasten.errors import BrokerError, TemporaryFailure

log = logging.getLogger("briefkasten.subscriber")


@dataclass(frozen=True)
class ReceivedMessage:
    """A message as delivered: AMQP properties that matter, and the raw JSON body."""

    message_id: str | None
    routing_key: str
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)
    redelivered: bool = False


class RabbitSubscriber:
    """Consumes announcements from ``exchange`` into the durable queue ``queue``."""

    def __init__(
        self,
        url: str,
        exchange: str,
        queue: str,
        *,
        bindings: Sequence[str] = ("#",),
        retries: int = 2,
    ) -> None:
        self.exchange = exchange
        self.queue = queue
        self.bindings = tuple(bindings)
        self._link = Link(url, self._declare, retries, 0.2)

    def _declare(self, channel: BlockingChannel) -> None:
        dead = f"{self.queue}.dead"
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        channel.exchange_declare(dead, exchange_type="fanout", durable=True)
        channel.queue_declare(dead, durable=True)
        channel.queue_bind(dead, dead)
        channel.queue_declare(self.queue, durable=True, arguments={"x-dead-letter-exchange": dead})
        for binding in self.bindings:
            channel.queue_bind(self.queue, self.exchange, binding)

    def declare(self) -> None:
        """Declare exchange, queues and bindings now (so publishing can start)."""
        self._link.call("declaring the subscriber queue", lambda channel: None)

    def consume(
        self,
        handler: Callable[[ReceivedMessage], None],
        *,
        prefetch: int = 1,
        stop_event: threading.Event | None = None,
        idle_timeout: float | None = None,
        max_messages: int | None = None,
        requeue_pause: float = 1.0,
    ) -> int:
        """Handle messages until stopped, idle for ``idle_timeout`` s or ``max_messages`` acked.

        Returns how many messages were acked. Raises ``BrokerError`` if the broker is lost.
        """
        stop = stop_event or threading.Event()
        acked = 0
        idle_since = time.monotonic()
        try:
            channel = self._link.call("connecting to the subscriber queue", lambda ch: ch)
            channel.basic_qos(prefetch_count=max(1, prefetch))
            with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="msg") as pool:
                for method, props, body in channel.consume(self.queue, inactivity_timeout=0.25):
                    if method is None or body is None:
                        idle = time.monotonic() - idle_since
                        if stop.is_set() or (idle_timeout is not None and idle >= idle_timeout):
                            break
                        continue
                    message = ReceivedMessage(
                        message_id=props.message_id,
                        routing_key=method.routing_key,
                        body=body,
                        headers=dict(props.headers or {}),
                        redelivered=bool(method.redelivered),
                    )
                    future = pool.submit(handler, message)
                    while not future.done():
                        self._link.connection.process_data_events(time_limit=0.2)
                    error = future.exception()
                    if error is None:
                        channel.basic_ack(method.delivery_tag)
                        acked += 1
                    elif isinstance(error, TemporaryFailure):
                        log.warning("message %s: %s; requeued", message.message_id, error)
                        stop.wait(requeue_pause)
                        channel.basic_nack(method.delivery_tag, requeue=True)
                    else:
                        reason = failure_reason(error)
                        log.error("message %s rejected: %s", message.message_id, reason)
                        channel.basic_nack(method.delivery_tag, requeue=False)
                    idle_since = time.monotonic()
                    if stop.is_set() or (max_messages is not None and acked >= max_messages):
                        break
                channel.cancel()
        except (pika.exceptions.AMQPError, OSError) as exc:
            self._link.reset()
            raise BrokerError(f"consuming messages: {describe(exc)}", source="amqp") from exc
        return acked

    def close(self) -> None:
        self._link.reset()

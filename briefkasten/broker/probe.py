"""Cheap, bounded looks at RabbitMQ for ``/readyz`` and the metrics: connect, count, close.

Every call opens a short-lived connection of its own (so it is safe from any thread, pika
connections never cross threads) with small timeouts, and closes it again. Queue depths come
from passive ``queue_declare`` calls: they never create a queue; one that does not exist yet
counts as empty.
"""

from __future__ import annotations

import contextlib

import pika
import pika.exceptions

from briefkasten.broker.amqp import parameters
from briefkasten.errors import BrokerError

NOT_FOUND = 404


def queue_depths(url: str, queues: tuple[str, ...], *, timeout: float = 2.0) -> dict[str, int]:
    """How many messages wait in each of ``queues``; ``BrokerError`` if RabbitMQ does not answer.

    With no ``queues`` this is a plain connection check.
    """
    params = parameters(url)
    params.connection_attempts = 1
    params.socket_timeout = timeout
    params.stack_timeout = timeout * 2
    params.blocked_connection_timeout = timeout
    try:
        connection = pika.BlockingConnection(params)
    except (pika.exceptions.AMQPError, OSError) as exc:
        raise BrokerError(f"RabbitMQ does not answer: {type(exc).__name__}", source="amqp") from exc
    depths: dict[str, int] = {}
    try:
        for queue in queues:
            channel = connection.channel()
            try:
                declared = channel.queue_declare(queue, passive=True)
                depths[queue] = int(declared.method.message_count)
            except pika.exceptions.ChannelClosedByBroker as exc:
                if exc.reply_code != NOT_FOUND:
                    raise
                depths[queue] = 0
            else:
                channel.close()
    except (pika.exceptions.AMQPError, OSError) as exc:
        raise BrokerError(f"counting queues failed: {type(exc).__name__}", source="amqp") from exc
    finally:
        with contextlib.suppress(pika.exceptions.AMQPError, OSError):
            if connection.is_open:
                connection.close()
    return depths

"""The AMQP connection under every RabbitMQ adapter (pika 1.x ``BlockingConnection``).

``parameters`` fills our small, bounded timeouts into an AMQP URL; ``Link`` is one connection
with a confirm-mode channel, owned by one thread, whose ``call`` reconnects a bounded number of
times and turns every pika or socket error into ``BrokerError`` (temporary), a queue or
exchange declared with other arguments than ours into ``ConfigError``, and an unroutable
mandatory message into ``MessageUnroutable``. Used by ``rabbitmq`` (publisher, work queue),
``dead_letters`` and ``probe``; nothing outside ``briefkasten.broker`` imports pika.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from briefkasten.errors import BrokerError, ConfigError, MessageUnroutable

log = logging.getLogger("briefkasten.rabbitmq")
T = TypeVar("T")

#: Small, bounded connection settings; a value given in the URL's query string wins.
DEFAULTS: dict[str, float] = {
    "connection_attempts": 1,
    "retry_delay": 0.5,
    "socket_timeout": 5.0,
    "stack_timeout": 10.0,
    "blocked_connection_timeout": 30.0,
}
PERSISTENT = 2
#: Headers of a dead-lettered job: why it died, and after how many attempts.
REASON_HEADER = "x-briefkasten-reason"
ATTEMPTS_HEADER = "x-briefkasten-attempts"


def parameters(url: str) -> pika.URLParameters:
    """``pika.URLParameters`` for ``url`` with our bounded timeouts filled in."""
    try:
        params = pika.URLParameters(url)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"invalid AMQP URL: {exc}") from exc
    given = parse_qs(urlsplit(url).query)
    for name, value in DEFAULTS.items():
        if name not in given:
            setattr(params, name, type(getattr(params, name) or value)(value))
    return params


class Link:
    """One connection + confirm-mode channel, owned by one thread, with retrying calls."""

    def __init__(
        self, url: str, setup: Callable[[BlockingChannel], None], retries: int, delay: float
    ) -> None:
        self._params = parameters(url)
        self._setup = setup
        self._retries = retries
        self._delay = delay
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._owner: int | None = None

    def channel(self) -> BlockingChannel:
        if self._owner is not None and self._owner != threading.get_ident():
            log.warning("AMQP connection used from a new thread; opening another one there")
            self._connection = self._channel = None
        if self._channel is None or not self._channel.is_open:
            self.reset()
            self._connection = pika.BlockingConnection(self._params)
            self._owner = threading.get_ident()
            channel = self._connection.channel()
            channel.confirm_delivery()
            self._setup(channel)
            self._channel = channel
        return self._channel

    @property
    def connection(self) -> pika.BlockingConnection:
        assert self._connection is not None
        return self._connection

    def call(self, what: str, action: Callable[[BlockingChannel], T]) -> T:
        """Run ``action`` on the channel, reconnecting up to ``retries`` times."""
        last: Exception | None = None
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(min(self._delay * 2 ** (attempt - 1), 5.0))
            try:
                return action(self.channel())
            except pika.exceptions.UnroutableError as exc:
                raise MessageUnroutable(f"{what}: no queue is bound for it", source="amqp") from exc
            except pika.exceptions.ChannelClosedByBroker as exc:
                self.reset()
                if exc.reply_code in (403, 404, 406):
                    raise ConfigError(f"{what}: {exc.reply_text}", source="amqp") from exc
                last = exc
            except (pika.exceptions.AMQPError, OSError) as exc:
                self.reset()
                last = exc
        raise BrokerError(f"{what} failed: {describe(last)}", source="amqp") from last

    def reset(self) -> None:
        """Close (if this thread owns it) and forget the connection."""
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and self._owner == threading.get_ident():
            try:
                if connection.is_open:
                    connection.close()
            except (pika.exceptions.AMQPError, OSError):
                pass
        self._owner = None


def describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    text = str(exc) or repr(exc)
    return f"{type(exc).__name__}: {text}"[:300]

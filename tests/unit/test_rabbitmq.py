"""The pika adapters against the real RabbitMQ, in a vhost of this test run's own.

The unit tier's part (no servers, no external programs); the other parts:
``tests/integration/test_rabbitmq.py``.
"""

from __future__ import annotations

import pytest

from briefkasten.broker.rabbitmq import (
    RabbitPublisher,
)
from briefkasten.errors import BrokerError
from tests.integration.test_rabbitmq import (
    outbound,
)
from tests.support.rabbit import rabbit_url, rabbit_vhost  # noqa: F401  (pytest fixtures)


def test_unreachable_broker_gives_broker_error_after_bounded_retries() -> None:
    publisher = RabbitPublisher("amqp://guest:guest@127.0.0.1:1/", "x", retries=1)
    with pytest.raises(BrokerError, match="publishing message"):
        publisher.publish(outbound(1))

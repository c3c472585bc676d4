"""The reference consumer's saving step: validate, download, verify SHA-256, save, idempotent.

The e2e tier's part (processes: serve, worker, the CLI, the browser); the other parts:
``tests/unit/test_consumer.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from briefkasten import contract
from briefkasten.broker.base import OutboundMessage
from briefkasten.broker.rabbitmq import RabbitPublisher
from briefkasten.broker.subscriber import RabbitSubscriber
from briefkasten.storage import open_storage
from tests.support.rabbit import unique
from tests.unit.test_consumer import (
    DOCUMENT,
    SUBMISSION,
    announce,
)


def test_briefkasten_consume_saves_what_rabbitmq_delivers(tmp_path: Path, rabbit_url: str) -> None:
    storage = open_storage((tmp_path / "storage").absolute().as_uri())
    received = announce(storage)
    exchange, queue = unique("documents"), unique("case-system")
    subscriber = RabbitSubscriber(rabbit_url, exchange, queue, bindings=("jc-test.#",))
    subscriber.declare()  # the case system's queue exists before anything is published
    subscriber.close()
    publisher = RabbitPublisher(rabbit_url, exchange)
    publisher.publish(
        OutboundMessage(
            received.message_id or "",
            received.routing_key,
            received.body,
            {"schema_version": contract.SCHEMA_VERSION},
        )
    )
    publisher.close()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BRIEFKASTEN_")},
        "BRIEFKASTEN_AMQP_URL": rabbit_url,
        "BRIEFKASTEN_BROKER_EXCHANGE": exchange,
        "BRIEFKASTEN_STORAGE": (tmp_path / "storage").absolute().as_uri(),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "briefkasten",
            "consume",
            "--queue",
            queue,
            "--binding",
            "jc-test.#",
            "--into",
            str(tmp_path / "inbox"),
            "--max-messages",
            "1",
            "--idle-timeout",
            "30",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "inbox" / "jc-test" / "12345BG0012345" / SUBMISSION
    assert (folder / "message.json").read_bytes() == received.body
    assert (folder / f"kontoauszug-{DOCUMENT}.pdf").read_bytes() == b"%PDF-1.7 ..."

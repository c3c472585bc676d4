"""Deletion after hand-over: confirmations (API and the receipts exchange) and the sweep.

The sweep runs with an injected ``now``, against memory, file and S3 storage (SeaweedFS);
confirmations over RabbitMQ use a vhost of this run's own.

The integration tier's part (real servers and programs (RabbitMQ, SeaweedFS, Tesseract, clamd,
...) or heavy computations); the other parts: ``tests/unit/test_retention.py``,
``tests/e2e/test_retention.py``.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pika

from briefkasten.broker.base import OutboundMessage
from briefkasten.broker.rabbitmq import RabbitPublisher
from briefkasten.broker.subscriber import RabbitSubscriber
from briefkasten.cli.consume import save_and_confirm
from briefkasten.config import Settings
from briefkasten.housekeeping import retention
from briefkasten.housekeeping.confirmations import ConfirmationListener, confirmation_message
from briefkasten.model import Submission
from briefkasten.storage import layout, open_storage
from tests.support.env import wait_for
from tests.support.rabbit import unique
from tests.unit import test_retention as unit_retention
from tests.unit.test_consumer import SUBMISSION, announce
from tests.unit.test_retention import (
    CASE,
    TENANT,
    gone,
    make_storage,
    receive,
    received_at,
    status,
)

settings = unit_retention.settings  # the fixture, shared with tests/unit/test_retention.py


def test_sweep_against_s3(s3_url: str, tmp_path: Path, settings: Settings) -> None:
    storage = open_storage(s3_url)
    kept = receive(storage, tmp_path, b"s3 kept")
    confirmed = receive(storage, tmp_path, b"s3 confirmed")
    start = received_at(confirmed)
    retention.confirm(storage, settings, TENANT, confirmed.submission_id, via="api", now=start)
    report = retention.sweep(storage, settings, now=start + timedelta(days=8))
    assert [d.submission_id for d in report.deleted] == [confirmed.submission_id]
    assert gone(storage, confirmed) and not gone(storage, kept)
    assert status(storage, confirmed)["status"] == "deleted"


def confirmation_settings(settings: Settings, url: str) -> Settings:
    broker = dataclasses.replace(
        settings.broker,
        amqp_url=url,
        confirmations_exchange=unique("receipts"),
        confirmations_queue=unique("receipts-q"),
    )
    return dataclasses.replace(settings, broker=broker)


def dead_count(url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        declared = connection.channel().queue_declare(f"{queue}.dead", passive=True)
        return int(declared.method.message_count)
    finally:
        connection.close()


def test_confirm_over_the_receipts_exchange(
    rabbit_url: str, tmp_path: Path, settings: Settings
) -> None:
    settings = confirmation_settings(settings, rabbit_url)
    broker = settings.broker
    storage = make_storage("file", tmp_path)
    submission = receive(storage, tmp_path, b"amqp")
    # the reference consumer's submission (objects from test_consumer), with a manifest
    message = announce(storage)
    manifest = Submission(SUBMISSION, TENANT, CASE, "2026-11-24T10:00:00+00:00", "upload", ())
    storage.put_bytes(
        layout.manifest_key(TENANT, SUBMISSION),
        json.dumps(manifest.to_json()).encode(),
        content_type="application/json",
    )
    RabbitSubscriber(
        rabbit_url, broker.confirmations_exchange, broker.confirmations_queue
    ).declare()
    listener = ConfirmationListener(storage, settings).start()
    publisher = RabbitPublisher(rabbit_url, broker.confirmations_exchange)
    try:
        publisher.publish(confirmation_message(TENANT, submission.submission_id))
        # consume --ack: save, verify, then confirm on the receipts exchange
        save_and_confirm(message, storage, tmp_path / "into", publisher)
        wait_for(
            lambda: retention.confirmation(storage, TENANT, SUBMISSION) is not None,
            "the confirmation of the first submission",
        )
        wait_for(
            lambda: retention.confirmation(storage, TENANT, submission.submission_id) is not None,
            "the confirmation of the second submission",
        )
        # a foreign routing key, an unknown submission, garbage: dead-lettered, not recorded
        body = json.loads(confirmation_message(TENANT, "c" * 32).body)
        publisher.publish(OutboundMessage("x1", "jc-other", json.dumps(body).encode()))
        publisher.publish(OutboundMessage("x2", TENANT, json.dumps(body).encode()))
        publisher.publish(OutboundMessage("x3", TENANT, b"not json"))
        wait_for(
            lambda: dead_count(rabbit_url, broker.confirmations_queue) == 3,
            "three dead-lettered receipts",
        )
    finally:
        publisher.close()
        listener.stop()
    assert (tmp_path / "into" / TENANT / CASE / SUBMISSION / "message.json").exists()
    recorded = retention.confirmation(storage, TENANT, submission.submission_id)
    assert recorded is not None and recorded["via"] == "amqp"
    assert retention.confirmation(storage, TENANT, "c" * 32) is None

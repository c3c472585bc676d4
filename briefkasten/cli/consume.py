"""The reference consumer for case-software developers (``briefkasten consume``).

For each announcement: validate it against the contract, download the PDFs (or, where
normalisation failed, the originals) and the texts from storage, verify every SHA-256, save
them under ``INTO/<tenant>/<case_number>/<submission_id>/`` with the message beside them, and
only then acknowledge. Saving is idempotent by ``message_id``, so redelivered messages are
harmless. A hash mismatch is not retried: the message goes to the dead-letter queue. With
``--ack`` the consumer then sends a confirmation message ("stored in the e-file") on the
exchange ``broker.confirmations_exchange`` (``briefkasten.receipts``; ``save_and_confirm``),
which starts the submission's deletion grace period; a failed confirmation puts the message
back, and the redelivery confirms again (saving is idempotent).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from briefkasten import contract
from briefkasten.broker import distributed, open_publisher
from briefkasten.broker.base import Publisher
from briefkasten.broker.subscriber import RabbitSubscriber, ReceivedMessage
from briefkasten.cli.startup import setup_logs
from briefkasten.config import Settings
from briefkasten.errors import ConfigError, ProcessingError
from briefkasten.housekeeping.confirmations import confirmation_message
from briefkasten.storage import open_storage_for
from briefkasten.storage.base import Storage
from briefkasten.storage.records import sha256_file

log = logging.getLogger("briefkasten")


def consume(args: argparse.Namespace, settings: Settings) -> int:
    """``briefkasten consume --queue Q --into DIR [--ack] …``: save announced submissions."""
    if not distributed(settings):
        raise ConfigError("consume needs RabbitMQ: set BRIEFKASTEN_AMQP_URL")
    setup_logs(args, settings)
    storage = open_storage_for(settings)
    subscriber = RabbitSubscriber(
        settings.broker.amqp_url,
        settings.broker.exchange,
        args.queue,
        bindings=tuple(args.binding or ["#"]),
    )
    exchange = settings.broker.confirmations_exchange
    confirmations = open_publisher(settings, exchange) if args.ack else None
    try:
        count = subscriber.consume(
            # The folder is tenant/case/submission: log the submission id, not the case number.
            lambda m: log.info(
                "saved submission %s", save_and_confirm(m, storage, args.into, confirmations).name
            ),
            max_messages=args.max_messages,
            idle_timeout=args.idle_timeout,
        )
    finally:
        subscriber.close()
        if confirmations is not None:
            confirmations.close()
    log.info("consumed %d message(s)", count)
    return 0


def save_message(message: ReceivedMessage, storage: Storage, into: Path) -> Path:
    """Validate, download, verify and save one message; return its folder."""
    data: dict[str, Any] = json.loads(message.body)
    contract.validate(data)
    folder: Path = into / data["tenant"] / data["case_number"] / data["submission_id"]
    done = folder / "message.json"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for document in data["documents"]:
        stem = f"{document['document_type']}-{document['document_id']}"
        objects = [(f"{stem}.pdf", document["pdf"]), (f"{stem}.txt", document["text"])]
        if document["normalisation_failed"]:
            objects += [
                (f"{stem}-original-{number}-{Path(o['key']).name}", o)
                for number, o in enumerate(document["originals"])
            ]
        for name, stored in objects:
            if stored is not None:
                _download_verified(storage, stored, folder / name)
    part = done.with_suffix(".part")
    part.write_bytes(message.body)
    part.replace(done)
    return folder


def save_and_confirm(
    message: ReceivedMessage, storage: Storage, into: Path, publisher: Publisher | None
) -> Path:
    """``save_message``, then (with a ``publisher`` on the confirmations exchange) confirm that
    it is stored."""
    folder = save_message(message, storage, into)
    if publisher is not None:
        data = json.loads(message.body)
        publisher.publish(confirmation_message(data["tenant"], data["submission_id"]))
    return folder


def _download_verified(storage: Storage, stored: dict[str, Any], target: Path) -> None:
    part = target.with_name(target.name + ".part")
    storage.get_file(stored["key"], part)
    sha256, size = sha256_file(part)
    if sha256 != stored["sha256"] or size != stored["size"]:
        part.unlink(missing_ok=True)
        raise ProcessingError(f"SHA-256 mismatch for {stored['key']}", source="consume")
    part.replace(target)

"""Receipt confirmations over RabbitMQ: the case software says "stored", Briefkasten records it.

A case system publishes a small JSON message (``contract/receipt-v1.schema.json``) on the
durable topic exchange ``broker.receipts_exchange`` (``briefkasten.receipts``) with its tenant
as routing key. Every ``briefkasten worker`` consumes the durable queue
``broker.receipts_queue`` (manual ack, dead letters in ``<queue>.dead``) in a thread of its
own (``ReceiptListener``) and records each confirmation with ``retention.confirm``.

A message whose routing key is not its tenant is rejected: RabbitMQ's topic permissions can
then restrict each case system to its own tenant's routing key. Invalid messages and unknown
submissions go to the dead-letter queue; a storage outage puts the message back.
``receipt_message`` builds the message (``briefkasten consume --ack`` sends it).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from briefkasten import contract
from briefkasten.broker.base import OutboundMessage
from briefkasten.broker.subscriber import RabbitSubscriber, ReceivedMessage
from briefkasten.config import Settings
from briefkasten.errors import BrokerError, InvalidRequest
from briefkasten.housekeeping.periodic import Background
from briefkasten.housekeeping.retention import confirm
from briefkasten.storage.base import Storage

log = logging.getLogger("briefkasten.receipts")


def receipt_message(
    tenant: str, submission_id: str, *, confirmed_at: datetime | None = None
) -> OutboundMessage:
    """The validated confirmation that ``submission_id`` of ``tenant`` was stored."""
    body = {
        "schema_version": contract.SCHEMA_VERSION,
        "message_id": contract.receipt_message_id_for(submission_id),
        "tenant": tenant,
        "submission_id": submission_id,
        "confirmed_at": (confirmed_at or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
    contract.validate_receipt(body)
    return OutboundMessage(
        message_id=body["message_id"],
        routing_key=tenant,
        body=json.dumps(body).encode("utf-8"),
        headers={"schema_version": contract.SCHEMA_VERSION},
    )


def handle_receipt(
    message: ReceivedMessage, storage: Storage, settings: Settings, *, now: datetime | None = None
) -> None:
    """Validate one confirmation and record it; ``InvalidRequest``/``NotFound`` reject it."""
    try:
        data = json.loads(message.body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("receipt is not JSON", source="receipts") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("receipt is not a JSON object", source="receipts")
    contract.validate_receipt(data)
    if message.routing_key != data["tenant"]:
        raise InvalidRequest("receipt routing key is not its tenant", source="receipts")
    confirmed_at = datetime.fromisoformat(data["confirmed_at"])
    confirm(
        storage,
        settings,
        data["tenant"],
        data["submission_id"],
        via="amqp",
        confirmed_at=confirmed_at if confirmed_at.tzinfo else confirmed_at.replace(tzinfo=UTC),
        now=now,
    )


class ReceiptListener(Background):
    """A daemon thread consuming the receipts queue until ``stop()``; reconnects with backoff."""

    thread_name = "receipts"

    def __init__(self, storage: Storage, settings: Settings, *, max_backoff: float = 30.0) -> None:
        super().__init__()
        broker = settings.broker
        self._storage = storage
        self._settings = settings
        self._subscriber = RabbitSubscriber(
            broker.amqp_url, broker.receipts_exchange, broker.receipts_queue, bindings=("#",)
        )
        self._max_backoff = max_backoff
        self.recorded = 0

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.recorded += self._subscriber.consume(
                    lambda m: handle_receipt(m, self._storage, self._settings),
                    stop_event=self._stop,
                )
                failures = 0
            except BrokerError as exc:
                failures += 1
                log.warning("receipts queue unavailable (%s); reconnecting", exc.code)
                self._stop.wait(min(self._max_backoff, 0.5 * 2 ** min(failures, 10)))
            except Exception:  # the thread must survive anything and try again
                failures += 1
                log.exception("receipts listener crashed; restarting")
                self._stop.wait(min(self._max_backoff, 0.5 * 2 ** min(failures, 10)))
        self._subscriber.close()

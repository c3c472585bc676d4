"""Confirmations over RabbitMQ: the case software says "stored in the e-file", Briefkasten
records it. ("Receipt" is the applicant's Eingangsbestätigung only, ``gateway.receipt``.)

A case system publishes a small JSON confirmation message (schema
``contract/receipt-v1.schema.json``, named before the rename) on the durable topic exchange
``broker.confirmations_exchange`` (AMQP name ``briefkasten.receipts``, unchanged for the case
systems) with its tenant as routing key. Every ``briefkasten worker`` consumes the durable
queue ``broker.confirmations_queue`` (``briefkasten.receipts``; manual ack, dead letters in
``<queue>.dead``) in a thread of its own (``ConfirmationListener``) and records each
confirmation with ``retention.confirm``.

A message whose routing key is not its tenant is rejected: RabbitMQ's topic permissions can
then restrict each case system to its own tenant's routing key. Invalid messages and unknown
submissions go to the dead-letter queue; a storage outage puts the message back.
``confirmation_message`` builds the message (``briefkasten consume --ack`` sends it).
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

log = logging.getLogger("briefkasten.confirmations")


def confirmation_message(
    tenant: str, submission_id: str, *, confirmed_at: datetime | None = None
) -> OutboundMessage:
    """The validated confirmation that ``submission_id`` of ``tenant`` was stored."""
    body = {
        "schema_version": contract.SCHEMA_VERSION,
        "message_id": contract.confirmation_message_id_for(submission_id),
        "tenant": tenant,
        "submission_id": submission_id,
        "confirmed_at": (confirmed_at or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
    contract.validate_confirmation(body)
    return OutboundMessage(
        message_id=body["message_id"],
        routing_key=tenant,
        body=json.dumps(body).encode("utf-8"),
        headers={"schema_version": contract.SCHEMA_VERSION},
        message_type=contract.CONFIRMATION_MESSAGE_TYPE,
    )


def handle_confirmation(
    message: ReceivedMessage, storage: Storage, settings: Settings, *, now: datetime | None = None
) -> None:
    """Validate one confirmation and record it; ``InvalidRequest``/``NotFound`` reject it."""
    try:
        data = json.loads(message.body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("confirmation is not JSON", source="confirmations") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("confirmation is not a JSON object", source="confirmations")
    contract.validate_confirmation(data)
    if message.routing_key != data["tenant"]:
        raise InvalidRequest("confirmation routing key is not its tenant", source="confirmations")
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


class ConfirmationListener(Background):
    """A daemon thread consuming the confirmations queue until ``stop()``; reconnects with
    backoff."""

    thread_name = "confirmations"

    def __init__(self, storage: Storage, settings: Settings, *, max_backoff: float = 30.0) -> None:
        super().__init__()
        broker = settings.broker
        self._storage = storage
        self._settings = settings
        self._subscriber = RabbitSubscriber(
            broker.amqp_url,
            broker.confirmations_exchange,
            broker.confirmations_queue,
            bindings=("#",),
        )
        self._max_backoff = max_backoff
        self.recorded = 0

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.recorded += self._subscriber.consume(
                    lambda m: handle_confirmation(m, self._storage, self._settings),
                    stop_event=self._stop,
                )
                failures = 0
            except BrokerError as exc:
                failures += 1
                log.warning("confirmations queue unavailable (%s); reconnecting", exc.code)
                self._stop.wait(min(self._max_backoff, 0.5 * 2 ** min(failures, 10)))
            except Exception:  # the thread must survive anything and try again
                failures += 1
                log.exception("confirmations listener crashed; restarting")
                self._stop.wait(min(self._max_backoff, 0.5 * 2 ** min(failures, 10)))
        self._subscriber.close()

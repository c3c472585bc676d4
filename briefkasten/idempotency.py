"""The Idempotency-Key record ``T/idempotency/<sha256 of the key>.json``: one submission per key.

``{"submission_id": S, "state": "pending" | "queued", "updated_at": …}``, written by
``intake.Intake`` (the order is in its docstring). The *pending* record is **claimed**: created
only if absent (``Storage.create_bytes``: atomic in files, S3 and memory, across gateways), so
of two requests with one key that both found no record, exactly one stores a submission and
the other is answered ``409 request_in_progress`` before it stores anything.

A record that is there already is taken over (``stale``) only when it is a leftover: its
submission has no manifest and it is ``queued`` (the submission was deleted after its retention
period) or was not refreshed for ``CLAIM_STALE_S`` (the claim's heartbeat runs after every
original stored: older means a gateway crashed while storing). A caller holding the key's lock
on every gateway (``locked``: the gateway's Redis lock, whose lease expires with a dead holder)
takes over any record ``Intake.find`` passed over. A failed intake drops its own claim
(``release``) so that the client's retry starts afresh at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from briefkasten.errors import InvalidRequest, NotFound, RequestInProgress
from briefkasten.storage import layout
from briefkasten.storage.base import Storage
from briefkasten.storage.records import claim_json, drop_json_if, load_json, put_json

PENDING, QUEUED = "pending", "queued"
#: A pending record not refreshed for this long, whose submission has no manifest: a crash's.
CLAIM_STALE_S = 120.0


def record_key(tenant: str, idempotency_key: str) -> str:
    """Where the key's record is (the key itself is client data: only its hash is a name)."""
    return layout.idempotency_key(tenant, hashlib.sha256(idempotency_key.encode()).hexdigest())


def read(storage: Storage, tenant: str, idempotency_key: str) -> dict[str, Any]:
    """The key's record; ``NotFound`` if there is none, ``ValueError`` if unreadable."""
    return load_json(storage, record_key(tenant, idempotency_key))


def remember(
    storage: Storage, tenant: str, idempotency_key: str, submission_id: str, state: str
) -> None:
    record = {"submission_id": submission_id, "state": state, "updated_at": _now()}
    put_json(storage, record_key(tenant, idempotency_key), record, ensure_ascii=False)


def claim(
    storage: Storage, tenant: str, idempotency_key: str, submission_id: str, *, locked: bool
) -> Callable[[], None]:
    """The pending record for ``submission_id``, created or taken over; ``RequestInProgress``
    if another request holds it. Returns the heartbeat that keeps the claim fresh."""
    key = record_key(tenant, idempotency_key)
    record = {"submission_id": submission_id, "state": PENDING, "updated_at": _now()}

    def leftover() -> bool:
        return locked or stale(storage, tenant, key)

    def beat() -> None:
        put_json(storage, key, {**record, "updated_at": _now()}, ensure_ascii=False)

    if not claim_json(storage, key, record, take_over=leftover):
        raise RequestInProgress("another request with this Idempotency-Key is still in progress")
    return beat


def stale(storage: Storage, tenant: str, key: str) -> bool:
    """Whether the record at ``key`` is a leftover a new request may take over."""
    try:
        record = load_json(storage, key)
        submission_id = str(record["submission_id"])
        if storage.exists(layout.manifest_key(tenant, submission_id)):
            return False  # a live submission: the retry's ``Intake.find`` answers with it
        if record.get("state") == QUEUED:
            return True  # queued once, since deleted after its retention period
        updated = datetime.fromisoformat(str(record["updated_at"]))
    except NotFound:  # released in between: the client's retry claims it afresh
        return False
    except (ValueError, KeyError, TypeError, InvalidRequest):
        return True  # unreadable (or a malformed id): nothing to keep
    return (datetime.now(UTC) - updated).total_seconds() > CLAIM_STALE_S


def release(storage: Storage, tenant: str, idempotency_key: str, submission_id: str) -> None:
    """Drop the pending record if it is still ``submission_id``'s (best effort)."""
    drop_json_if(storage, record_key(tenant, idempotency_key), "submission_id", submission_id)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")

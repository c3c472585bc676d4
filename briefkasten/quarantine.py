"""Quarantine: where an upload clamd found malware in is kept for operators, and only there.

The bytes are moved (not copied) from the spool to ``_quarantine/<tenant>/YYYY/MM/DD/<id>``,
with a small JSON record ``<id>.json`` beside them: tenant, when the submission was attempted,
SHA-256, size, sniffed media type and the signature clamd named. No file name, no case number:
the record says what arrived, not from whom. Each quarantined file is also an audit event
(actor ``scanner``, action ``quarantine``) in the same audit log as the dashboard's actions.

Nothing reads the quarantine prefix automatically: no worker, no retention sweep, no message.
Operators use ``briefkasten quarantine list|get|delete`` (``records``, ``export``, ``delete``
here; deleting is audited too); ``docs/operations.md`` ("Malware scan and quarantine") says
how to look at, release or delete quarantined objects.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from briefkasten.errors import NotFound
from briefkasten.operators import AuditEvent, audit
from briefkasten.storage import layout
from briefkasten.storage.base import Storage

#: Content type of quarantined bytes: never served or opened as what they claim to be.
QUARANTINE_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class QuarantineRecord:
    """What is written next to a quarantined file (``<id>.json``)."""

    quarantine_id: str
    tenant: str
    attempted_at: str
    sha256: str
    size: int
    media_type: str
    signature: str
    key: str


def quarantine_file(
    storage: Storage,
    tenant: str,
    path: Path,
    *,
    sha256: str,
    size: int,
    media_type: str,
    signature: str,
    attempted_at: datetime | None = None,
) -> QuarantineRecord:
    """Move ``path`` into quarantine, write its record and an audit event; blocking."""
    when = attempted_at or datetime.now(UTC)
    quarantine_id = secrets.token_hex(16)
    key = layout.quarantine_key(tenant, when, quarantine_id)
    storage.adopt_file(key, path, content_type=QUARANTINE_CONTENT_TYPE, sha256=sha256)
    record = QuarantineRecord(
        quarantine_id=quarantine_id,
        tenant=tenant,
        attempted_at=when.astimezone(UTC).isoformat(timespec="seconds"),
        sha256=sha256,
        size=size,
        media_type=media_type,
        signature=signature,
        key=key,
    )
    storage.put_bytes(
        layout.quarantine_key(tenant, when, quarantine_id, "json"),
        json.dumps(asdict(record), sort_keys=True).encode("utf-8"),
        content_type="application/json",
    )
    audit(
        storage,
        AuditEvent("scanner", "-", "quarantine", "malware_found", "-", (tenant, quarantine_id)),
    )
    return record


def records(storage: Storage, tenant: str | None = None) -> list[QuarantineRecord]:
    """Every quarantine record (of ``tenant``, or of all tenants), oldest first."""
    prefix = layout.quarantine_prefix(tenant) if tenant else "_quarantine/"
    found = [
        QuarantineRecord(**json.loads(storage.get_bytes(key)))
        for key in storage.list(prefix)
        if key.endswith(".json")
    ]
    return sorted(found, key=lambda r: (r.attempted_at, r.quarantine_id))


def find(storage: Storage, quarantine_id: str) -> tuple[str, QuarantineRecord]:
    """The record key and record of ``quarantine_id``; ``NotFound`` if there is none."""
    for key in storage.list("_quarantine/"):
        if key.endswith(f"/{quarantine_id}.json"):
            return key, QuarantineRecord(**json.loads(storage.get_bytes(key)))
    raise NotFound(f"no quarantined file {quarantine_id[:40]!r}")


def export(storage: Storage, quarantine_id: str, destination: Path) -> QuarantineRecord:
    """Copy the quarantined bytes to ``destination`` (for inspection in a safe place)."""
    _key, record = find(storage, quarantine_id)
    storage.get_file(record.key, destination)
    return record


def delete(storage: Storage, quarantine_id: str, *, actor: str = "cli") -> QuarantineRecord:
    """Delete the quarantined bytes and their record for good; audited."""
    record_key, record = find(storage, quarantine_id)
    storage.delete(record.key)
    storage.delete(record_key)
    audit(
        storage,
        AuditEvent(actor, "-", "quarantine_delete", "ok", "-", (record.tenant, quarantine_id)),
    )
    return record

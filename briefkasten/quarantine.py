"""Quarantine: where an upload clamd found malware in is kept for operators, and only there.

The bytes are moved (not copied) from the spool to ``_quarantine/<tenant>/YYYY/MM/DD/<id>``,
with a small JSON record ``<id>.json`` beside them: tenant, when the submission was attempted,
SHA-256, size, sniffed media type and the signature clamd named. No file name, no case number:
the record says what arrived, not from whom. Each quarantined file is also an audit event
(actor ``scanner``, action ``quarantine``) in the same audit log as the dashboard's actions.

Nothing reads the quarantine prefix automatically: no worker, no retention sweep, no message.
``docs/operations.md`` ("Malware scan and quarantine") says how operators look at, release or
delete quarantined objects.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

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

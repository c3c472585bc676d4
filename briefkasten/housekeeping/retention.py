"""Deletion after hand-over (Löschfristen): the case systems' confirmations and the sweep.

The case software confirms that it stored a submission (``POST …/ack`` or a message on
``briefkasten.receipts``, see ``confirmations``); ``confirm`` records that in
``T/submissions/S/confirmed.json`` (first confirmation wins; a confirmation time in the future
counts as now). ``sweep`` then deletes, per tenant (``[tenants.<id>]`` may override the days):

- a confirmed submission ``grace_days`` after its confirmation,
- an unconfirmed one ``max_days`` after it was received.

Deleting a submission, in an order that a crash cannot spoil (the next sweep finishes it):

1. ``status.json`` becomes the tombstone: ids, ``received_at``, ``confirmed_at``,
   ``deleted_at``, ``reason`` and ``"status": "deleted"`` — no content, no file names, no case
   number — so every status query answers ``deleted`` from then on;
2. every object under ``layout.submission_prefix`` (originals, PDFs, texts, reports);
3. the case's hash markers that point to this submission (so a later upload of the same file
   is not marked ``duplicate_of`` a file that no longer exists);
4. the manifest (file names, notes), then the confirmation and the intake record. A manifest is
   what makes a submission a candidate, so it goes last but two.

The sweep also prunes the outbox's ``sent/`` messages older than ``grace_days`` (they name the
originals). Every deletion is logged with tenant, submission id and reason only. ``now`` is a
parameter everywhere, so tests need not wait.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from briefkasten.broker.outbox import Outbox
from briefkasten.config import Settings
from briefkasten.errors import InvalidRequest, MalformedId, NotFound
from briefkasten.housekeeping.periodic import Periodic
from briefkasten.intake import load_submission
from briefkasten.model import Submission
from briefkasten.storage import layout
from briefkasten.storage.base import Storage
from briefkasten.storage.records import get_json, load_json, put_json

log = logging.getLogger("briefkasten.housekeeping.retention")

CONFIRMED = "grace_after_confirmation"
UNCONFIRMED = "max_retention_unconfirmed"


@dataclass(frozen=True)
class Deletion:
    """A submission the sweep deleted (or, in a dry run, would delete). Ids only."""

    tenant: str
    submission_id: str
    reason: str
    received_at: str
    confirmed_at: str | None
    due_at: str
    objects: int

    def line(self, *, dry_run: bool) -> str:
        verb = "would delete" if dry_run else "deleted"
        confirmed = self.confirmed_at or "-"
        return (
            f"{verb} {self.tenant} {self.submission_id}  {self.reason}  "
            f"received {self.received_at}  confirmed {confirmed}  objects {self.objects}"
        )


@dataclass
class SweepReport:
    """What one sweep did."""

    deleted: list[Deletion] = field(default_factory=list)
    kept: int = 0
    errors: int = 0
    outbox_pruned: int = 0
    dry_run: bool = False


def periods(settings: Settings, tenant: str) -> tuple[int, int]:
    """(grace_days, max_days) for ``tenant``: its own values where set, else ``[retention]``."""
    own = settings.tenant(tenant)
    return (
        own.retention_grace_days or settings.retention.grace_days,
        own.retention_max_days or settings.retention.max_days,
    )


def known_tenants(settings: Settings) -> list[str]:
    """Tenants to sweep: ``[tenants.<id>]`` tables, tenants named by API keys, the default."""
    named = {t.id for t in settings.tenants} | {settings.gateway.default_tenant}
    for entry in filter(None, (e.strip() for e in settings.gateway.api_keys.split(","))):
        named.add(entry.rpartition(":")[0] or settings.gateway.default_tenant)
    return sorted(named)


def confirmation(storage: Storage, tenant: str, submission_id: str) -> dict[str, Any] | None:
    """The recorded confirmation of a submission, or ``None``."""
    return get_json(storage, layout.confirmation_key(tenant, submission_id))


def confirm(
    storage: Storage,
    settings: Settings,
    tenant: str,
    submission_id: str,
    *,
    via: str,
    confirmed_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[bool, dict[str, Any]]:
    """Record that the case software stored the submission; idempotent.

    Returns (whether this call recorded it, the answer for the caller: ids, ``status``
    ``confirmed`` or ``deleted``, ``confirmed_at`` and ``delete_after``). ``NotFound`` for a
    submission this tenant does not have.
    """
    now = now or datetime.now(UTC)
    status_key = layout.status_key(tenant, submission_id)  # MalformedId: a NotFound
    manifest_key = layout.manifest_key(tenant, submission_id)
    if not storage.exists(manifest_key):
        tombstone = _tombstone(storage, status_key)
        if tombstone is None:
            raise NotFound(f"no submission {submission_id[:40]!r}")
        answer = {k: tombstone.get(k) for k in ("submission_id", "status", "confirmed_at")}
        return False, {**answer, "delete_after": tombstone.get("deleted_at")}
    grace, _ = periods(settings, tenant)
    existing = confirmation(storage, tenant, submission_id)
    recorded = existing is None
    if existing is None:
        when = min(confirmed_at or now, now)
        existing = {
            "submission_id": submission_id,
            "confirmed_at": _iso(when),
            "recorded_at": _iso(now),
            "via": via,
        }
        put_json(storage, layout.confirmation_key(tenant, submission_id), existing)
        log.info("submission %s of tenant %s: storage confirmed (%s)", submission_id, tenant, via)
    delete_after = _parse(existing["confirmed_at"]) + timedelta(days=grace)
    return recorded, {
        "submission_id": submission_id,
        "status": "confirmed",
        "confirmed_at": existing["confirmed_at"],
        "delete_after": _iso(delete_after),
    }


def sweep(
    storage: Storage,
    settings: Settings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    outbox: Outbox | None = None,
    tenants: Iterable[str] | None = None,
) -> SweepReport:
    """Delete every submission whose time has come (see the module doc); prune the outbox.

    A ``StorageError`` (storage away) ends the sweep and is raised; a submission that cannot
    be read (a broken manifest) is logged, counted in ``errors`` and skipped.
    """
    now = now or datetime.now(UTC)
    report = SweepReport(dry_run=dry_run)
    for tenant in tenants if tenants is not None else known_tenants(settings):
        _sweep_tenant(storage, settings, tenant, now, report)
    if outbox is not None:
        before = now - timedelta(days=settings.retention.grace_days)
        report.outbox_pruned = outbox.prune_sent(before, dry_run=dry_run)
    log.info(
        "retention sweep%s: %d submission(s) deleted, %d kept, %d error(s), %d sent message(s) "
        "pruned",
        " (dry run)" if dry_run else "",
        len(report.deleted),
        report.kept,
        report.errors,
        report.outbox_pruned,
    )
    return report


def _sweep_tenant(
    storage: Storage, settings: Settings, tenant: str, now: datetime, report: SweepReport
) -> None:
    grace, max_days = periods(settings, tenant)
    found: dict[str, set[str]] = {}
    for key in storage.list(layout.submissions_prefix(tenant)):
        parts = key.split("/")
        if len(parts) == 4:
            found.setdefault(parts[2], set()).add(parts[3])
    for submission_id, names in sorted(found.items()):
        if "manifest.json" not in names:
            if "confirmed.json" in names and not report.dry_run:  # left by an interrupted delete
                storage.delete(layout.confirmation_key(tenant, submission_id))
            if "intake.json" in names and not report.dry_run and "status.json" in names:
                storage.delete(layout.intake_key(tenant, submission_id))  # the same
            continue
        try:
            submission = load_submission(storage, tenant, submission_id)
            confirmed = confirmation(storage, tenant, submission_id)
            received_at = _parse(submission.received_at)
            confirmed_at = _parse(confirmed["confirmed_at"]) if confirmed else None
        except (ValueError, KeyError, TypeError, InvalidRequest, MalformedId) as exc:
            report.errors += 1
            log.warning(
                "retention: submission %s of tenant %s unreadable (%s); skipped",
                submission_id,
                tenant,
                type(exc).__name__,
            )
            continue
        except NotFound:  # after MalformedId, which is one too
            continue  # deleted meanwhile (another sweeper)
        if confirmed_at is not None:
            due, reason = confirmed_at + timedelta(days=grace), CONFIRMED
        else:
            due, reason = received_at + timedelta(days=max_days), UNCONFIRMED
        if due > now:
            report.kept += 1
            continue
        prefix = layout.submission_prefix(tenant, submission.case_number, submission_id)
        objects = storage.list(prefix)
        deletion = Deletion(
            tenant=tenant,
            submission_id=submission_id,
            reason=reason,
            received_at=submission.received_at,
            confirmed_at=_iso(confirmed_at) if confirmed_at else None,
            due_at=_iso(due),
            objects=len(objects),
        )
        if not report.dry_run:
            _delete(storage, submission, deletion, objects, now)
        report.deleted.append(deletion)


def _delete(
    storage: Storage, submission: Submission, deletion: Deletion, objects: list[str], now: datetime
) -> None:
    tenant, submission_id = submission.tenant, submission.submission_id
    tombstone: dict[str, Any] = {
        "submission_id": submission_id,
        "status": "deleted",
        "received_at": submission.received_at,
        "confirmed_at": deletion.confirmed_at,
        "deleted_at": _iso(now),
        "reason": deletion.reason,
        "updated_at": _iso(now),
        "documents": [],
    }
    put_json(storage, layout.status_key(tenant, submission_id), tombstone)
    for key in objects:
        storage.delete(key)
    for document in submission.documents:
        for received in document.files:
            marker = layout.hash_marker_key(tenant, submission.case_number, received.sha256)
            with contextlib.suppress(NotFound, ValueError):
                if load_json(storage, marker).get("submission_id") == submission_id:
                    storage.delete(marker)
    storage.delete(layout.manifest_key(tenant, submission_id))
    storage.delete(layout.confirmation_key(tenant, submission_id))
    storage.delete(layout.intake_key(tenant, submission_id))
    log.info(
        "retention: deleted submission %s of tenant %s (%s, %d object(s))",
        submission_id,
        tenant,
        deletion.reason,
        deletion.objects,
    )


class Sweeper(Periodic):
    """A daemon thread that sweeps every ``interval`` seconds (``background.Periodic``)."""

    thread_name = "retention"

    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        outbox: Outbox | None,
        *,
        interval: float,
        first_delay: float | None = None,
    ) -> None:
        super().__init__(interval=interval, first_delay=first_delay)
        self._storage = storage
        self._settings = settings
        self._outbox = outbox

    def _round(self) -> None:
        sweep(self._storage, self._settings, outbox=self._outbox)


def _tombstone(storage: Storage, status_key: str) -> dict[str, Any] | None:
    data = get_json(storage, status_key)
    return data if data is not None and data.get("status") == "deleted" else None


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")

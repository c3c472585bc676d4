"""Nothing lost: the reconciler repairs what a crash or an outage left between storing and
queueing, and what a worker left behind.

``Intake.receive`` writes ``intake.json`` (``storing``), the originals, the manifest, queues the
job and then marks ``intake.json`` ``queued`` (see ``intake``). One ``reconcile`` round lists
``T/submissions/`` of every tenant (the listing retention uses) and, per submission:

- a manifest, no status and ``intake.json`` not ``queued`` (or none: from before it existed),
  received more than ``requeue_after_s`` ago: its job never reached the queue (RabbitMQ was
  away, the gateway died) → **queued again** and marked ``queued``;
- status ``processing`` not refreshed for ``stuck_after_s`` (the worker writes it before every
  document) and not queued again within that time → **queued again**;
- ``intake.json`` but no manifest, started more than ``orphan_grace_s`` ago: the upload failed
  or the gateway died while storing → its originals, their hash markers and ``intake.json``
  are **deleted** (retention never finds them: it starts from manifests).

A second job for a delivered submission ends without publishing (``service.deliver``), so a
requeue that races with the client's retry delivers once. Every repair is logged with tenant and
submission id only; ``now`` is a parameter, so tests need not wait.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from briefkasten.broker.base import JobQueue
from briefkasten.config import Settings
from briefkasten.errors import InvalidRequest, MalformedId, NotFound, StorageError
from briefkasten.housekeeping.periodic import Periodic
from briefkasten.housekeeping.retention import known_tenants
from briefkasten.intake import (
    QUEUED,
    discard_unfinished,
    load_submission,
    queue_submission,
    read_intake,
)
from briefkasten.status import recorded_status
from briefkasten.storage import layout
from briefkasten.storage.base import Storage

log = logging.getLogger("briefkasten.housekeeping.reconcile")

NEVER_QUEUED = "never_queued"
STUCK = "stuck_processing"
ORPHAN = "orphaned_originals"


@dataclass(frozen=True)
class Repair:
    """One repair (or, in a dry run, one that would be made). Ids only."""

    tenant: str
    submission_id: str
    reason: str
    objects: int = 0

    def line(self, *, dry_run: bool) -> str:
        if self.reason == ORPHAN:
            verb = "would delete" if dry_run else "deleted"
            return (
                f"{verb} {self.tenant} {self.submission_id}  {self.reason}  objects {self.objects}"
            )
        verb = "would queue" if dry_run else "queued"
        return f"{verb} {self.tenant} {self.submission_id}  {self.reason}"


@dataclass
class ReconcileReport:
    """What one round did."""

    repairs: list[Repair] = field(default_factory=list)
    kept: int = 0
    errors: int = 0
    dry_run: bool = False

    @property
    def requeued(self) -> list[Repair]:
        return [r for r in self.repairs if r.reason != ORPHAN]

    @property
    def deleted(self) -> list[Repair]:
        return [r for r in self.repairs if r.reason == ORPHAN]


def reconcile(
    storage: Storage,
    settings: Settings,
    jobs: JobQueue,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    tenants: Iterable[str] | None = None,
) -> ReconcileReport:
    """One round over every tenant (see the module doc). ``StorageError`` ends it and is
    raised; an unreadable submission is logged, counted in ``errors`` and skipped."""
    now = now or datetime.now(UTC)
    report = ReconcileReport(dry_run=dry_run)
    for tenant in tenants if tenants is not None else known_tenants(settings):
        found: dict[str, set[str]] = {}
        for key in storage.list(layout.submissions_prefix(tenant)):
            parts = key.split("/")
            if len(parts) == 4:
                found.setdefault(parts[2], set()).add(parts[3])
        for submission_id, names in sorted(found.items()):
            _check(storage, settings, jobs, tenant, submission_id, names, now, report)
    log.info(
        "reconcile%s: %d queued again, %d orphan(s) deleted, %d kept, %d error(s)",
        " (dry run)" if dry_run else "",
        len(report.requeued),
        len(report.deleted),
        report.kept,
        report.errors,
    )
    return report


def _check(
    storage: Storage,
    settings: Settings,
    jobs: JobQueue,
    tenant: str,
    submission_id: str,
    names: set[str],
    now: datetime,
    report: ReconcileReport,
) -> None:
    try:
        if "manifest.json" in names:
            repair = _unfinished_job(storage, settings, tenant, submission_id, now)
            if repair is not None and not report.dry_run:
                submission = load_submission(storage, tenant, submission_id)
                queue_submission(storage, jobs, submission, now=now)
        elif "intake.json" in names:
            repair = _orphan(storage, settings, tenant, submission_id, now, report.dry_run)
        else:
            return
    except StorageError:
        raise
    except (ValueError, KeyError, TypeError, InvalidRequest, MalformedId) as exc:
        report.errors += 1
        log.warning(
            "reconcile: submission %s of tenant %s unreadable (%s); skipped",
            submission_id,
            tenant,
            type(exc).__name__,
        )
        return
    except NotFound:  # after MalformedId, which is one too
        return  # deleted meanwhile (retention, another reconciler)
    if repair is None:
        report.kept += 1
        return
    report.repairs.append(repair)
    if not report.dry_run:
        log.info(
            "reconcile: submission %s of tenant %s: %s (%s)",
            submission_id,
            tenant,
            "originals deleted" if repair.reason == ORPHAN else "queued again",
            repair.reason,
        )


def _unfinished_job(
    storage: Storage, settings: Settings, tenant: str, submission_id: str, now: datetime
) -> Repair | None:
    """A repair if the submission has no job (never queued) or a dead one (stuck)."""
    status = recorded_status(storage, tenant, submission_id)
    intake = read_intake(storage, tenant, submission_id) or {}
    if status is None:
        if intake.get("state") == QUEUED:
            return None  # the broker holds its job
        received = _parse(load_submission(storage, tenant, submission_id).received_at)
        if received + timedelta(seconds=settings.reconcile.requeue_after_s) > now:
            return None  # the gateway may still be queueing it
        return Repair(tenant, submission_id, NEVER_QUEUED)
    if status.get("status") != "processing":
        return None  # received (waiting for a retry), delivered, failed, deleted
    bound = now - timedelta(seconds=settings.reconcile.stuck_after_s)
    queued_at = intake.get("queued_at")
    if _parse(status["updated_at"]) > bound or (queued_at and _parse(queued_at) > bound):
        return None
    return Repair(tenant, submission_id, STUCK)


def _orphan(
    storage: Storage,
    settings: Settings,
    tenant: str,
    submission_id: str,
    now: datetime,
    dry_run: bool,
) -> Repair | None:
    """A repair if an intake without manifest is older than the grace: delete what it left."""
    intake = read_intake(storage, tenant, submission_id)
    if intake is None:
        return None
    started = str(intake.get("started_at") or intake["queued_at"])
    if _parse(started) + timedelta(seconds=settings.reconcile.orphan_grace_s) > now:
        return None
    case_number = str(intake["case_number"])
    objects = storage.list(layout.submission_prefix(tenant, case_number, submission_id))
    if not dry_run:
        discard_unfinished(storage, tenant, case_number, submission_id)
    return Repair(tenant, submission_id, ORPHAN, len(objects))


class Reconciler(Periodic):
    """A daemon thread that reconciles every ``interval`` seconds (``background.Periodic``)."""

    thread_name = "reconcile"

    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        jobs: JobQueue,
        *,
        interval: float,
        first_delay: float | None = None,
    ) -> None:
        super().__init__(interval=interval, first_delay=first_delay)
        self._storage = storage
        self._settings = settings
        self._jobs = jobs

    def _round(self) -> None:
        reconcile(self._storage, self._settings, self._jobs)


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

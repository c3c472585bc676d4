"""Dead-lettered jobs, for operators: list, retry, purge (``briefkasten dlq …``).

Distributed mode: the RabbitMQ queue ``<broker.work_queue>.dead``. Listing takes every message
without acknowledging it and gives each back at the end (``basic_nack(requeue=True)``),
so a listing changes nothing; ``retry`` republishes the chosen jobs to the work queue with a
fresh attempt count (persistent, confirmed) and only then acknowledges the dead copy; ``purge``
acknowledges them (gone for good). Embedded mode: the job journal's ``dead/`` folder.

Shown per job: job id, submission id, tenant, attempts and the reason — ids and an English
reason, never content. A dead letter that is not a job (malformed) is listed with ``-`` ids
and is never retried. ``retry`` and ``purge`` take ``tenants`` to touch only those tenants'
jobs (the dashboard's tenant-scoped operators). The dead-letter queue must exist (a worker
declares it); a missing queue is a ``ConfigError``, an unreachable broker a ``BrokerError``
(exit 5).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

from briefkasten.broker.amqp import ATTEMPTS_HEADER, PERSISTENT, REASON_HEADER, Link
from briefkasten.broker.base import Job
from briefkasten.broker.local import LocalJobQueue, dead_letter_files
from briefkasten.errors import CorruptJob


@dataclass(frozen=True)
class DeadJob:
    """One dead letter as operators see it: ids, attempts, reason."""

    job_id: str | None
    submission_id: str | None
    tenant: str | None
    attempts: int
    reason: str

    def line(self) -> str:
        ids = "  ".join(v or "-" for v in (self.job_id, self.submission_id, self.tenant))
        return f"{ids}  attempts {self.attempts}  {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


#: (``list`` methods shadow the builtin inside the class bodies.)
DeadJobs = list[DeadJob]
_Entries = list[tuple[Path, DeadJob]]


class RabbitDeadLetters:
    """The dead-letter queue ``<work_queue>.dead`` of a RabbitMQ work queue."""

    def __init__(self, url: str, work_queue: str) -> None:
        self.queue = work_queue
        self.dead = f"{work_queue}.dead"
        self._link = Link(url, lambda channel: None, 0, 0.2)

    def list(self, limit: int | None = None) -> DeadJobs:
        return self._walk("listing dead letters", lambda job: False, None, limit)[0]

    def retry(
        self, job_ids: Collection[str] | None = None, tenants: Collection[str] | None = None
    ) -> DeadJobs:
        """Move the chosen (default: all well-formed) dead jobs back to the work queue."""
        chosen = _chosen(job_ids, tenants)
        return self._walk("retrying dead letters", chosen, self._republish, None)[1]

    def purge(
        self, job_ids: Collection[str] | None = None, tenants: Collection[str] | None = None
    ) -> DeadJobs:
        """Drop the chosen (default: all) dead letters for good."""
        chosen = _chosen(job_ids, tenants) if job_ids or tenants else (lambda job: True)
        return self._walk("purging dead letters", chosen, None, None)[1]

    def close(self) -> None:
        self._link.reset()

    def _walk(
        self,
        what: str,
        chosen: Callable[[DeadJob], bool],
        before_ack: Callable[[BlockingChannel, DeadJob], None] | None,
        limit: int | None,
    ) -> tuple[DeadJobs, DeadJobs]:
        """Look at up to ``limit`` dead letters; acknowledge the ``chosen`` ones (after
        ``before_ack``), give the others back. Returns (all seen, those acknowledged)."""

        def walk(channel: BlockingChannel) -> tuple[DeadJobs, DeadJobs]:
            ready = self._ready(channel)
            count = ready if limit is None else min(ready, limit)
            seen: DeadJobs = []
            taken: DeadJobs = []
            left: list[int] = []
            try:
                for _ in range(count):
                    method, properties, body = channel.basic_get(self.dead, auto_ack=False)
                    if method is None:
                        break
                    job = _from_amqp(body, properties.headers or {})
                    if chosen(job):
                        if before_ack is not None:
                            before_ack(channel, job)
                        channel.basic_ack(method.delivery_tag)
                        taken.append(job)
                    else:
                        left.append(method.delivery_tag)
                    seen.append(job)
            finally:
                for tag in left if channel.is_open else ():  # the rest goes back, in order
                    channel.basic_nack(tag, requeue=True)
            self._settle(channel, ready - len(taken))
            return seen, taken

        return self._link.call(what, walk)

    def _ready(self, channel: BlockingChannel) -> int:
        return int(channel.queue_declare(self.dead, passive=True).method.message_count)

    def _settle(self, channel: BlockingChannel, expected: int, timeout: float = 3.0) -> None:
        """Wait (bounded) until the given-back messages are ready again: RabbitMQ requeues
        asynchronously, and the next listing should see them."""
        deadline = time.monotonic() + timeout
        while self._ready(channel) < expected and time.monotonic() < deadline:
            time.sleep(0.02)

    def _republish(self, channel: BlockingChannel, job: DeadJob) -> None:
        assert job.job_id and job.submission_id and job.tenant
        fresh = Job(job.job_id, job.submission_id, job.tenant, 0)
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=PERSISTENT,
            message_id=f"{fresh.job_id}.retry",
            headers={ATTEMPTS_HEADER: 0},
        )
        channel.basic_publish("", self.queue, fresh.to_bytes(), properties, mandatory=True)


class LocalDeadLetters:
    """Embedded mode: dead jobs in the journal's ``dead/`` folder (one JSON file each)."""

    def __init__(self, journal_dir: Path) -> None:
        self.directory = Path(journal_dir)

    def list(self, limit: int | None = None) -> DeadJobs:
        found = [job for _, job in self._entries()]
        return found[:limit] if limit is not None else found

    def retry(
        self, job_ids: Collection[str] | None = None, tenants: Collection[str] | None = None
    ) -> DeadJobs:
        chosen = _chosen(job_ids, tenants)
        moved = []
        for path, job in self._entries():
            if chosen(job):
                assert job.job_id and job.submission_id and job.tenant
                queue = LocalJobQueue(self.directory, recover=False)  # never steal claimed jobs
                queue.enqueue(Job(job.job_id, job.submission_id, job.tenant, 0))
                path.unlink(missing_ok=True)
                moved.append(job)
        return moved

    def purge(
        self, job_ids: Collection[str] | None = None, tenants: Collection[str] | None = None
    ) -> DeadJobs:
        chosen = _chosen(job_ids, tenants) if job_ids or tenants else (lambda job: True)
        dropped = []
        for path, job in self._entries():
            if chosen(job):
                path.unlink(missing_ok=True)
                dropped.append(job)
        return dropped

    def close(self) -> None:
        pass

    def _entries(self) -> _Entries:
        entries = []
        for path in dead_letter_files(self.directory):
            with contextlib.suppress(FileNotFoundError):
                raw = path.read_bytes()
                try:
                    data = json.loads(raw)
                    reason = str(data.get("reason", ""))
                except (ValueError, AttributeError):
                    reason = "malformed dead letter"
                job = _from_job(raw, reason, attempts_from_job=True)
                entries.append((path, job))
        return entries


def _from_amqp(body: bytes, headers: dict[str, Any]) -> DeadJob:
    reason = headers.get(REASON_HEADER, "")
    reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    attempts = headers.get(ATTEMPTS_HEADER)
    job = _from_job(body, reason, attempts_from_job=False)
    return DeadJob(job.job_id, job.submission_id, job.tenant, int(attempts or 0), reason)


def _from_job(raw: bytes, reason: str, *, attempts_from_job: bool) -> DeadJob:
    try:
        job = Job.from_bytes(raw)
    except CorruptJob:
        return DeadJob(None, None, None, 0, reason)
    attempts = job.attempt + 1 if attempts_from_job else 0
    return DeadJob(job.job_id, job.submission_id, job.tenant, attempts, reason)


def _chosen(
    job_ids: Collection[str] | None, tenants: Collection[str] | None = None
) -> Callable[[DeadJob], bool]:
    """Well-formed jobs, all of them or those named; with ``tenants``, only theirs."""
    wanted = set(job_ids or ())
    own = set(tenants or ())
    return lambda job: (
        job.job_id is not None
        and (not wanted or job.job_id in wanted)
        and (not own or job.tenant in own)
    )

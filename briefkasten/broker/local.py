"""Embedded mode: a durable on-disk job journal and the ``StubPublisher`` test double.

The journal is a directory with ``pending/``, ``claimed/`` and ``dead/``; each job is one
JSON file named ``<enqueue time ns>-<job id>.json`` so names sort in arrival order. Only this
module knows those folders: metrics and dead letters read them through ``count_jobs`` and
``dead_letter_files``. ``claim``
moves a file from pending to claimed with one atomic rename (safe when several processes
claim from the same journal); ``done`` removes it. On restart the owner calls ``recover()``
(the constructor does by default): claimed-but-unfinished jobs go back to pending, so a crash
never loses work. Only one process per journal should recover: the embedded dispatcher.

A retried job is written with a name time in the future (now + ``backoff(...)``): ``claim``
takes only jobs whose time has come, so a temporary failure (e.g. storage away) waits before
its next attempt instead of spending them all at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from pathlib import Path

from briefkasten.broker.base import (
    FailureHook,
    Handler,
    Job,
    OutboundMessage,
    backoff,
    failure_action,
    failure_code,
    log_reason,
    tell,
)
from briefkasten.broker.outbox import write_atomic
from briefkasten.errors import BrokerError, MessageUnroutable

log = logging.getLogger("briefkasten.journal")


class LocalJobQueue:
    """A ``JobQueue`` on disk for embedded mode (no RabbitMQ)."""

    def __init__(
        self,
        journal_dir: Path,
        *,
        max_attempts: int = 3,
        recover: bool = True,
        job_retry_delay: float = 0.0,
        job_retry_max_delay: float = 300.0,
    ) -> None:
        self.directory = Path(journal_dir)
        self.max_attempts = max_attempts
        self.job_retry_delay = job_retry_delay
        self.job_retry_max_delay = job_retry_max_delay
        try:
            for sub in ("pending", "claimed", "dead"):
                (self.directory / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BrokerError(f"cannot create job journal at {self.directory}: {exc}") from exc
        if recover:
            self.recover()

    def enqueue(self, job: Job, *, delay: float = 0.0) -> None:
        """Write the job durably (atomic file) before returning; claimable after ``delay`` s."""
        name = f"{time.time_ns() + int(delay * 1e9):020d}-{job.job_id}.json"
        write_atomic(self.directory / "pending" / name, job.to_bytes())

    def claim(self) -> Job | None:
        """The oldest pending job, now claimed by the caller; ``None`` if there is none."""
        now = time.time_ns()
        for name in self._names("pending"):
            if _due(name) > now:
                break  # names sort by due time: the rest waits too
            source = self.directory / "pending" / name
            try:
                source.rename(self.directory / "claimed" / name)
            except FileNotFoundError:
                continue  # another process claimed it first
            except OSError as exc:
                raise BrokerError(f"cannot claim job: {exc}", source="journal") from exc
            return Job.from_bytes((self.directory / "claimed" / name).read_bytes())
        return None

    def done(self, job_id: str) -> None:
        """The job's result is stored and published: forget it."""
        for path in self._claimed(job_id):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def retry(self, job: Job) -> None:
        """Give the job back with ``attempt + 1``, due after the backoff for this attempt."""
        delay = backoff(job, self.job_retry_delay, self.job_retry_max_delay)
        self.enqueue(job.next_attempt(), delay=delay)
        self.done(job.job_id)

    def dead_letter(self, job: Job, reason: str) -> None:
        """Park the job with its reason in ``dead/`` for operators."""
        data = json.loads(job.to_bytes())
        data["reason"] = reason
        name = f"{time.time_ns():020d}-{job.job_id}.json"
        write_atomic(self.directory / "dead" / name, json.dumps(data).encode("utf-8"))
        self.done(job.job_id)

    def recover(self) -> int:
        """Move claimed jobs back to pending (after a crash); return how many."""
        names = self._names("claimed")
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                (self.directory / "claimed" / name).rename(self.directory / "pending" / name)
        if names:
            log.info("job journal: %d unfinished job(s) resumed", len(names))
        return len(names)

    def pending_count(self) -> int:
        return len(self._names("pending"))

    def dead_jobs(self) -> list[tuple[Job, str]]:
        out = []
        for name in self._names("dead"):
            raw = (self.directory / "dead" / name).read_bytes()
            out.append((Job.from_bytes(raw), str(json.loads(raw).get("reason", ""))))
        return out

    def consume(
        self,
        handler: Handler,
        *,
        stop_event: threading.Event | None = None,
        idle_timeout: float | None = None,
        poll_interval: float = 0.2,
        on_failure: FailureHook | None = None,
    ) -> int:
        """Run ``handler`` on jobs until ``stop_event`` or ``idle_timeout`` s without work.

        Same rules as ``RabbitJobQueue.consume``: done only after the handler returned,
        temporary failures retried up to ``max_attempts``, other errors dead-lettered.
        ``on_failure`` is told of every retry and dead letter. Returns how many jobs were
        handled (done or dead-lettered).
        """
        stop = stop_event or threading.Event()
        handled = 0
        idle_since = time.monotonic()
        while not stop.is_set():
            job = self.claim()
            if job is None:
                if idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout:
                    break
                stop.wait(poll_interval)
                continue
            try:
                handler(job)
            except Exception as exc:
                action, reason = failure_action(exc, job, self.max_attempts)
                log.warning(
                    "job %s attempt %d failed (%s): %s",
                    job.job_id,
                    job.attempt,
                    action,
                    log_reason(exc),
                    extra={
                        "job_id": job.job_id,
                        "submission_id": job.submission_id,
                        "tenant": job.tenant,
                    },
                )
                if action == "retry":
                    self.retry(job)
                    tell(on_failure, job, action, failure_code(exc))
                    continue
                self.dead_letter(job, reason)
                tell(on_failure, job, action, failure_code(exc))
            else:
                self.done(job.job_id)
            handled += 1
            idle_since = time.monotonic()
        return handled

    def _claimed(self, job_id: str) -> list[Path]:
        return list((self.directory / "claimed").glob(f"*-{job_id}.json"))

    def _names(self, sub: str) -> list[str]:
        try:
            return sorted(p.name for p in (self.directory / sub).iterdir() if p.suffix == ".json")
        except OSError as exc:
            raise BrokerError(f"cannot read job journal: {exc}", source="journal") from exc


def count_jobs(journal_dir: Path) -> tuple[int, int]:
    """(pending, dead) jobs in the journal at ``journal_dir``, for the metrics: counted without
    creating, claiming or recovering anything; a folder not created yet (nothing queued) or
    unreadable counts as 0."""
    return _count(Path(journal_dir) / "pending"), _count(Path(journal_dir) / "dead")


def dead_letter_files(journal_dir: Path) -> list[Path]:
    """The journal's dead jobs (one JSON file each, oldest first); none before the journal
    exists. ``BrokerError`` if the folder cannot be read."""
    folder = Path(journal_dir) / "dead"
    if not folder.is_dir():
        return []
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == ".json")
    except OSError as exc:
        raise BrokerError(f"cannot read job journal: {exc}", source="journal") from exc


def _count(directory: Path) -> int:
    try:
        return sum(1 for p in directory.absolute().iterdir() if p.suffix == ".json")
    except OSError:  # not created yet (nothing queued), or unreadable: nothing to count
        return 0


def _due(name: str) -> int:
    """The time (ns) from which the job file ``name`` may be claimed."""
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else 0


class MemoryJobQueue:
    """The in-package test double of a ``JobQueue``: remembers what was enqueued, in order."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def enqueue(self, job: Job) -> None:
        self.jobs.append(job)


class StubPublisher:
    """In-memory ``Publisher`` for tests: records messages; can fail on purpose.

    ``fail_next(n)`` makes the next ``n`` publishes raise ``BrokerError``; ``unroutable``
    holds routing keys that raise ``MessageUnroutable`` as if no queue were bound.
    """

    def __init__(self, *, fail_times: int = 0) -> None:
        self.published: list[OutboundMessage] = []
        self.unroutable: set[str] = set()
        self.attempts = 0
        self.closed = False
        self._fail = fail_times
        self._lock = threading.Lock()

    def fail_next(self, times: int) -> None:
        with self._lock:
            self._fail = times

    def publish(self, message: OutboundMessage) -> None:
        with self._lock:
            self.attempts += 1
            if self._fail > 0:
                self._fail -= 1
                raise BrokerError("stub broker is away (as told)", source="stub")
            if message.routing_key in self.unroutable:
                raise MessageUnroutable(f"no queue bound for {message.routing_key}")
            self.published.append(message)

    def close(self) -> None:
        self.closed = True

    @property
    def message_ids(self) -> list[str]:
        with self._lock:
            return [m.message_id for m in self.published]

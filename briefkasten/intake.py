"""Receiving a submission: originals, manifest, job, then the Idempotency-Key record.

The order is the promise made to applicants (nothing lost, nothing twice):

1. ``T/submissions/S/intake.json`` ``{"state": "storing"}`` and, with an ``Idempotency-Key``, a
   *pending* key record ``{S, "state": "pending"}``: the retry of a request that fails later
   finds its submission by the key;
2. every original (durably, with its SHA-256), then the manifest;
3. the job, durably queued (``JobQueue.enqueue`` returns after the broker's confirm), then
   ``intake.json`` ``{"state": "queued"}`` — a marker of its own, not the status object, which
   the worker may already have set to ``processing`` or ``delivered``;
4. only now the key record ``{S, "state": "queued"}``.

A failure in 2 removes what was stored (best effort; the ``Reconciler`` deletes what is left
after a grace period) and the key record. A failure in 3 (``BrokerError``: 503) keeps the
manifest: the client's retry with the same key finds the pending record and queues *that*
submission (``find``), and without a retry the ``Reconciler`` queues it. A file whose SHA-256
the same case already has is accepted and marked ``duplicate_of``. The pending key record
(``idempotency.claim``) and the duplicate markers are *created if absent*, atomically across
gateways (docs/operations.md "Shared state across gateways"). All methods block (storage is
blocking); the gateway runs them in an executor.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from briefkasten import idempotency as keys
from briefkasten.broker.base import Job, JobQueue
from briefkasten.config import LimitSettings
from briefkasten.errors import (
    BriefkastenError,
    InvalidRequest,
    LimitExceeded,
    MalwareFound,
    NotFound,
)
from briefkasten.idempotency import QUEUED as QUEUED  # intake.json's state too (re-exported)
from briefkasten.malware.quarantine import quarantine_file
from briefkasten.malware.scanner import OffScanner, Scanner, Verdict
from briefkasten.model import DocumentRequest, ReceivedFile, Submission
from briefkasten.status import status_body
from briefkasten.storage import layout
from briefkasten.storage.base import Storage
from briefkasten.storage.records import create_json, get_json, load_json, put_json

log = logging.getLogger("briefkasten.intake")

#: BG-Nummer (§51a SGB II): five digits (the job center), "BG", seven digits.
CASE_NUMBER = re.compile(r"^[0-9]{5}BG[0-9]{7}$")
#: How a submission came in (``Submission.channel``, the message's ``channel``, an enum of the
#: contract): ``upload`` with an API key (the job center's own apps), ``link`` through an upload
#: link (the applicants' upload page, also one started on ``/t/<tenant>``).
CHANNELS = ("upload", "link")
#: States of ``intake.json``: ``STORING``, then ``QUEUED`` (the Idempotency-Key record's word too).
STORING = "storing"


@dataclass(frozen=True)
class IncomingFile:
    """A file the gateway has spooled to disk, hashed and sniffed; a locked PDF the applicant
    unlocked also has its ``decrypted`` copy (``pipeline.unlock``) with its hash and size."""

    path: Path
    name: str
    sha256: str
    size: int
    media_type: str
    pages: int
    decrypted: Path | None = None
    decrypted_sha256: str | None = None
    decrypted_size: int | None = None
    #: The applicant blacked out parts of it before the upload (``ReceivedFile``'s flag).
    redacted_by_applicant: bool = False

    @property
    def readable(self) -> Path:
        """What parsers read: the decrypted copy if there is one, else the file itself."""
        return self.decrypted or self.path


@dataclass(frozen=True)
class IncomingDocument:
    document_type: str
    files: tuple[IncomingFile, ...]
    note: str = ""


def new_id() -> str:
    """A random, unguessable id (also used in storage keys: never derived from user input)."""
    return secrets.token_hex(16)


def check_case_number(case_number: str) -> str:
    value = case_number.strip().upper()
    if not CASE_NUMBER.match(value):
        raise InvalidRequest("case_number must be a BG-Nummer like 12345BG0012345")
    return value


def check_submission_pages(pages: int, limits: LimitSettings) -> None:
    """``LimitExceeded`` when one submission's files have more pages together than allowed."""
    if pages > limits.max_submission_pages:
        raise LimitExceeded(
            f"the submission has {pages} pages or more, limit is {limits.max_submission_pages}"
        )


class Intake:
    """Stores submissions and queues them for normalisation.

    ``scanner`` checks every file for malware before anything is stored (default: off);
    ``on_malware(tenant)`` is called once per quarantined file (the gateway counts them).
    """

    def __init__(
        self,
        storage: Storage,
        jobs: JobQueue,
        *,
        scanner: Scanner | None = None,
        on_malware: Callable[[str], None] | None = None,
    ) -> None:
        self.storage = storage
        self.jobs = jobs
        self.scanner: Scanner = scanner or OffScanner()
        self.on_malware = on_malware

    def receive(
        self,
        tenant: str,
        case_number: str,
        documents: Sequence[IncomingDocument],
        *,
        channel: str = "upload",
        idempotency_key: str | None = None,
        shared_lock: bool = False,
    ) -> Submission:
        """Scan every file, store originals and manifest, queue the job, then remember the
        idempotency key (claimed first: ``RequestInProgress`` if another request holds it;
        ``shared_lock``: the caller holds the key's lock on every gateway, Redis)."""
        malware_scan = self._scan(tenant, documents)
        case_number = check_case_number(case_number)
        if not documents or not all(d.files for d in documents):
            raise InvalidRequest("a submission needs at least one document with a file")
        submission_id = new_id()
        beat = _nothing
        if idempotency_key:
            beat = keys.claim(
                self.storage, tenant, idempotency_key, submission_id, locked=shared_lock
            )
        try:
            self._put_json(
                layout.intake_key(tenant, submission_id),
                {"state": STORING, "case_number": case_number, "started_at": _now()},
            )
            submission = self._store(
                tenant, case_number, submission_id, documents, channel, malware_scan, beat
            )
        except BaseException:
            discard_unfinished(self.storage, tenant, case_number, submission_id)
            if idempotency_key:  # drop our claim: the client's retry starts afresh at once
                keys.release(self.storage, tenant, idempotency_key, submission_id)
            raise
        queue_submission(self.storage, self.jobs, submission)  # BrokerError: the manifest stays
        if idempotency_key:
            keys.remember(self.storage, tenant, idempotency_key, submission_id, QUEUED)
        return submission

    def _store(
        self,
        tenant: str,
        case_number: str,
        submission_id: str,
        documents: Sequence[IncomingDocument],
        channel: str,
        malware_scan: str,
        beat: Callable[[], None],
    ) -> Submission:
        """Every original (``beat()`` after each), then the manifest (no status object:
        "received" is read from it)."""
        requests = tuple(
            DocumentRequest(
                document_id=new_id(),
                document_type=document.document_type,
                files=tuple(
                    self._store_original(tenant, case_number, submission_id, incoming, beat)
                    for incoming in document.files
                ),
                note=document.note,
            )
            for document in documents
        )
        submission = Submission(
            submission_id=submission_id,
            tenant=tenant,
            case_number=case_number,
            received_at=_now(),
            channel=channel,
            documents=requests,
            malware_scan=malware_scan,
        )
        self._put_json(layout.manifest_key(tenant, submission_id), submission.to_json())
        return submission

    def find(self, tenant: str, idempotency_key: str) -> tuple[Submission, bool] | None:
        """The submission first made with this key, and whether this call queued it.

        A *pending* key (the first request stored its manifest but could not queue the job, or
        crashed) is finished here: its submission is queued unless ``intake.json`` says it
        already is, so the client's retry delivers the first upload once instead of a second
        one. ``None``: no key, or its submission never got a manifest (start afresh) or was
        deleted after its retention period.
        """
        try:
            record = keys.read(self.storage, tenant, idempotency_key)
            submission = load_submission(self.storage, tenant, str(record["submission_id"]))
        except (NotFound, ValueError, KeyError, TypeError, InvalidRequest):
            return None  # none, or unreadable: the new request overwrites it
        if record.get("state", QUEUED) == QUEUED:  # records older than the state are final
            return submission, False
        queued = is_queued(self.storage, tenant, submission.submission_id)
        if not queued:
            queue_submission(self.storage, self.jobs, submission)
        keys.remember(self.storage, tenant, idempotency_key, submission.submission_id, QUEUED)
        return submission, not queued

    def status(self, tenant: str, submission_id: str) -> dict[str, Any]:
        """The recorded status; ``received`` while a worker has not written one yet."""
        key = layout.status_key(tenant, submission_id)  # MalformedId (a NotFound) for a bad id
        try:
            return load_json(self.storage, key)
        except NotFound:
            pass
        try:
            submission = load_submission(self.storage, tenant, submission_id)
        except NotFound as exc:
            raise NotFound(f"no submission {submission_id!r}") from exc
        received = status_body(submission, "received")
        received["updated_at"] = submission.received_at
        return received

    def _scan(self, tenant: str, documents: Sequence[IncomingDocument]) -> str:
        """Scan every file (and decrypted copy: clamd cannot see inside an encrypted PDF)
        before anything is stored: ``clean``, ``off`` or ``not_scanned`` (fail open) for it.
        Infected files are moved to quarantine (each one audited and counted) and the whole
        submission is refused: ``MalwareFound``."""
        files = [f for d in documents for f in d.files]
        todo = [(f, f.path) for f in files] + [(f, f.decrypted) for f in files if f.decrypted]
        verdicts = [(f, self.scanner.scan_file(p)) for f, p in todo]
        infected = [(f, v) for f, v in verdicts if v.status == "infected"]
        for incoming, verdict in infected:
            record = quarantine_file(
                self.storage,
                tenant,
                incoming.path,
                sha256=incoming.sha256,
                size=incoming.size,
                media_type=incoming.media_type,
                signature=verdict.signature or "unknown",
            )
            if self.on_malware is not None:
                self.on_malware(tenant)
            log.warning(
                "malware found, file quarantined",
                extra={
                    "tenant": tenant,
                    "quarantine_id": record.quarantine_id,
                    "signature": record.signature,
                },
            )
        if infected:
            names = ", ".join(sorted({v.signature or "unknown" for _, v in infected}))
            raise MalwareFound(f"malware signature found ({names}); the file is quarantined")
        return _summary([v for _, v in verdicts])

    def _store_original(
        self,
        tenant: str,
        case_number: str,
        submission_id: str,
        incoming: IncomingFile,
        beat: Callable[[], None],
    ) -> ReceivedFile:
        file_id = new_id()
        key = layout.original_key(tenant, case_number, submission_id, file_id, incoming.media_type)
        stored = self.storage.adopt_file(
            key, incoming.path, content_type=incoming.media_type, sha256=incoming.sha256
        )
        beat()  # the Idempotency-Key claim is alive while originals are stored
        marker = layout.hash_marker_key(tenant, case_number, stored.sha256)
        duplicate_of = None
        first = {"file_id": file_id, "submission_id": submission_id}
        if not create_json(self.storage, marker, first, ensure_ascii=False):  # atomic
            earlier = get_json(self.storage, marker) or {}  # gone in between: no duplicate
            duplicate_of = earlier.get("file_id")
        decrypted_key = None
        if incoming.decrypted and incoming.decrypted_sha256:  # beside the original, stored too
            decrypted_key = layout.decrypted_key(tenant, case_number, submission_id, file_id)
            self.storage.adopt_file(
                decrypted_key,
                incoming.decrypted,
                content_type="application/pdf",
                sha256=incoming.decrypted_sha256,
            )
        return ReceivedFile(
            file_id=file_id,
            name=incoming.name,
            key=key,
            sha256=stored.sha256,
            size=stored.size,
            media_type=incoming.media_type,
            pages=incoming.pages,
            duplicate_of=duplicate_of,
            decrypted_key=decrypted_key,
            decrypted_sha256=incoming.decrypted_sha256,
            decrypted_size=incoming.decrypted_size,
            redacted_by_applicant=incoming.redacted_by_applicant,
        )

    def _put_json(self, key: str, data: dict[str, Any]) -> None:
        put_json(self.storage, key, data, ensure_ascii=False)


def queue_submission(
    storage: Storage, jobs: JobQueue, submission: Submission, *, now: datetime | None = None
) -> Job:
    """Enqueue a job for ``submission`` (durable on return), then mark it ``queued`` (at
    ``now``: the reconciler passes its own)."""
    job = Job(new_id(), submission.submission_id, submission.tenant, 0)
    jobs.enqueue(job)
    record = {
        "state": QUEUED,
        "case_number": submission.case_number,
        "job_id": job.job_id,
        "queued_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
    put_json(storage, layout.intake_key(submission.tenant, submission.submission_id), record)
    return job


def read_intake(storage: Storage, tenant: str, submission_id: str) -> dict[str, Any] | None:
    """The submission's ``intake.json`` (``state``, ``case_number``, times), or ``None``."""
    try:
        return get_json(storage, layout.intake_key(tenant, submission_id))
    except ValueError:  # unreadable: as if there were none (the reconciler repairs it)
        return None


def is_queued(storage: Storage, tenant: str, submission_id: str) -> bool:
    record = read_intake(storage, tenant, submission_id)
    return record is not None and record.get("state") == QUEUED


def discard_unfinished(storage: Storage, tenant: str, case_number: str, submission_id: str) -> int:
    """Delete what an intake stored before it failed (originals, their hash markers, its
    ``intake.json``) and count them; never raises: the reconciler deletes what is left."""
    deleted = 0
    try:
        for key in storage.list(layout.submission_prefix(tenant, case_number, submission_id)):
            storage.delete(key)
            deleted += 1
        for key in storage.list(f"{layout.case_prefix(tenant, case_number)}hashes/"):
            with contextlib.suppress(NotFound, ValueError):
                if load_json(storage, key).get("submission_id") == submission_id:
                    storage.delete(key)
                    deleted += 1
        storage.delete(layout.intake_key(tenant, submission_id))
    except BriefkastenError:
        pass
    return deleted


def load_submission(storage: Storage, tenant: str, submission_id: str) -> Submission:
    return Submission.from_json(load_json(storage, layout.manifest_key(tenant, submission_id)))


def _summary(verdicts: Sequence[Verdict]) -> str:
    """One value for the submission: ``not_scanned`` if any file was not, ``off`` if the scan
    is off, else ``clean``."""
    statuses = {v.status for v in verdicts}
    return "not_scanned" if "not_scanned" in statuses else "off" if statuses <= {"off"} else "clean"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _nothing() -> None:
    """The heartbeat of an intake without an Idempotency-Key."""

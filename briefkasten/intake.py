"""Receiving a submission: store every original first, then the manifest, then enqueue the job.

The order is the promise made to applicants: once ``receive`` returns, every original is stored
durably with its SHA-256 and a job is queued, so nothing can be lost even if every worker is
down. Re-sent uploads (``Idempotency-Key``) return the first receipt; a file whose SHA-256 the
same case already has is accepted and marked ``duplicate_of``. All methods block (storage is
blocking); the gateway runs them in an executor.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from briefkasten.broker.base import Job, JobQueue
from briefkasten.errors import BriefkastenError, InvalidRequest, NotFound
from briefkasten.model import DocumentRequest, ReceivedFile, Submission
from briefkasten.storage import layout
from briefkasten.storage.base import Storage

#: BG-Nummer (§51a SGB II): five digits (the job center), "BG", seven digits.
CASE_NUMBER = re.compile(r"^[0-9]{5}BG[0-9]{7}$")


@dataclass(frozen=True)
class IncomingFile:
    """A file the gateway has spooled to disk, hashed and sniffed."""

    path: Path
    name: str
    sha256: str
    size: int
    media_type: str
    pages: int


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


class Intake:
    """Stores submissions and queues them for normalisation."""

    def __init__(self, storage: Storage, jobs: JobQueue) -> None:
        self.storage = storage
        self.jobs = jobs

    def receive(
        self,
        tenant: str,
        case_number: str,
        documents: Sequence[IncomingDocument],
        *,
        channel: str = "upload",
        idempotency_key: str | None = None,
    ) -> Submission:
        """Store originals, manifest and status, remember the idempotency key, enqueue."""
        case_number = check_case_number(case_number)
        if not documents or not all(d.files for d in documents):
            raise InvalidRequest("a submission needs at least one document with a file")
        submission_id = new_id()
        requests = self._store_documents(tenant, case_number, submission_id, documents)
        submission = Submission(
            submission_id=submission_id,
            tenant=tenant,
            case_number=case_number,
            received_at=datetime.now(UTC).isoformat(timespec="seconds"),
            channel=channel,
            documents=requests,
        )
        # No status object yet: "received" is read from the manifest (one durable write less).
        try:
            self._put_json(layout.manifest_key(tenant, submission_id), submission.to_json())
        except BaseException:
            self._discard(tenant, case_number, [f for r in requests for f in r.files])
            raise
        if idempotency_key:
            self._put_json(
                layout.idempotency_key(tenant, _key_hash(idempotency_key)),
                {"submission_id": submission_id},
            )
        self.jobs.enqueue(Job(new_id(), submission_id, tenant, 0))
        return submission

    def find(self, tenant: str, idempotency_key: str) -> Submission | None:
        """The submission first made with this key, if any."""
        key = layout.idempotency_key(tenant, _key_hash(idempotency_key))
        if not self.storage.exists(key):
            return None
        submission_id = json.loads(self.storage.get_bytes(key))["submission_id"]
        try:
            return load_submission(self.storage, tenant, submission_id)
        except NotFound:  # deleted after its retention period: the key starts afresh
            return None

    def status(self, tenant: str, submission_id: str) -> dict[str, Any]:
        """The recorded status; ``received`` while a worker has not written one yet."""
        try:
            data: dict[str, Any] = json.loads(
                self.storage.get_bytes(layout.status_key(tenant, submission_id))
            )
        except NotFound:
            try:
                submission = load_submission(self.storage, tenant, submission_id)
            except (NotFound, InvalidRequest) as exc:
                raise NotFound(f"no submission {submission_id!r}") from exc
            received = status_body(submission, "received")
            received["updated_at"] = submission.received_at
            return received
        except InvalidRequest as exc:
            raise NotFound(f"no submission {submission_id!r}") from exc
        return data

    def _store_documents(
        self,
        tenant: str,
        case_number: str,
        submission_id: str,
        documents: Sequence[IncomingDocument],
    ) -> tuple[DocumentRequest, ...]:
        """Store every original; if one fails (a full disk), the ones stored before are removed."""
        stored: list[ReceivedFile] = []
        requests: list[DocumentRequest] = []
        try:
            for document in documents:
                files = []
                for incoming in document.files:
                    files.append(self._store_original(tenant, case_number, submission_id, incoming))
                    stored.append(files[-1])
                requests.append(
                    DocumentRequest(new_id(), document.document_type, tuple(files), document.note)
                )
        except BaseException:
            self._discard(tenant, case_number, stored)
            raise
        return tuple(requests)

    def _discard(self, tenant: str, case_number: str, files: Sequence[ReceivedFile]) -> None:
        """Best effort: remove originals of a failed submission and the duplicate markers they
        wrote (a marker left behind would call a later upload a duplicate of nothing). What
        cannot be removed now is left to the reconciler (originals without a manifest)."""
        for received in files:
            keys = [received.key]
            if received.duplicate_of is None:  # this file wrote the marker
                keys.append(layout.hash_marker_key(tenant, case_number, received.sha256))
            for key in keys:
                with contextlib.suppress(BriefkastenError):
                    self.storage.delete(key)

    def _store_original(
        self, tenant: str, case_number: str, submission_id: str, incoming: IncomingFile
    ) -> ReceivedFile:
        file_id = new_id()
        key = layout.original_key(tenant, case_number, submission_id, file_id, incoming.media_type)
        stored = self.storage.adopt_file(
            key, incoming.path, content_type=incoming.media_type, sha256=incoming.sha256
        )
        marker = layout.hash_marker_key(tenant, case_number, stored.sha256)
        duplicate_of = None
        if self.storage.exists(marker):
            duplicate_of = json.loads(self.storage.get_bytes(marker)).get("file_id")
        else:
            self._put_json(marker, {"file_id": file_id, "submission_id": submission_id})
        return ReceivedFile(
            file_id=file_id,
            name=incoming.name,
            key=key,
            sha256=stored.sha256,
            size=stored.size,
            media_type=incoming.media_type,
            pages=incoming.pages,
            duplicate_of=duplicate_of,
        )

    def _put_json(self, key: str, data: dict[str, Any]) -> None:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self.storage.put_bytes(key, body, content_type="application/json")


def load_submission(storage: Storage, tenant: str, submission_id: str) -> Submission:
    data = json.loads(storage.get_bytes(layout.manifest_key(tenant, submission_id)))
    return Submission.from_json(data)


def write_status(
    storage: Storage,
    submission: Submission,
    status: str,
    documents: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Record the submission's state (processing, delivered, failed) and per document."""
    body = status_body(submission, status, documents)
    storage.put_bytes(
        layout.status_key(submission.tenant, submission.submission_id),
        json.dumps(body, ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
    )


def status_body(
    submission: Submission,
    status: str,
    documents: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    documents = documents or {}
    return {
        "submission_id": submission.submission_id,
        "status": status,
        "received_at": submission.received_at,
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": [
            {
                "document_id": d.document_id,
                "document_type": d.document_type,
                "files": len(d.files),
                "status": status,
                **documents.get(d.document_id, {}),
            }
            for d in submission.documents
        ],
    }


def _key_hash(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()

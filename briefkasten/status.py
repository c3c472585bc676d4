"""The status object of a submission (``T/submissions/S/status.json``): what the applicant's
status page and the case systems' API read.

No object yet means ``received`` (the manifest is there, no worker has written one); a worker
writes ``processing`` (refreshed per document, a heartbeat), ``delivered`` or ``failed``, the
retention ``deleted`` (a tombstone). Each document has its own entry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from briefkasten.model import Submission
from briefkasten.storage import layout
from briefkasten.storage.base import Storage
from briefkasten.storage.records import get_json, put_json


def write_status(
    storage: Storage,
    submission: Submission,
    status: str,
    documents: dict[str, dict[str, Any]] | None = None,
    *,
    reason: str | None = None,
) -> None:
    """Record the submission's state (processing, delivered, failed) and per document;
    ``reason``: an error code (never a message) for ``failed``."""
    body = status_body(submission, status, documents)
    if reason is not None:
        body["reason"] = reason
    key = layout.status_key(submission.tenant, submission.submission_id)
    put_json(storage, key, body, ensure_ascii=False)


def recorded_status(storage: Storage, tenant: str, submission_id: str) -> dict[str, Any] | None:
    """The status object a worker or the retention wrote, or ``None`` (still ``received``)."""
    try:
        return get_json(storage, layout.status_key(tenant, submission_id))
    except ValueError:
        return None


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

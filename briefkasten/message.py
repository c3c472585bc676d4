"""The message for the case systems: one per submission, built from the documents' outcomes.

The shape is the versioned contract in ``briefkasten.contract`` (see ``docs/contract.md``);
every message is validated against it before it is written to the outbox. No document content
and no OCR text travel inline: only where the PDF, text and originals are stored, with hashes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from briefkasten import contract
from briefkasten.broker.base import OutboundMessage
from briefkasten.model import DocumentRequest, ReceivedFile, Split, Submission
from briefkasten.storage.base import StoredObject


@dataclass(frozen=True)
class DocumentOutcome:
    """What became of one document: stored results, or why normalisation failed."""

    document: DocumentRequest
    pdf: StoredObject | None
    text: StoredObject | None
    pages: int
    quality_flags: list[list[str]]
    ocr_confidence: float | None
    pipeline: tuple[str, str] | None
    failure_reason: str | None
    processed_at: str
    #: The languages its pages were read in (Tesseract codes, German first); since 1.2.
    languages: tuple[str, ...] = ()
    #: The type its text suggests (``pipeline.doctype``) and how sure that is; since 1.3.
    suggested_type: str | None = None
    suggested_type_confidence: float | None = None
    #: A page carries a QR code of an upload link of this very case; since 1.3.
    contains_jobcenter_letter: bool = False
    #: Set when this document was split off an uploaded one; since 1.3.
    split_from: Split | None = None

    def status_entry(self) -> dict[str, Any]:
        if self.failure_reason:
            return {"status": "normalisation_failed", "reason": self.failure_reason}
        return {"status": "delivered", "pages": self.pages}

    def to_json(self) -> dict[str, Any]:
        return {
            "pdf": _object(self.pdf),
            "text": _object(self.text),
            "pages": self.pages,
            "quality_flags": self.quality_flags,
            "ocr_confidence": self.ocr_confidence,
            "pipeline": list(self.pipeline) if self.pipeline else None,
            "failure_reason": self.failure_reason,
            "processed_at": self.processed_at,
            "languages": list(self.languages),
            "suggested_type": self.suggested_type,
            "suggested_type_confidence": self.suggested_type_confidence,
            "contains_jobcenter_letter": self.contains_jobcenter_letter,
            "split_from": self.split_from.to_json() if self.split_from else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], document: DocumentRequest) -> DocumentOutcome:
        return cls(
            document=document,
            pdf=StoredObject(**data["pdf"]) if data["pdf"] else None,
            text=StoredObject(**data["text"]) if data["text"] else None,
            pages=data["pages"],
            quality_flags=data["quality_flags"],
            ocr_confidence=data["ocr_confidence"],
            pipeline=tuple(data["pipeline"]) if data["pipeline"] else None,  # type: ignore[arg-type]
            failure_reason=data["failure_reason"],
            processed_at=data["processed_at"],
            languages=tuple(data.get("languages", ())),  # outcomes recorded before 1.2: none
            suggested_type=data.get("suggested_type"),  # before 1.3: none
            suggested_type_confidence=data.get("suggested_type_confidence"),
            contains_jobcenter_letter=data.get("contains_jobcenter_letter", False),
            split_from=Split.from_json(data["split_from"]) if data.get("split_from") else None,
        )


def parts_to_json(parts: Sequence[DocumentOutcome]) -> dict[str, Any]:
    """The outcome record of one uploaded document: the outcomes of the documents it became
    (one, or its parts when it was split), each with its document."""
    return {"parts": [{"document": o.document.to_json(), **o.to_json()} for o in parts]}


def parts_from_json(data: dict[str, Any], uploaded: DocumentRequest) -> list[DocumentOutcome]:
    """``parts_to_json`` read back; a record written before splitting (one outcome, no
    ``parts``) is the outcome of ``uploaded`` itself."""
    if "parts" not in data:
        return [DocumentOutcome.from_json(data, uploaded)]
    return [
        DocumentOutcome.from_json(part, DocumentRequest.from_json(part["document"]))
        for part in data["parts"]
    ]


def status_entry(parts: Sequence[DocumentOutcome]) -> dict[str, Any]:
    """The status of one uploaded document from the outcomes of the documents it became: a
    split one lists its parts (their ids, types, pages)."""
    if len(parts) == 1:
        return parts[0].status_entry()
    return {
        "status": "delivered",
        "pages": sum(o.pages for o in parts),
        "parts": [
            {
                "document_id": o.document.document_id,
                "document_type": o.document.document_type,
                **o.status_entry(),
            }
            for o in parts
        ],
    }


def build_message(
    submission: Submission,
    outcomes: list[DocumentOutcome],
    *,
    bucket: str,
    routing_prefix: str = "",
) -> OutboundMessage:
    """The validated message announcing ``submission`` with its documents' outcomes.

    ``routing_prefix``: the tenant's ``routing_key_prefix`` (empty: the tenant id) as the
    first word of the routing key ``<prefix>.<first document type>``.
    """
    body: dict[str, Any] = {
        "message_id": contract.message_id_for(submission.submission_id),
        "schema_version": contract.SCHEMA_VERSION,
        "tenant": submission.tenant,
        "case_number": submission.case_number,
        "submission_id": submission.submission_id,
        "received_at": submission.received_at,
        "processed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "channel": submission.channel,
        "malware_scan": submission.malware_scan,
        "documents": [_document(o, bucket) for o in outcomes],
    }
    contract.validate(body)
    return OutboundMessage(
        message_id=body["message_id"],
        routing_key=contract.routing_key(
            routing_prefix or submission.tenant, outcomes[0].document.document_type
        ),
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers={"schema_version": contract.SCHEMA_VERSION},
        message_type=contract.MESSAGE_TYPE,
    )


def _document(outcome: DocumentOutcome, bucket: str) -> dict[str, Any]:
    document = outcome.document
    return {
        "document_id": document.document_id,
        "document_type": document.document_type,
        "pages": outcome.pages,
        "pdf": outcome.pdf.to_contract() if outcome.pdf else None,
        "text": outcome.text.to_contract() if outcome.text else None,
        "originals": [_original(f, bucket) for f in document.files],
        "quality_flags": outcome.quality_flags,
        "ocr_confidence": outcome.ocr_confidence,
        "languages": list(outcome.languages),
        "suggested_type": outcome.suggested_type,
        "suggested_type_confidence": outcome.suggested_type_confidence,
        "contains_jobcenter_letter": outcome.contains_jobcenter_letter,
        "redacted_by_applicant": any(f.redacted_by_applicant for f in document.files),
        "split_from": outcome.split_from.to_json() if outcome.split_from else None,
        "pipeline": (
            {"name": outcome.pipeline[0], "version": outcome.pipeline[1]}
            if outcome.pipeline
            else None
        ),
        "normalisation_failed": outcome.failure_reason is not None,
        "failure_reason": outcome.failure_reason,
    }


def _original(received: ReceivedFile, bucket: str) -> dict[str, Any]:
    decrypted = None
    if received.decrypted_key is not None:
        decrypted = {
            "bucket": bucket,
            "key": received.decrypted_key,
            "sha256": received.decrypted_sha256,
            "size": received.decrypted_size,
        }
    return {
        "name": received.name,
        "media_type": received.media_type,
        "bucket": bucket,
        "key": received.key,
        "sha256": received.sha256,
        "size": received.size,
        "duplicate_of": received.duplicate_of,
        "password_protected": received.decrypted_key is not None,
        "decrypted": decrypted,
    }


def _object(stored: StoredObject | None) -> dict[str, Any] | None:
    if stored is None:
        return None
    return {
        "bucket": stored.bucket,
        "key": stored.key,
        "sha256": stored.sha256,
        "size": stored.size,
        "content_type": stored.content_type,
    }
